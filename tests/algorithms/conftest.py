"""Fixtures shared by the algorithm tests."""

from collections.abc import Callable

import numpy as np
import pytest


def _check_gradients(
    params: list[np.ndarray],
    grads: list[np.ndarray],
    loss: Callable[[], float],
    rng: np.random.Generator,
    per_param: int,
    *,
    rel: float | None = None,
    abs: float = 1e-6,
) -> int:
    """Compare ``grads`` with central differences of ``loss`` at ``per_param`` random entries of
    each parameter (changed in place and restored); returns how many entries were checked."""
    checked = 0
    for param, grad in zip(params, grads, strict=True):
        assert grad.shape == param.shape
        flat, gflat = param.reshape(-1), grad.reshape(-1)
        for i in rng.choice(flat.size, min(per_param, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + 1e-6
            up = loss()
            flat[i] = old - 1e-6
            down = loss()
            flat[i] = old
            assert (up - down) / 2e-6 == pytest.approx(gflat[i], rel=rel, abs=abs)
            checked += 1
    return checked


@pytest.fixture
def check_gradients() -> Callable[..., int]:
    """:func:`_check_gradients`: hand-written backward passes against finite differences."""
    return _check_gradients
