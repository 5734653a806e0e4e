"""Checkpoints are data, not code; appended, not rewritten; and resumed only as saved."""

from __future__ import annotations

import collections
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from benchsim.errors import BenchsimError, ConfigError
from benchsim.runner import RunConfig, RunInterrupted, execute_run, resume_run
from benchsim.runner._state_codec import CodecError, decode, encode
from benchsim.spaces import get_space


class _Owner:  # not a benchsim class: refused
    pass


def test_the_codec_round_trips_plain_data_numpy_and_shared_objects():
    arrays = [np.arange(3.0), np.array([1, 2], dtype=np.int16)]
    generator = np.random.default_rng(4)
    generator.random(3)
    state = {
        "arrays": arrays,
        "optimiser": {"params": arrays},  # the same arrays, shared as an optimiser shares them
        "rng": generator,
        "again": generator,
        "tuple": (1, 2.5, float("nan"), "x"),
        "set": {3, 1},
        "deque": collections.deque([1, 2], maxlen=5),
        "queues": collections.defaultdict(collections.deque, {7: collections.deque([1])}),
        "keys": {(1, 2): "pair", 3: None},
        "scalar": np.float32(1.5),
        "space": get_space("nb201"),
        "config": RunConfig(algo="rs", seed=3),
    }
    value, stored = encode(state)
    json.dumps(value, allow_nan=True)  # plain JSON
    back = decode(json.loads(json.dumps(value, allow_nan=True)), stored)
    assert back["optimiser"]["params"][0] is back["arrays"][0]  # still shared
    back["arrays"][0] += 1
    assert back["optimiser"]["params"][0][0] == 1.0
    assert back["rng"] is back["again"] and back["rng"].random() == generator.random()
    assert back["tuple"][:2] == (1, 2.5) and np.isnan(back["tuple"][2])
    assert back["set"] == {1, 3} and back["deque"].maxlen == 5
    assert back["queues"][7] == collections.deque([1]) and back["queues"][8] == collections.deque()
    assert back["keys"] == {(1, 2): "pair", 3: None}
    assert back["scalar"].dtype == np.float32 and back["space"] is get_space("nb201")
    assert back["config"] == RunConfig(algo="rs", seed=3)
    with pytest.raises(CodecError, match=r"state\['x'\]: .*_Owner is not a benchsim class"):
        encode({"x": _Owner()})
    with pytest.raises(CodecError, match="dtype object"):
        encode(np.array([object()]))


@pytest.mark.parametrize(
    "tampered",
    [
        {"__object__": "os:system", "state": {}},
        {"__object__": "builtins:eval", "state": {}},
        {"__generator__": "Random", "state": {"__dict__": []}},
        {"__tag__": 1},
    ],
)
def test_a_tampered_state_can_name_nothing_outside_benchsim(tampered):
    with pytest.raises(CodecError):
        decode(tampered, {})


def _interrupted(tmp_path: Path, config: RunConfig, after: int = 30) -> Path:
    out = tmp_path / "run"
    with pytest.raises(RunInterrupted):
        execute_run(config, out, stop_after=after)
    return out


def test_the_checkpoint_is_json_npz_and_parquet_parts(installed_home, tmp_path):
    config = RunConfig(algo="rea", tasks=("cifar10",), budget="60", seed=1)
    whole = execute_run(config)
    out = tmp_path / "run"
    with pytest.raises(RunInterrupted):
        execute_run(config, out, stop_after=25, checkpoint_every=0.0)  # a save per result
    files = sorted(p.name for p in (out / "checkpoint").iterdir())
    assert "SHA256SUMS" in files and sum(f.endswith(".npz") for f in files) == 1
    assert sum(f.startswith("state-") and f.endswith(".json") for f in files) == 1
    parts = [f for f in files if f.startswith("trajectory-")]
    assert len(parts) == 25  # one part of new rows per save: the history is never rewritten
    for name in files:
        data = (out / "checkpoint" / name).read_bytes()
        assert b"\x80\x04" not in data[:2] and not name.endswith(".pkl")
    resumed = execute_run(config, out, resume=True)
    assert resumed.trajectory.to_pandas().equals(whole.trajectory.to_pandas())
    assert not (out / "checkpoint").exists()


def test_a_legacy_pickle_checkpoint_is_refused_without_being_loaded(installed_home, tmp_path):
    """--resume on a folder someone sent you could execute arbitrary code."""
    out = tmp_path / "run"
    out.mkdir()
    witness = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (witness,))

    (out / "checkpoint.pkl").write_bytes(pickle.dumps(Payload()))
    (out / "config.json").write_text(json.dumps(RunConfig(algo="rs").to_dict()))
    with pytest.raises(ConfigError, match="a pickle, which benchsim no longer loads"):
        resume_run(out)
    assert not witness.exists()


def test_resume_refuses_a_hand_edited_config(installed_home, tmp_path):
    """--resume used to overwrite an edited config.json silently and run the old config."""
    config = RunConfig(algo="rea", tasks=("cifar10",), budget="60", seed=1)
    out = _interrupted(tmp_path, config)
    path = out / "config.json"
    saved = json.loads(path.read_text())
    saved["params"]["population_size"] = 30
    path.write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match=r"was edited: params is .*the checkpoint runs") as exc:
        resume_run(out)
    assert "\n" not in str(exc.value)


