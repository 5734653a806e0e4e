"""Checkpoints are data, not code; appended, not rewritten; and resumed only as saved."""

from __future__ import annotations

import collections
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from benchsim.errors import ConfigError
from benchsim.runner import RunConfig, RunInterrupted, execute_run
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
    assert "state.json" in files and sum(f.endswith(".npz") for f in files) == 1
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
        execute_run(None, out, resume=True)  # type: ignore[arg-type]
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
        execute_run(None, out, resume=True)  # type: ignore[arg-type]
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
    resumed = execute_run(None, out, resume=True)  # type: ignore[arg-type]
    assert resumed.trajectory.to_pandas().equals(whole.trajectory.to_pandas())
