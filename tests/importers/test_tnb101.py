"""TransNAS-Bench-101 ``.pth`` importer.

The official ``transnas-bench_v10141024.pth`` is not available offline, so the file here is
written in its layout (``api/api.py`` of yawen-d/TransNASBench) from REAL values: each
metric's curve peaks exactly at the reference CSV's 'best' value (NASGraph's export of the
official API's mode 'best') and ``time_elapsed`` is cumulative, ending on the reference time.
Importing must give those values back in ``final`` and the curves in ``epochs``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchsim.catalog import CATALOG
from benchsim.errors import DataError, UnknownNameError
from benchsim.importers import read_tnb101_pth
from benchsim.spaces import get_space

torch = pytest.importorskip("torch")

TASKS = tuple(CATALOG["tnb101-micro"])
ROWS = {"tnb101-macro": (0, 1, 2000), "tnb101-micro": (3256, 3257, 5000, 7351)}
"""Reference rows used: macro rows come first in the NASGraph files, then micro."""
_LOSSES = {  # losses the official file records besides the catalog metrics (not imported)
    "room_layout": ("train_loss", "valid_loss", "test_loss"),
    "autoencoder": ("train_l1_loss", "valid_l1_loss", "test_l1_loss"),
    "normal": ("train_l1_loss", "valid_l1_loss", "test_l1_loss"),
}


def _hms(seconds: float) -> str:
    hours, rem = divmod(int(seconds), 3600)
    return f"{hours:02d}:{rem // 60:02d}:{rem % 60:02d}"


def _curve(best: float, epochs: int, peak: int) -> list[float]:
    """Values below ``best`` except at epoch ``peak`` (works for negative losses too)."""
    return [best - abs(best) * 0.02 * abs(e - peak) - (e != peak) * 1e-3 for e in range(epochs)]


@pytest.fixture(scope="module")
def reference(reference_dir) -> dict[str, pd.DataFrame]:
    folder = reference_dir / "tnb101"
    return {t: pd.read_csv(folder / f"tnb101_{t}_all7352_bestmode_nasgraph.csv") for t in TASKS}


@pytest.fixture(scope="module")
def curves(reference) -> dict[tuple[str, str], dict[str, list]]:
    """``{(arch_str, task): {metric: curve}}`` for the chosen reference rows."""
    out = {}
    for rows in ROWS.values():
        for k, row in enumerate(rows):
            for t, (task, frame) in enumerate(reference.items()):
                ref = frame.iloc[row]
                epochs = CATALOG["tnb101-micro"][task].epochs
                peak = (k + t) % epochs
                metrics = {
                    m: _curve(ref[m], epochs, peak)
                    for m in CATALOG["tnb101-micro"][task].metrics
                    if m in ref
                }
                for loss in _LOSSES.get(task, ("train_loss", "valid_loss", "test_loss")):
                    metrics[loss] = [1.0 + e for e in range(epochs)]
                total = float(ref["time_elapsed"])
                times = [round(total * (e + 1) / epochs) for e in range(epochs)]
                metrics["time_elapsed"] = [_hms(s) for s in times] if t % 2 else times
                out[(ref["arch_str"], task)] = metrics
    return out


@pytest.fixture(scope="module")
def tnb_pth(tmp_path_factory, curves) -> str:
    data: dict = {"micro": {}, "macro": {}}
    for (arch, task), metrics in curves.items():
        space = "macro" if arch.endswith("-basic") else "micro"
        data[space].setdefault(arch, {})[task] = {
            "metrics": metrics,
            "model_info": {"inference_time": 0.01, "model_params": 1e6, "model_FLOPs": 1e9},
            "total_epochs": len(metrics["time_elapsed"]),
        }
    database = {
        "metrics_dict": {task: list(ms) for (_, task), ms in curves.items()},
        "info_names": ["inference_time", "model_params", "model_FLOPs"],
        "task_list": list(TASKS),
        "data": data,
    }
    path = tmp_path_factory.mktemp("tnb") / "transnas-bench_v10141024.pth"
    torch.save(database, path)
    return path


@pytest.mark.parametrize("space", ["tnb101-micro", "tnb101-macro"])
def test_best_mode_reproduces_reference(space, tnb_pth, reference):
    tables = read_tnb101_pth(tnb_pth, space=space, progress=False)
    final = tables["final"]
    size = get_space(space).size
    assert len(final) == len(TASKS) * size
    assert (final["benchmark"] == f"{space}-pth").all()
    indexed = final.set_index(["task", "arch_index"])
    present = set()
    for row in ROWS[space]:
        for task, frame in reference.items():
            ref = frame.iloc[row]
            index = get_space(space).parse(ref["arch_str"])
            present.add(index)
            got = indexed.loc[(task, index)]
            assert got["arch_str"] == ref["arch_str"]
            for metric in CATALOG[space][task].metrics:
                if metric in ref:
                    assert got[metric] == pytest.approx(ref[metric], rel=1e-12), (task, metric)
            assert got["train_time_s"] == pytest.approx(ref["time_elapsed"])
            assert np.isnan(got["naslib_valid"]) and np.isnan(got["zen_score"])
    recorded = final.loc[final["train_time_s"].notna(), "arch_index"]
    assert set(recorded) == present  # every other architecture is a NaN row
    assert len(tables["seeds"]) == 0  # TNB101 records no per-seed metrics


def test_epochs_hold_every_epoch(tnb_pth, curves):
    tables = read_tnb101_pth(tnb_pth, space="tnb101-micro", progress=False)
    e = tables["epochs"]
    space = get_space("tnb101-micro")
    for (arch, task), metrics in curves.items():
        if arch.endswith("-basic"):
            continue
        rows = e[(e["task"] == task) & (e["arch_index"] == space.parse(arch))]
        epochs = CATALOG["tnb101-micro"][task].epochs
        assert sorted(rows["seed"].unique()) == [-1, 0]
        assert set(rows["schedule"]) == {epochs}
        for seed in (-1, 0):
            run = rows[rows["seed"] == seed].sort_values("epoch")
            assert run["epoch"].tolist() == list(range(epochs))
            for metric in CATALOG["tnb101-micro"][task].metrics:
                if metric in metrics:
                    np.testing.assert_array_equal(run[metric].to_numpy(), metrics[metric])
            time = run["train_time_s"].to_numpy()
            assert (np.diff(time) > 0).all()
            assert time[-1] == pytest.approx(run["train_time_s"].max())
    assert "train_loss" not in e.columns  # losses are not catalog metrics


def _error(path, space="tnb101-micro") -> str:
    with pytest.raises(DataError) as excinfo:
        read_tnb101_pth(path, space=space, progress=False)
    text = str(excinfo.value)
    assert "\n" not in text and str(path) in text
    return text


def test_bad_input(tnb_pth, tmp_path):
    with pytest.raises(UnknownNameError, match="tnb101-micro, tnb101-macro"):
        read_tnb101_pth(tnb_pth, space="nb201", progress=False)
    assert "does not exist" in _error(tmp_path / "none.pth")
    nb201 = tmp_path / "nb201.pth"
    torch.save({"meta_archs": [], "arch2infos": {}, "evaluated_indexes": []}, nb201)
    assert "use kind nb201-pth" in _error(nb201)
    no_space = tmp_path / "macro_only.pth"
    torch.save({"data": {"macro": {}}}, no_space)
    assert "no 'micro' space" in _error(no_space)
    bad_arch = tmp_path / "bad_arch.pth"
    torch.save({"data": {"micro": {"64-41414-9_99_999": {}}}}, bad_arch)
    assert "'64-41414-9_99_999' is not a tnb101-micro architecture" in _error(bad_arch)
    bad_value = tmp_path / "bad_value.pth"
    record = {"jigsaw": {"metrics": {"valid_top1": [1.0, "n/a"]}, "total_epochs": 2}}
    torch.save({"data": {"micro": {"64-41414-0_00_000": record}}}, bad_value)
    assert "holds 'n/a', expected a number" in _error(bad_value)
    no_metrics = tmp_path / "no_metrics.pth"
    torch.save({"data": {"micro": {"64-41414-0_00_000": {"jigsaw": {}}}}}, no_metrics)
    assert "has no 'metrics' dict" in _error(no_metrics)


def test_short_curves_and_time_strings(tmp_path):
    # total_epochs beyond the recorded lists: the schedule says 5, epochs 3-4 are not recorded
    record = {
        "metrics": {"valid_top1": [10.0, 30.0, 20.0], "time_elapsed": ["00:01:40", "[00:03:20]"]},
        "total_epochs": 5,
    }
    path = tmp_path / "short.pth"
    torch.save({"data": {"micro": {"64-41414-0_00_000": {"class_scene": record}}}}, path)
    tables = read_tnb101_pth(path, space="tnb101-micro", progress=False)
    e = tables["epochs"]
    assert set(e["schedule"]) == {5} and e["epoch"].tolist() == [0, 1, 2, 0, 1, 2]
    time = e["train_time_s"].to_numpy()[:3]
    assert time[:2].tolist() == [100.0, 200.0] and np.isnan(time[2])
    row = tables["final"].iloc[0]
    assert (row["task"], row["arch_index"], row["valid_top1"], row["train_time_s"]) == (
        "class_scene",
        0,
        30.0,
        200.0,
    )
