"""The packaged supernet model: fitted from the data, and the pieces it is made of."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import kendalltau

import benchsim
from benchsim.backends.table._ws_curve import anchored_scale, fit_curve, training_fraction
from benchsim.backends.table._ws_fit import fit_supernet, gene_features, normal_scores
from benchsim.backends.table._ws_model import (
    model_file,
    modelled_estimate,
    space_genes,
    structured_error,
    supernet_fit,
)
from benchsim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


def _close(ours: object, packaged: object, where: str) -> None:
    if isinstance(ours, dict):
        assert isinstance(packaged, dict) and set(ours) <= set(packaged), where
        for key, value in ours.items():
            _close(value, packaged[key], f"{where}.{key}")
    else:
        np.testing.assert_allclose(ours, packaged, rtol=1e-9, atol=1e-12, err_msg=where)


def test_the_packaged_fit_is_the_fit_of_the_installed_recorded_supernets(installed_home):
    bench = benchsim.benchmark("nb201")
    archs = np.arange(bench.space.size)
    truth = bench.query_many(archs, "cifar10", "valid_acc").values
    genes = space_genes(bench.space)
    packaged = model_file()["estimators"]
    for name, column in (("oneshot", "oneshot_acc"), ("fewshot", "fewshot_acc")):
        estimate = bench.query_many(archs, "cifar10", column).values
        fitted = fit_supernet(estimate, truth, genes, bench.space.decisions)
        assert packaged[name]["column"] == column
        _close(fitted, packaged[name], name)


def test_the_packaged_training_curve_is_the_committed_measurements():
    """Shapes from the live backend's CPU measurement, scales through the published anchor."""
    training = model_file()["training"]
    measured = json.loads((ROOT / training["shapes"]["results"]).read_text())
    anchors = json.loads((ROOT / training["anchor"]["file"]).read_text())
    assert training["rank_shape"] == measured["fit"]["rank_shape"]
    assert training["level_shape"] == measured["fit"]["level_shape"]
    assert training["level_start"] == measured["fit"]["level_start"]
    anchor = anchors["anchor"]
    rank = training_fraction(anchor["steps"], training["rank_scale"], 0.0, training["rank_shape"])
    level = training_fraction(
        anchor["steps"], training["level_scale"], training["level_start"], training["level_shape"]
    )
    assert rank == pytest.approx(anchor["rank_fraction"], abs=1e-12)
    assert level == pytest.approx(anchor["level_fraction"], abs=1e-12)
    # the anchor is what the listed files say: the 50-epoch supernets against the references
    files = {f["file"]: f for f in anchors["files"]}
    ratios = [
        files[f"seed-0-last5064_{s}"]["tau"]
        / next(f["tau"] for f in anchors["files"] if f.get("reference") and f["file"].endswith(s))
        for s in ("1", "3")
    ]
    assert np.mean(ratios) == pytest.approx(anchor["rank_fraction"], abs=5e-4)
    assert training["batch_size"] == 128


def test_training_fraction_runs_from_start_to_one_and_never_falls():
    steps = np.linspace(0, 2_000_000, 101)
    for scale in (500.0, 16_000.0, 60_000.0):
        for k in (0.5, 1.0, 5.0):
            y = training_fraction(steps, scale, 0.1, k)
            assert y[0] == pytest.approx(0.1) and (np.diff(y) >= 0).all()
            assert y[-1] == pytest.approx(1.0, abs=0.02)
    assert training_fraction(-5.0, 100.0) == 0.0
    scale = anchored_scale(19_550, 0.93, 5.0)
    assert training_fraction(19_550, scale, 0.0, 5.0) == pytest.approx(0.93)
    with pytest.raises(ValueError, match="start < fraction < 1"):
        anchored_scale(100, 1.0, 2.0)
    x = np.linspace(0, 1, 101)  # the live measurement's fit: a run that ends converged
    true = 0.05 + 0.95 * (-np.expm1(-((x / 0.17) ** 3)) / -np.expm1(-((1 / 0.17) ** 3)))
    s, k = fit_curve(x, true, 0.05)
    assert s == pytest.approx(0.17, rel=0.03) and k == 3.0


def test_normal_scores_keep_ties_and_nan():
    scores = normal_scores(np.array([3.0, 1.0, 3.0, np.nan, 2.0]))
    assert np.isnan(scores[3]) and scores[0] == scores[2] and scores[1] < scores[4] < scores[0]


def test_structured_error_shares_its_variance_as_asked(installed_home):
    space = benchsim.benchmark("tnb101-micro").space
    genes = space_genes(space)
    fit = supernet_fit("oneshot")
    error = structured_error(genes, space.decisions, fit, 0.6, np.random.default_rng(0))
    assert error.std() == pytest.approx(1.0, rel=0.05)
    design = np.concatenate(
        [gene_features(genes, space.decisions, False), gene_features(genes, space.decisions, True)],
        axis=1,
    )
    beta, *_ = np.linalg.lstsq(design, error, rcond=None)
    explained = (design @ beta).var() / error.var()
    assert explained == pytest.approx(0.6, abs=0.05)  # what operations explain
    independent = structured_error(genes, space.decisions, fit, 0.0, np.random.default_rng(0))
    beta, *_ = np.linalg.lstsq(design, independent, rcond=None)
    assert (design @ beta).var() / independent.var() < 0.05  # only chance fits it


def test_modelled_estimate_reaches_its_target_or_names_the_range(installed_home):
    bench = benchsim.benchmark("tnb101-micro")
    truth = bench.query_many(np.arange(bench.space.size), "jigsaw", "valid_top1").values
    genes, fit = space_genes(bench.space), supernet_fit("fewshot")
    kw = {"structure": fit.structure, "task": "jigsaw"}
    model = modelled_estimate(
        truth, genes, bench.space.decisions, fit, target_tau=0.7, rng=np.random.default_rng(1), **kw
    )
    assert kendalltau(model.values, truth).statistic == pytest.approx(0.7, abs=0.01)
    assert model.values.min() >= truth.min() and model.values.max() <= truth.max()
    with pytest.raises(ConfigError, match=r"ws_tau == 1.0 cannot be reached on task jigsaw"):
        modelled_estimate(
            truth,
            genes,
            bench.space.decisions,
            fit,
            target_tau=1.0,
            rng=np.random.default_rng(1),
            **kw,
        )