def test_a_run_killed_before_its_first_checkpoint_resumes_from_its_config(installed_home, tmp_path):
    """Such a folder used to be refused by --resume ("no checkpoint") and by a rerun."""
    config = RunConfig(algo="rea", tasks=("cifar10",), budget="40", seed=2)
    whole = execute_run(config)
    out = _interrupted(tmp_path, config)
    import shutil

    shutil.rmtree(out / "checkpoint")  # as if killed before the first save
    with pytest.raises(ConfigError, match="stopped before its first checkpoint; start it again"):
        execute_run(config, out)
    resumed = resume_run(out)
    assert resumed.trajectory.to_pandas().equals(whole.trajectory.to_pandas())


def _flip_middle(path: Path) -> None:
    """Flip 64 bytes in the middle of ``path`` (the issue's damage)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


def _one(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def _edit_now(folder: Path) -> Path:
    """Change one digit of the simulated clock in the state file (still valid JSON)."""
    path = _one(folder, "state-*.json")
    text = path.read_text()
    at = text.index('"_now": ') + len('"_now": ')
    digit = str((int(text[at]) + 1) % 10)
    path.write_text(text[:at] + digit + text[at + 1 :])
    return path


DAMAGES = {
    "flipped trajectory part": lambda f: (
        _flip_middle(f / "trajectory-000001.parquet") or f / "trajectory-000001.parquet"
    ),
    "edited state": _edit_now,
    "flipped arrays": lambda f: _flip_middle(_one(f, "arrays-*.npz")) or _one(f, "arrays-*.npz"),
    "deleted part": lambda f: (
        (f / "trajectory-000002.parquet").unlink() or f / "trajectory-000002.parquet"
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_or_edited_checkpoint_is_refused_before_anything_is_written(
    installed_home, tmp_path, one_line, damage
):
    """A damaged checkpoint used to be resumed silently: 64 flipped bytes in a part came back
    as end times of 1e97, an edited clock as another search, a damaged .npz as a raw
    BadZipFile."""
    config = RunConfig(algo="rea", tasks=("cifar10",), budget="60", seed=1)
    out = tmp_path / "run"
    with pytest.raises(RunInterrupted):
        execute_run(config, out, stop_after=25, checkpoint_every=0.0)  # a part per result
    damaged = DAMAGES[damage](out / "checkpoint")
    before = {p.name: p.read_bytes() for p in (out / "checkpoint").iterdir()}
    config_json = (out / "config.json").read_bytes()
    with pytest.raises(BenchsimError) as refused:
        resume_run(out)
    message = one_line(refused)
    assert type(refused.value).__name__ == "CheckpointError"
    assert str(damaged) in message
    assert ("does not match its SHA-256" in message) or ("is missing" in message)
    assert f"benchsim run --resume {out}" in message and "config.json" in message
    assert refused.value.exit_code == 1
    assert {p.name for p in out.iterdir()} == {"config.json", "checkpoint"}  # no results
    assert {p.name: p.read_bytes() for p in (out / "checkpoint").iterdir()} == before
    assert (out / "config.json").read_bytes() == config_json


def test_the_manifest_lists_every_file_and_a_save_killed_before_it_changes_nothing(
    installed_home, tmp_path
):
    """SHA256SUMS is written last: files a killed save wrote before it are not part of the
    checkpoint (the resumed run ends as an uninterrupted one), and a first save killed before
    it leaves no checkpoint (the run starts again from config.json)."""
    import hashlib

    config = RunConfig(algo="rea", tasks=("cifar10",), budget="60", seed=1)
    whole = execute_run(config).trajectory
    out = _interrupted(tmp_path, config, after=20)
    folder = out / "checkpoint"
    listed = dict(
        reversed(line.split("  ")) for line in (folder / "SHA256SUMS").read_text().splitlines()
    )
    assert set(listed) == {p.name for p in folder.iterdir()} - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    # what a save killed before its manifest leaves: new files no manifest lists
    (folder / "trajectory-000002.parquet").write_bytes(b"half a part")
    (folder / "state-000009-1.json").write_text("{")
    (folder / "arrays-000009-1.npz").write_bytes(b"PK")
    resumed = resume_run(out)
    assert resumed.trajectory.equals(whole)

    first = _interrupted(tmp_path / "first", config, after=20)
    (first / "checkpoint" / "SHA256SUMS").unlink()  # killed during its first save
    again = resume_run(first)
    assert again.trajectory.equals(whole)


def test_a_checkpoint_without_checksums_is_refused(installed_home, tmp_path, one_line):
    """A checkpoint of the format before SHA256SUMS (state.json) cannot be verified."""
    config = RunConfig(algo="rea", tasks=("cifar10",), budget="60", seed=1)
    out = _interrupted(tmp_path, config)
    folder = out / "checkpoint"
    _one(folder, "state-*.json").rename(folder / "state.json")
    (folder / "SHA256SUMS").unlink()
    with pytest.raises(ConfigError) as refused:
        resume_run(out)
    message = one_line(refused)
    assert "has no SHA256SUMS" in message and "cannot be verified" in message
    assert not (out / "trajectory.parquet").exists()
