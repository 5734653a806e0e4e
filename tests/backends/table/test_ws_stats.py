"""The numpy ranks, Kendall tau and root finder give scipy's numbers to the last bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri
from scipy.stats import kendalltau, rankdata

from benchsim.backends.table._ws_stats import (
    average_ranks,
    brent_root,
    kendall_tau,
    normal_cdf,
    normal_quantile,
    ordinal_ranks,
    stable_order,
)


def _samples():
    rng = np.random.default_rng(7)
    for n in (2, 3, 5, 40, 1000, 15625):
        for levels in (2, 7, n):  # heavy ties, some ties, (almost) none
            yield (
                rng.integers(0, levels, n).astype(float),
                rng.integers(0, max(2, levels // 2), n).astype(float),
            )
        yield rng.standard_normal(n), np.round(rng.standard_normal(n), 1)


@pytest.mark.parametrize(("x", "y"), list(_samples()))
def test_ranks_and_tau_are_scipys(x, y):
    assert np.array_equal(average_ranks(x), rankdata(x))
    assert np.array_equal(ordinal_ranks(x), rankdata(x, method="ordinal"))
    assert np.array_equal(stable_order(x), np.argsort(x, kind="stable"))
    ours, theirs = kendall_tau(x, y), kendalltau(x, y).statistic
    assert (math.isnan(ours) and math.isnan(theirs)) or ours == theirs


def test_tau_of_degenerate_input_is_nan():
    assert math.isnan(kendall_tau([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    assert math.isnan(kendall_tau([1.0, np.nan, 3.0], [1.0, 2.0, 3.0]))
    assert math.isnan(kendall_tau([1.0], [2.0]))
    assert kendall_tau([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == -1.0
    with pytest.raises(ValueError, match="one length"):
        kendall_tau([1.0, 2.0], [1.0])


def test_brent_root_takes_scipys_steps():
    """Smooth, kinked and step functions (the model's tau is a step function of t)."""
    rng = np.random.default_rng(3)
    for _ in range(300):
        a, b, c, jump = rng.standard_normal(4)

        def f(t, a=a, b=b, c=c, jump=jump):
            return math.tanh(a * (t - b)) + 0.3 * c * math.sin(5 * t) + 0.5 * (t > jump)

        for xtol in (1e-3, 2e-12):
            try:
                expected = brentq(f, -5.0, 5.0, xtol=xtol)
            except ValueError:
                with pytest.raises(ValueError, match="same sign"):
                    brent_root(f, -5.0, 5.0, xtol=xtol)
                continue
            assert brent_root(f, -5.0, 5.0, xtol=xtol) == expected


def test_the_normal_distribution_is_scipys_to_a_few_units_in_the_last_place():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(20_000) * 3, np.linspace(-37, 8, 2000)])
    np.testing.assert_allclose(normal_cdf(x), ndtr(x), rtol=1e-13, atol=0)
    assert normal_cdf(x.reshape(2, -1)).shape == (2, x.size // 2)
    n = 15_625
    p = (np.arange(1, 2 * n + 1) / 2 - 0.5) / n  # every normal score a table can ask for
    p = p[(p > 0) & (p < 1)]
    np.testing.assert_allclose(normal_quantile(p), ndtri(p), rtol=1e-13, atol=1e-15)
    ends = normal_quantile(np.array([0.0, 1.0, -0.5, 1.5, np.nan]))
    assert ends[0] == -np.inf and ends[1] == np.inf and np.isnan(ends[2:]).all()


def test_the_emulation_imports_no_scipy(installed_home, fresh_python):
    """A modelled estimate (cifar100 has no recorded supernet) and a partly trained supernet's
    answers without scipy: its stats, optimize and special modules cost about half a second
    to import, more than the rest of a default EMT-NAS run."""
    code = (
        "import sys, benchsim\n"
        "bench = benchsim.benchmark('nb201')\n"
        "bench.weight_sharing.train_pass('cifar100', [0, 1], rng=bench.rng_)\n"
        "values = bench.weight_sharing.sampled_eval(\n"
        "    'cifar100', [0, 1], rng=bench.rng_, batch_size=None)\n"
        "assert values.source.startswith('modelled'), values.source\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    assert fresh_python(code).strip() == "[]"
