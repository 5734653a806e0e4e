"""benchsim._linalg: the algorithms' products give the same bits whatever BLAS kernel runs.

The golden XferNAS run once diverged at step 13 between an Intel (SkylakeX kernel) and an AMD
machine because ``@`` went to OpenBLAS, which picks its kernels per CPU.  OpenBLAS lets a
process choose its kernel with ``OPENBLAS_CORETYPE``, so the test runs the algorithms'
arithmetic under several kernels in fresh interpreters and compares the bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from benchsim._linalg import dot, matmul, solve_spd

KERNELS = ("Haswell", "SkylakeX", "Sandybridge", "Prescott")

# XferNAS's network (forward and backward), KTNAS's ridge predictor and transfer votes, PPO's
# policy step, on data big enough that BLAS would block and vectorise the sums.
_ALGORITHM_ARITHMETIC = """
import hashlib, sys
import numpy as np
from benchsim.algorithms._transfer_net import TransferNet
from benchsim.algorithms._predictor import RidgePredictor, transfer_votes, unit_rows
rng = np.random.default_rng(7)
net = TransferNet(in_dim=48, n_tasks=3, hidden=96, layers=2, residual_hidden=32, rng=rng)
z = rng.standard_normal((512, 48))
task = rng.integers(0, 3, 512)
loss, grads = net.loss_and_grads(z, rng.standard_normal(512), task)
ridge = RidgePredictor(alpha=0.1).fit(rng.standard_normal((400, 40)), rng.standard_normal(400))
votes = transfer_votes(unit_rows(rng.standard_normal((300, 40))),
                       unit_rows(rng.standard_normal((200, 40))), rng.random(200) > 0.5, 5)
h = hashlib.sha256(np.float64(loss).tobytes())
for a in [*grads, net.predict(z, 1), ridge.coef_, ridge.predict(z[:, :40]), votes]:
    h.update(np.ascontiguousarray(a).tobytes())
sys.stdout.write(h.hexdigest())
"""

_PLAIN_MATMUL = """
import hashlib, sys
import numpy as np
rng = np.random.default_rng(7)
a, b = rng.standard_normal((512, 200)), rng.standard_normal((200, 96))
sys.stdout.write(hashlib.sha256((a @ b).tobytes()).hexdigest())
"""


def _digest(script: str, kernel: str) -> str:
    env = {**os.environ, "OPENBLAS_CORETYPE": kernel}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_products_agree_with_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((5, 3))
    np.testing.assert_allclose(matmul(a, b), a @ b, rtol=1e-12)
    np.testing.assert_allclose(matmul(a[0], b), a[0] @ b, rtol=1e-12)
    np.testing.assert_allclose(matmul(a, b[:, 0]), a @ b[:, 0], rtol=1e-12)
    assert dot(a[0], a[1]) == pytest.approx(float(a[0] @ a[1]), rel=1e-12)
    m = rng.standard_normal((30, 30))
    spd, rhs = m @ m.T + np.eye(30), rng.standard_normal(30)
    np.testing.assert_allclose(solve_spd(spd, rhs), np.linalg.solve(spd, rhs), rtol=1e-9)


def test_bad_operands_are_refused_in_one_line():
    with pytest.raises(ValueError, match="1-D or 2-D"):
        matmul(np.zeros((2, 2, 2)), np.zeros((2, 2)))
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        solve_spd(np.array([[1.0, 2.0], [2.0, 1.0]]), np.ones(2))


@pytest.mark.slow
def test_algorithm_arithmetic_is_the_same_under_every_blas_kernel():
    plain = {_digest(_PLAIN_MATMUL, k) for k in KERNELS}
    if len(plain) == 1:
        pytest.skip("numpy's BLAS here does not switch kernels with OPENBLAS_CORETYPE")
    digests = {k: _digest(_ALGORITHM_ARITHMETIC, k) for k in KERNELS}
    assert len(set(digests.values())) == 1, digests
