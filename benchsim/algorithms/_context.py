"""CATCH's context encoder and network evaluator in numpy (Chen et al., 2020; PEARL's encoder).

* :class:`MLP`: a ReLU multilayer perceptron with a linear output, its backward pass and the
  gradient with respect to its input.
* :class:`ContextEncoder`: PEARL's probabilistic context encoder (Rakelly et al., 2019, Sec.
  4.1) on the transitions of a NAS task, here (architecture, reward) pairs.  Each pair ``c_n``
  gives a Gaussian factor ``N(mu_n, var_n)`` (an MLP outputs ``mu_n`` and ``s_n``, with
  ``var_n = softplus(s_n) + VAR_FLOOR``); a task's posterior is their product,
  ``var = 1 / sum_n 1/var_n``, ``mu = var * sum_n mu_n / var_n``, so it is invariant to the
  order of the pairs and sharpens as pairs arrive.  With no pair it is the prior ``N(0, I)``.
* :func:`evaluator_loss_and_grads`: the objective that trains the evaluator and, through the
  sampled ``z`` (reparameterised, ``z = mu + sqrt(var) * eps``), the encoder:
  ``mean_i (E([code_i, z_task(i)]) - y_i)^2 + kl_weight * mean_k KL(q_k || N(0, I))``, as PEARL
  trains its encoder through the critic's loss plus a KL term (CATCH: KL weight 0.1).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from benchsim.algorithms._mlp import relu_mlp_backward, relu_mlp_forward

VAR_FLOOR = 1e-6
"""Smallest variance of one pair's factor (PEARL clamps at 1e-7)."""


class MLP:
    """ReLU hidden layers, linear output: ``sizes = [in, hidden..., out]``.

    Hidden weights He-normal (ReLU units); the output layer is scaled by ``out_scale`` so a new
    network starts near zero (a neutral prediction, a near-prior posterior).
    """

    def __init__(self, sizes: list[int], rng: np.random.Generator, out_scale: float = 0.1):
        self.weights = [
            rng.standard_normal((n_out, n_in)) * math.sqrt(2.0 / n_in)
            for n_in, n_out in itertools.pairwise(sizes)
        ]
        self.weights[-1] *= out_scale
        self.biases = [np.zeros(n_out) for n_out in sizes[1:]]

    @property
    def params(self) -> list[np.ndarray]:
        return [*self.weights, *self.biases]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Output (n, out) and the layer inputs (for :meth:`backward`)."""
        return relu_mlp_forward(self.weights, self.biases, x)

    def backward(
        self, d_out: np.ndarray, acts: list[np.ndarray]
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Gradients of ``sum(d_out * output)``: parameters (as :attr:`params`) and input."""
        g_w, g_b, d = relu_mlp_backward(self.weights, d_out, acts)
        return [*g_w, *g_b], d


def _softplus(s: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, s)


def _sigmoid(s: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * s))


class ContextEncoder:
    """``q(z | c)`` as a product of one Gaussian factor per (code, reward) pair.

    Parameters
    ----------
    in_dim
        Length of a pair: the architecture code plus one for the reward.
    latent
        Dimension of ``z``.
    hidden
        Width of the two ReLU hidden layers.
    """

    def __init__(self, in_dim: int, latent: int, hidden: int, rng: np.random.Generator) -> None:
        self.latent = latent
        self.net = MLP([in_dim, hidden, hidden, 2 * latent], rng)

    @property
    def params(self) -> list[np.ndarray]:
        return self.net.params

    def posteriors(self, pairs: np.ndarray, seg: np.ndarray, n_seg: int):
        """Posterior mean and variance (``n_seg``, latent) of each segment of ``pairs``.

        ``seg[i]`` is the segment (task) of row ``i``; every segment needs at least one row.
        Returns ``(mu, var, cache)``; ``cache`` is for :meth:`backward`.
        """
        out, acts = self.net.forward(pairs)
        d = self.latent
        mu_n, s_n = out[:, :d], out[:, d:]
        prec_n = 1.0 / (_softplus(s_n) + VAR_FLOOR)
        prec = np.zeros((n_seg, d))
        np.add.at(prec, seg, prec_n)
        weighted = np.zeros((n_seg, d))
        np.add.at(weighted, seg, prec_n * mu_n)
        var = 1.0 / prec
        mu = var * weighted
        return mu, var, (acts, mu_n, s_n, prec_n, prec, mu, seg)

    def posterior(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of one task's posterior (the prior ``N(0, I)`` for no pairs)."""
        if len(pairs) == 0:
            return np.zeros(self.latent), np.ones(self.latent)
        mu, var, _ = self.posteriors(pairs, np.zeros(len(pairs), dtype=np.int64), 1)
        return mu[0], var[0]

    def backward(self, g_mu: np.ndarray, g_var: np.ndarray, cache) -> list[np.ndarray]:
        """Parameter gradients of ``sum(g_mu * mu + g_var * var)`` (the product rule of the
        factors, then the MLP)."""
        acts, mu_n, s_n, prec_n, prec, mu, seg = cache
        # mu = sum(P_n mu_n) / P, var = 1 / P, P = sum(P_n), P_n = 1 / (softplus(s_n) + floor)
        g_mu_n = g_mu[seg] * prec_n / prec[seg]
        g_prec_n = g_mu[seg] * (mu_n - mu[seg]) / prec[seg] - g_var[seg] / prec[seg] ** 2
        g_s_n = -g_prec_n * prec_n**2 * _sigmoid(s_n)
        grads, _ = self.net.backward(np.concatenate([g_mu_n, g_s_n], axis=1), acts)
        return grads


def kl_standard_normal(mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``KL(N(mu, diag var) || N(0, I))`` of each row."""
    return 0.5 * np.sum(var + mu * mu - 1.0 - np.log(var), axis=-1)


def evaluator_loss_and_grads(
    encoder: ContextEncoder,
    evaluator: MLP,
    context: np.ndarray,
    context_seg: np.ndarray,
    codes: np.ndarray,
    targets: np.ndarray,
    seg: np.ndarray,
    noise: np.ndarray,
    kl_weight: float,
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """Evaluator regression plus the encoder's KL term, and the gradients of both networks.

    Parameters
    ----------
    context, context_seg
        Context pairs (code, standardised reward) and the task of each (tasks ``0 .. K-1``,
        each with at least one pair).
    codes, targets, seg
        The architectures to predict, their standardised rewards and their tasks.
    noise
        (K, latent) standard normal draws: ``z_k = mu_k + sqrt(var_k) * noise_k``.
    kl_weight
        Weight of the mean KL divergence of the K posteriors from the prior.

    Returns ``(loss, encoder gradients, evaluator gradients)``.
    """
    n_tasks = len(noise)
    mu, var, cache = encoder.posteriors(context, context_seg, n_tasks)
    std = np.sqrt(var)
    z = mu + std * noise
    pred, acts = evaluator.forward(np.concatenate([codes, z[seg]], axis=1))
    err = pred[:, 0] - targets
    kl = kl_standard_normal(mu, var)
    loss = float(np.mean(err * err) + kl_weight * np.mean(kl))
    g_eval, g_in = evaluator.backward((2.0 * err / len(err))[:, None], acts)
    g_z = np.zeros_like(z)
    np.add.at(g_z, seg, g_in[:, codes.shape[1] :])
    g_mu = g_z + (kl_weight / n_tasks) * mu
    g_var = g_z * noise / (2.0 * std) + (kl_weight / n_tasks) * 0.5 * (1.0 - 1.0 / var)
    return loss, encoder.backward(g_mu, g_var, cache), g_eval
