"""The reproducibility gate: the golden runs reproduce, and a drift is caught and located."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from benchsim.algorithms import Evaluate
from benchsim.algorithms.random_search import RandomSearch
from benchsim.cli import main
from benchsim.sweep._repro import REPRO_SET, default_golden, regenerate, trajectory_digest, verify


def test_golden_runs_reproduce_on_a_clean_tree(installed_home):
    checks = verify()
    assert {c.run for c in checks} == set(REPRO_SET)
    assert all(c.status == "ok" for c in checks), [c.message for c in checks if c.status != "ok"]
    golden = json.loads(default_golden().read_text())
    # small enough to review in a diff: about 10 kB a run (the rows are capped), 16 runs now
    assert default_golden().stat().st_size < 160_000
    assert {r["config"]["algo"] for r in golden["runs"].values()} >= {"rs", "rea", "emtnas"}


def test_the_golden_set_covers_every_registered_algorithm():
    """A new algorithm is not reproducible until it has a golden run: this fails until then."""
    from benchsim.algorithms import available

    assert {config["algo"] for config in REPRO_SET.values()} == set(available())


def _drift_after(monkeypatch, n):
    """From the n-th ask on, random search proposes a different architecture."""
    real = RandomSearch.ask

    def ask(self):
        job = real(self)
        self.asked_ = getattr(self, "asked_", 0) + 1
        if self.asked_ > n:
            return Evaluate(task=job.task, arch=(job.arch + 1) % self.problem_.space.size)
        return job

    real_many = RandomSearch.ask_many

    def ask_many(self, limit):  # the same drift in the batches a table run asks
        batch = real_many(self, limit)
        if isinstance(batch, str):
            return batch
        task, archs = batch
        first = getattr(self, "asked_", 0)
        self.asked_ = first + archs.size
        drifted = np.arange(first, first + archs.size) >= n  # the (n + 1)-th ask on
        return task, np.where(drifted, (archs + 1) % self.problem_.space.size, archs)

    monkeypatch.setattr(RandomSearch, "ask", ask)
    monkeypatch.setattr(RandomSearch, "ask_many", ask_many)


def test_an_injected_drift_is_located(installed_home, monkeypatch):
    _drift_after(monkeypatch, 5)
    (check,) = verify(only=("rs-nb201",))
    assert check.status == "drift"
    assert "rs-nb201: trajectories diverge at step 5 of 24 golden rows" in check.message
    assert "golden [step=5" in check.message and "now [step=5" in check.message


def test_cli_exits_1_on_drift_and_0_when_clean(installed_home, monkeypatch):
    ok = CliRunner().invoke(main, ["verify-repro", "--run", "rs-tnb101-micro"])
    assert ok.exit_code == 0, ok.output
    assert "all 1 golden runs reproduce exactly" in ok.output
    _drift_after(monkeypatch, 3)
    bad = CliRunner().invoke(
        main, ["verify-repro", "--run", "rs-tnb101-micro", "--run", "rea-nb201-2workers"]
    )
    assert bad.exit_code == 1, bad.output
    assert (
        "Error: 1 of 2 golden runs drifted; first: rs-tnb101-micro: trajectories diverge at step 3"
        in bad.output
    )
    unknown = CliRunner().invoke(main, ["verify-repro", "--run", "nope"])
    assert unknown.exit_code == 2 and "unknown golden run(s) nope" in unknown.output


def test_regenerate_writes_a_file_that_verifies(installed_home, tmp_path, monkeypatch):
    path = tmp_path / "golden.json"
    res = CliRunner().invoke(main, ["verify-repro", "--regenerate", "--golden", str(path)])
    assert res.exit_code == 0, res.output
    assert json.loads(path.read_text())["runs"].keys() == REPRO_SET.keys()
    assert all(c.status == "ok" for c in verify(path, only=("ppo-nb201", "ktnas-nb201")))
    # a deliberate change regenerated on purpose becomes the new reference
    _drift_after(monkeypatch, 0)
    regenerate(path)
    assert verify(path, only=("rs-nb201",))[0].status == "ok"
    missing = CliRunner().invoke(main, ["verify-repro", "--golden", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_digest_is_of_values_not_parquet_bytes(installed_home, tmp_path):
    from benchsim.runner import RunConfig, execute_run

    table = execute_run(RunConfig(algo="rs", tasks=("cifar10",), budget="6")).trajectory
    pq.write_table(table, tmp_path / "a.parquet", compression="zstd")
    pq.write_table(table, tmp_path / "b.parquet", compression="none", use_dictionary=False)
    assert (tmp_path / "a.parquet").read_bytes() != (tmp_path / "b.parquet").read_bytes()
    a = trajectory_digest(pq.read_table(tmp_path / "a.parquet"))[0]
    b = trajectory_digest(pq.read_table(tmp_path / "b.parquet"))[0]
    assert a == b
    # a last-bit float difference is not drift; a real change of a value is
    values = table.column("value").to_numpy()
    nudged = table.set_column(
        table.schema.get_field_index("value"), "value", pa.array(values * (1 + 1e-15))
    )
    assert trajectory_digest(nudged)[0] == a
    changed = table.set_column(
        table.schema.get_field_index("value"), "value", pa.array(values + 0.01)
    )
    assert trajectory_digest(changed)[0] != a
