"""XferNAS's transfer network in numpy: ``f_i(z) = f_u(z) + r_i(z)`` (Wistuba, 2019, Eq. 4-5).

``f_u`` (the universal network) is a ReLU MLP shared by every task; ``r_i`` (the residual task
network of task ``i``) is a one-hidden-layer ReLU MLP per task.  All parameters are trained
jointly on every task's observations (Eq. 7) with Adam (learning rate 1e-3, weight decay 1e-4,
the paper's settings).  The last layer of each residual network starts at zero, so a task
without observations is predicted by ``f_u`` alone: the warm start the paper describes, exact
rather than approximate.

:meth:`TransferNet.input_gradient` gives ``d f_i / d z``, the direction of Eq. 8's ascent on an
architecture code ``z``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from benchsim._linalg import matmul
from benchsim.algorithms._mlp import relu_mlp_backward, relu_mlp_forward
from benchsim.algorithms._policy import Adam


class TransferNet:
    """Universal MLP plus one residual MLP per task, on inputs of length ``in_dim``.

    Parameters
    ----------
    in_dim
        Length of an architecture code.
    n_tasks
        Number of tasks (one residual network each); tasks are numbered ``0 .. n_tasks-1``.
    hidden, layers
        Width and number of hidden layers of the universal network.
    residual_hidden
        Width of each residual network's hidden layer.
    rng
        Generator for the initial weights (He-normal hidden layers, as for ReLU units).
    """

    def __init__(
        self,
        in_dim: int,
        n_tasks: int,
        hidden: int,
        layers: int,
        residual_hidden: int,
        rng: np.random.Generator,
    ) -> None:
        sizes = [in_dim] + [hidden] * layers + [1]
        self.weights = [
            rng.standard_normal((n_out, n_in)) * math.sqrt(2.0 / n_in)
            for n_in, n_out in itertools.pairwise(sizes)
        ]
        self.biases = [np.zeros(n_out) for n_out in sizes[1:]]
        self.r_w1 = rng.standard_normal((n_tasks, residual_hidden, in_dim)) * math.sqrt(
            2.0 / in_dim
        )
        self.r_b1 = np.zeros((n_tasks, residual_hidden))
        self.r_w2 = np.zeros((n_tasks, residual_hidden))
        self.r_b2 = np.zeros(n_tasks)

    @property
    def params(self) -> list[np.ndarray]:
        return [*self.weights, *self.biases, self.r_w1, self.r_b1, self.r_w2, self.r_b2]

    # ------------------------------------------------------------------ forward / backward
    def _forward(self, z: np.ndarray, task: np.ndarray):
        _, acts = relu_mlp_forward(self.weights, self.biases, z)
        # Every task's residual layer at once as one (n_tasks * hidden) layer, then the
        # blocks of the other tasks zeroed: dense products instead of per-row gathers.
        n_tasks, hidden, _ = self.r_w1.shape
        pre = matmul(z, self.r_w1.reshape(n_tasks * hidden, -1).T) + self.r_b1.reshape(-1)
        own = np.repeat(task[:, None] == np.arange(n_tasks)[None, :], hidden, axis=1)
        r_h = np.where(own, np.maximum(pre, 0.0), 0.0)
        out = acts[-1][:, 0] + matmul(r_h, self.r_w2.reshape(-1)) + self.r_b2[task]
        return out, acts, r_h

    def predict(self, z: np.ndarray, task: int | np.ndarray) -> np.ndarray:
        """``f_task(z)`` for a batch of codes ``z`` (n, in_dim); ``task`` an int or an array."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        task = np.broadcast_to(np.asarray(task, dtype=np.int64), (len(z),))
        return self._forward(z, task)[0]

    def _backward(self, z, task, d_out, acts, r_h, need_input: bool):
        """Gradients of ``sum(d_out * f)`` w.r.t. the parameters (and ``z`` if asked)."""
        g_w, g_b, d = relu_mlp_backward(self.weights, d_out[:, None], acts)
        n_tasks, hidden, dim = self.r_w1.shape
        d_rh = d_out[:, None] * self.r_w2.reshape(-1) * (r_h > 0)
        grads = [
            *g_w,
            *g_b,
            matmul(d_rh.T, z).reshape(n_tasks, hidden, dim),
            d_rh.sum(0).reshape(n_tasks, hidden),
            matmul(d_out, r_h).reshape(n_tasks, hidden),
            np.bincount(task, weights=d_out, minlength=n_tasks),
        ]
        d_z = d + matmul(d_rh, self.r_w1.reshape(n_tasks * hidden, dim)) if need_input else None
        return grads, d_z

    def loss_and_grads(
        self, z: np.ndarray, y: np.ndarray, task: np.ndarray
    ) -> tuple[float, list[np.ndarray]]:
        """Eq. 7 divided by the number of observations: ``mean((f_task(z) - y)^2)``."""
        out, acts, r_h = self._forward(z, task)
        err = out - y
        grads, _ = self._backward(z, task, 2.0 * err / len(y), acts, r_h, need_input=False)
        return float(np.mean(err * err)), grads

    def input_gradient(self, z: np.ndarray, task: int) -> np.ndarray:
        """``d f_task / d z`` at each row of ``z`` (Eq. 8's ascent direction)."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        tasks = np.full(len(z), task, dtype=np.int64)
        _, acts, r_h = self._forward(z, tasks)
        _, d_z = self._backward(z, tasks, np.ones(len(z)), acts, r_h, need_input=True)
        return d_z

    # ------------------------------------------------------------------ training
    def fit(
        self,
        z: np.ndarray,
        y: np.ndarray,
        task: np.ndarray,
        steps: int,
        optimizer: Adam,
        batch_size: int | None,
        rng: np.random.Generator,
    ) -> float:
        """``steps`` Adam steps on Eq. 7; returns the full-batch loss after training.

        Each step uses ``batch_size`` observations drawn without replacement with ``rng``
        (``None``, or a batch at least as large as the data: all of them).
        """
        n = len(y)
        for _ in range(steps):
            if batch_size is None or batch_size >= n:
                grads = self.loss_and_grads(z, y, task)[1]
            else:
                pick = rng.choice(n, size=batch_size, replace=False)
                grads = self.loss_and_grads(z[pick], y[pick], task[pick])[1]
            optimizer.step(grads)
        return self.loss_and_grads(z, y, task)[0]
