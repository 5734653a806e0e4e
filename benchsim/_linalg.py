"""Matrix products and a linear solve whose bits do not depend on the CPU.

numpy hands ``@``, ``np.dot`` and ``np.linalg`` to its BLAS/LAPACK (OpenBLAS in the PyPI
wheels), and OpenBLAS picks its kernels for the CPU it finds at run time (``DYNAMIC_ARCH``): a
SkylakeX kernel and a Zen kernel sum a dot product in different orders, so the same seeded
XferNAS run diverged at step 13 between two x86 machines with identical packages (its golden
trajectory, ``benchsim verify-repro``). benchsim promises the same trajectory bit for bit for
the same seed, so the algorithms' arithmetic goes through these functions instead:
``numpy.einsum`` without ``optimize`` never calls BLAS, and its summation loops are compiled
for numpy's baseline instruction set, the same on every machine a given numpy wheel runs on.

The products here are small (an MLP over a few thousand codes, a ridge fit over tens of
features), so the loss against BLAS is a fraction of a run's time
(``benchmarks/bench_linalg.py``).
"""

from __future__ import annotations

import numpy as np

_SUBSCRIPTS = {
    (1, 1): "i,i->",
    (1, 2): "i,ij->j",
    (2, 1): "ij,j->i",
    (2, 2): "ij,jk->ik",
}


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 1-D and 2-D operands, summed in the same order on every CPU.

    Examples
    --------
    >>> import numpy as np
    >>> matmul(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]))
    array([[11.]])
    """
    a, b = np.asarray(a), np.asarray(b)
    try:
        subscripts = _SUBSCRIPTS[(a.ndim, b.ndim)]
    except KeyError:
        raise ValueError(
            f"matmul takes 1-D or 2-D operands, got {a.ndim}-D and {b.ndim}-D"
        ) from None
    return np.einsum(subscripts, a, b, optimize=False)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """The inner product of two vectors as a float, summed in the same order on every CPU."""
    return float(matmul(np.asarray(a).ravel(), np.asarray(b).ravel()))


def solve_spd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``a x = b`` for a symmetric positive definite ``a`` (Cholesky, column by column).

    Used for ridge regression's normal equations, where ``np.linalg.solve`` (LAPACK over
    BLAS) would make the fitted coefficients, and so the next proposal, depend on the CPU.

    Examples
    --------
    >>> import numpy as np
    >>> solve_spd(np.array([[4.0, 2.0], [2.0, 3.0]]), np.array([2.0, 1.0]))
    array([0.5, 0. ])
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n = a.shape[0]
    if a.shape != (n, n) or b.shape[:1] != (n,):
        raise ValueError(f"solve_spd needs an (n, n) matrix and n rows, got {a.shape}, {b.shape}")
    low = np.zeros_like(a)
    for j in range(n):
        pivot = a[j, j] - dot(low[j, :j], low[j, :j])
        if not pivot > 0.0:
            raise np.linalg.LinAlgError("solve_spd: matrix is not positive definite")
        low[j, j] = np.sqrt(pivot)
        below = a[j + 1 :, j] - matmul(low[j + 1 :, :j], low[j, :j])
        low[j + 1 :, j] = below / low[j, j]
    y = np.zeros_like(b)
    for i in range(n):  # low y = b
        y[i] = (b[i] - matmul(low[i, :i], y[:i])) / low[i, i]
    x = np.zeros_like(b)
    for i in range(n - 1, -1, -1):  # low.T x = y
        x[i] = (y[i] - matmul(low[i + 1 :, i], x[i + 1 :])) / low[i, i]
    return x
