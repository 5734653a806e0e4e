"""``compile=True``: the supernet compiled op by op, once per op type and shape, not per path.

The tests use the ``aot_eager`` backend (traced graphs, eager kernels): it exercises everything
``torch.compile`` adds (capture, guards, recompilation) without the minutes of C++ code
generation that ``inductor`` spends on a CPU, and it gives the eager numbers exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch._dynamo.utils

from benchsim.backends.gpu._ops import compile_ops
from benchsim.errors import UnknownNameError

TASK = "synthetic-shapes"


def _search_steps(bench, passes: int, seed: int) -> tuple[list[float], np.ndarray]:
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(passes):
        bench.weight_sharing.train_pass(TASK, bench.space.enumerate(), rng=rng)
        losses.append(bench.supernets.last_pass_["loss"])
    archs = bench.space.sample(rng, 6)
    values = bench.weight_sharing.sampled_eval(TASK, archs, rng=rng, batch_size=64).values
    return losses, values


def test_compiled_ops_give_the_eager_numbers(make_bench):
    eager = make_bench(datasets=(TASK,))
    compiled = make_bench(datasets=(TASK,), compile=True, compile_backend="aot_eager")
    first, second = _search_steps(eager, 2, 0), _search_steps(compiled, 2, 0)
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])
    query = {b: b.query(1462, TASK, "valid_acc").value for b in (eager, compiled)}
    assert query[eager] == query[compiled]


def test_new_paths_reuse_the_compiled_ops(make_bench):
    """A counting backend: graphs compiled, and calls that really run compiled code."""
    compiled, calls = [], []

    def counting(graph, example_inputs):
        compiled.append(graph)

        def run(*args):
            calls.append(1)
            return graph.forward(*args)

        return run

    bench = make_bench(datasets=(TASK,))
    compile_ops(bench.supernets.nets_[0], counting)
    _search_steps(bench, 2, 1)  # every op type, shape and mode met at least once
    graphs, ran = len(compiled), len(calls)
    _search_steps(bench, 3, 2)  # other architectures, other batches
    assert len(compiled) == graphs  # nothing was compiled again ...
    assert len(calls) > ran  # ... and the compiled ops are what ran
    assert graphs < 30  # per op type, shape and mode, not per architecture


def test_what_is_compiled(make_bench):
    bench = make_bench(datasets=(TASK,))
    # one cell per stage: 3 x 6 edges x (conv1x1, conv3x3, pool) + 2 reduction blocks + stem
    # + last BN-ReLU; a reduction block's own convolutions are inside its compiled unit.
    assert compile_ops(bench.supernets.nets_[0], "aot_eager") == 3 * 6 * 3 + 2 + 2
    assert torch._dynamo.config.recompile_limit >= 64


def test_unknown_compile_backend_is_one_line(make_bench, one_line):
    with pytest.raises(UnknownNameError) as excinfo:
        make_bench(compile=True, compile_backend="tensorrt")
    assert "unknown compile backend 'tensorrt'" in one_line(excinfo)
