"""GpuBenchmark: the contract's answers, their shapes, determinism and exact resume on CPU."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import benchsim
from benchsim.backends import BatchResult, Result
from benchsim.backends.gpu import GpuBenchmark
from benchsim.errors import ConfigError

ARCHS = [0, 1462, 777, 15624]


def state_of(bench: GpuBenchmark) -> dict[str, torch.Tensor]:
    return {f"{i}.{k}": v.clone() for i, net in enumerate(bench.supernets.nets_)
            for k, v in net.state_dict().items()}  # fmt: skip


def same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def session(bench: GpuBenchmark, seed: int = 5) -> list[float]:
    """A short EMT-NAS-like sequence of calls; returns every number it produced."""
    rng = np.random.default_rng(seed)
    out: list[float] = []
    for task in bench.tasks:
        out.append(
            bench.weight_sharing.train_pass(task, ARCHS, rng=rng, weights=[0.4, 0.3, 0.2, 0.1]) > 0
        )
        out.extend(bench.weight_sharing.sampled_eval(task, ARCHS, rng=rng, batch_size=16).values)
    out.append(bench.query(1462, bench.tasks[0], "valid_acc").value)
    return out


def test_opens_through_the_registry(data_root):
    bench = benchsim.benchmark(
        "nb201", backend="gpu", datasets=("synthetic-shapes",), device="cpu", smoke=True,
        seed=0, root=data_root, channels=4, max_batches_per_pass=1,
    )  # fmt: skip
    assert isinstance(bench, GpuBenchmark) and bench.tasks == ("synthetic-shapes",)
    assert bench.settings.cells_per_stage == 1 and bench.settings.channels == 4
    assert not bench.traits.simulated_time and bench.space.name == "nb201"


def test_task_info_and_protocol(make_bench):
    bench = make_bench()
    assert bench.tasks == ("synthetic-shapes", "synthetic-shapes-b")
    info = bench.task_info("shapes-b")
    assert info.name == "synthetic-shapes-b" and info.search_metric == "valid_acc"
    assert info.test_metric == "test_acc" and info.epochs == 4 and info.train_size == 2000
    assert set(info.metrics) == {"train_acc", "valid_acc", "test_acc", "train_time_s"}
    protocol = bench.evaluation_protocol("synthetic-shapes")
    assert protocol.seed is None and protocol.cost_scale == 1.0
    prov = bench.provenance()
    record = prov["datasets"]["synthetic-shapes"]
    assert len(record["sha256"]) == 64 and len(record["source_sha256"]) == 64
    assert prov["device"].startswith("CPU") and prov["torch"] == torch.__version__
    assert prov["settings"]["channels"] == 4 and prov["seed"] == 0


def test_train_pass_eval_and_query_shapes(make_bench):
    bench = make_bench()
    rng = np.random.default_rng(0)
    seconds = bench.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=rng)
    assert seconds > 0 and bench.supernets.train_seconds_["synthetic-shapes"] == pytest.approx(
        seconds
    )
    assert bench.supernets.passes_ == {"synthetic-shapes": 1, "synthetic-shapes-b": 0}
    assert bench.supernets.steps_ == [2, 0]
    batch = bench.weight_sharing.sampled_eval(
        "synthetic-shapes", [*ARCHS, 0], rng=rng, batch_size=40
    )
    assert isinstance(batch, BatchResult) and batch.values.shape == batch.cost.shape == (5,)
    assert np.all((batch.values >= 0) & (batch.values <= 100)) and np.all(batch.cost > 0)
    assert np.allclose(batch.values * 40 / 100, np.round(batch.values * 40 / 100))
    assert bench.weight_sharing.sampled_eval("synthetic-shapes", [], rng=rng).values.shape == (0,)
    full = bench.weight_sharing.sampled_eval(
        "synthetic-shapes", ARCHS[:2], rng=rng, batch_size=None
    )
    expected = [bench.split_accuracy(a, "synthetic-shapes", "valid") for a in ARCHS[:2]]
    assert full.values.tolist() == expected and np.all(full.cost > 0)
    result = bench.query("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
                         "skip_connect~1|skip_connect~2|", "synthetic-shapes",
                         ["valid_acc", "test_acc", "train_acc", "train_time_s"])  # fmt: skip
    assert isinstance(result, Result) and result.epoch == 0 and result.schedule == 4
    assert all(0 <= result[m] <= 100 for m in ("valid_acc", "test_acc", "train_acc"))
    assert result["train_time_s"] == pytest.approx(seconds) and result.cost > 0
    many = bench.query_many(ARCHS, np.array([0, 1, 0, 1]), "valid_acc")
    assert many.values.shape == (4,) and np.all(many.cost > 0)
    assert many.values[0] == bench.query(ARCHS[0], "synthetic-shapes").value


def test_same_seed_same_numbers_other_seed_other_numbers(make_bench):
    first = session(make_bench())
    assert session(make_bench()) == first
    assert session(make_bench(seed=1)) != first


@pytest.mark.parametrize("mode", ["batch", "running", "recalibrate"])
def test_evaluation_leaves_training_unchanged(make_bench, mode):
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    a, b = make_bench(bn_eval=mode), make_bench(bn_eval=mode)
    a.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=rng_a)
    b.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=rng_b)
    before = state_of(a)
    a.weight_sharing.sampled_eval(
        "synthetic-shapes", ARCHS, rng=np.random.default_rng(9), batch_size=8
    )
    a.query(7, "synthetic-shapes", ["valid_acc", "test_acc"])
    assert same_state(before, state_of(a)) and a.supernets.nets_[0].training
    a.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=rng_a)
    b.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=rng_b)
    assert same_state(state_of(a), state_of(b))


def test_recalibration_changes_the_estimate(make_bench):
    values = {}
    for mode in ("batch", "running", "recalibrate"):
        bench = make_bench(bn_eval=mode)
        rng = np.random.default_rng(0)
        for _ in range(2):
            bench.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=rng)
        values[mode] = bench.weight_sharing.sampled_eval(
            "synthetic-shapes", ARCHS, rng=rng, batch_size=64
        ).values
    assert not np.array_equal(values["running"], values["recalibrate"])


def test_state_dict_round_trip_resumes_exactly(make_bench):
    a = make_bench()
    rng = np.random.default_rng(3)
    a.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=rng)
    a.weight_sharing.train_pass("synthetic-shapes-b", ARCHS, rng=rng)
    saved = pickle.loads(pickle.dumps((a.state_dict(), rng)))
    expected = session(a)
    b = make_bench(seed=123)  # different initial state: everything must come from the state
    b.load_state_dict(saved[0])
    assert session(b) == expected
    assert b.supernets.passes_ == a.supernets.passes_ and b.supernets.steps_ == a.supernets.steps_
    assert same_state(state_of(a), state_of(b))


def test_state_of_another_configuration_is_refused(make_bench, one_line):
    state = make_bench().state_dict()
    with pytest.raises(ConfigError) as excinfo:
        make_bench(channels=8).load_state_dict(state)
    assert "settings" in one_line(excinfo)
    with pytest.raises(ConfigError):
        make_bench().load_state_dict({"format": "something else"})


def test_weights_select_the_architecture_trained(make_bench):
    bench = make_bench(datasets=("synthetic-shapes",))
    net = bench.supernets.nets_[0]
    genes = bench.genes(ARCHS[1])
    path = {key for key, _ in net.path_keys(genes)}
    before = {k: p.detach().clone() for k, p in net.named_parameters()}
    bench.weight_sharing.train_pass(
        "synthetic-shapes", ARCHS, rng=np.random.default_rng(0), weights=[0, 1, 0, 0]
    )
    moved = {k for k, p in net.named_parameters() if not torch.equal(before[k], p.detach())}
    assert moved == {k for k, _ in net.named_parameters() if k in path}


def test_shared_weights_one_trunk_two_heads(make_bench):
    bench = make_bench(share_weights_across_tasks=True)
    assert len(bench.supernets.nets_) == 1 and len(bench.supernets.nets_[0].heads) == 2
    assert bench.supernets.net_of_ == {"synthetic-shapes": (0, 0), "synthetic-shapes-b": (0, 1)}
    net, data = bench.supernets.nets_[0], bench.supernets.data_["synthetic-shapes-b"]
    x, _ = data.plain(data.splits["valid"][:16])
    genes = bench.genes(1462)
    with torch.no_grad():
        before = net.eval()(x, genes, 1)
    bench.weight_sharing.train_pass("synthetic-shapes", [1462], rng=np.random.default_rng(0))
    assert net.stem[0].weight.grad is not None and net.heads[1].weight.grad is None
    assert bench.supernets.steps_ == [2] and bench.supernets.total_steps_ == [4 * (2 + 2)]
    with torch.no_grad():  # task A's training moved the trunk that task B's head reads
        assert not torch.equal(before, net.eval()(x, genes, 1))
    assert bench.supernets.train_seconds_["synthetic-shapes-b"] == 0.0


def test_tnb101_micro_space(make_bench):
    bench = make_bench("tnb101-micro", datasets=("synthetic-shapes-b",))
    assert (
        bench.space.name == "tnb101-micro" and len(bench.supernets.nets_[0].cells[0].edges[0]) == 4
    )
    rng = np.random.default_rng(0)
    bench.weight_sharing.train_pass("synthetic-shapes-b", ["64-41414-3_33_333", 27], rng=rng)
    assert bench.weight_sharing.sampled_eval(
        "synthetic-shapes-b", [4095, 0], rng=rng
    ).values.shape == (2,)


def test_the_supernet_really_learns(make_bench):
    # One architecture, two full passes over synthetic-shapes-b (chance: 10%).
    bench = make_bench(channels=8, batch_size=64, max_batches_per_pass=None, epochs=2,
                       max_eval_batches=4, datasets=("synthetic-shapes-b",))  # fmt: skip
    arch = bench.space.from_genes([3, 3, 3, 3, 3, 3])
    rng = np.random.default_rng(0)
    before = bench.query(arch, "synthetic-shapes-b", "valid_acc").value
    for _ in range(2):
        bench.weight_sharing.train_pass("synthetic-shapes-b", [arch], rng=rng)
    after = bench.query(arch, "synthetic-shapes-b", ["valid_acc", "test_acc"])
    assert before < 20 and after["valid_acc"] > 35 and after["test_acc"] > 35
    assert bench.supernets.last_pass_["loss"] < 2.2


def test_standalone_training_and_kendall_tau(make_bench):
    bench = make_bench(datasets=("synthetic-shapes-b",))
    before = state_of(bench)
    first = bench.standalone_train(1462, "synthetic-shapes-b", epochs=2)
    again = bench.standalone_train(1462, "synthetic-shapes-b", epochs=2)
    accuracies = ("train_acc", "valid_acc", "test_acc")
    assert [getattr(first, m) for m in accuracies] == [getattr(again, m) for m in accuracies]
    assert first.epochs == 2 and 0 <= first.valid_acc <= 100 and first.images_per_s > 0
    assert same_state(before, state_of(bench))
    warm = bench.standalone_train(1462, "synthetic-shapes-b", epochs=1, init="supernet")
    assert warm.arch == 1462
    archs = [0, 1462, 777]
    check = bench.kendall_tau(archs, "synthetic-shapes-b", [10.0, 50.0, 30.0])
    assert -1.0 <= check.tau <= 1.0 and check.estimates.shape == (3,)
    assert check.estimates[1] == bench.split_accuracy(1462, "synthetic-shapes-b", "valid")
    with pytest.raises(ConfigError, match="one reference value per architecture"):
        bench.kendall_tau(archs, "synthetic-shapes-b", [1.0, 2.0])
    with pytest.raises(ConfigError, match="epochs"):
        bench.standalone_train(0, "synthetic-shapes-b", epochs=0)


# ---------------------------------------------------------------------- joint training passes
def test_a_joint_pass_mixes_both_tasks_batches_through_one_supernet(make_bench):
    bench = make_bench(max_batches_per_pass=4)
    a, b = bench.tasks
    assert len(bench.supernets.nets_) == 2  # one supernet per task until a joint pass
    rng = np.random.default_rng(0)
    seconds = bench.weight_sharing.joint_train_pass([a, b], [ARCHS, ARCHS[:2]], rng=rng)
    assert len(bench.supernets.nets_) == 1 and len(bench.supernets.nets_[0].heads) == 2
    assert bench.supernets.groups_ == [(a, b)] and bench.supernets.net_of_ == {a: (0, 0), b: (0, 1)}
    assert bench.supernets.steps_ == [8] and bench.supernets.total_steps_ == [4 * (4 + 4)]
    assert bench.supernets.passes_ == {a: 1, b: 1}
    assert sum(bench.supernets.train_seconds_.values()) == pytest.approx(seconds)
    first = bench.supernets.last_pass_
    assert first["batches"] == {a: 4, b: 4} and sorted(first["order"]) == [a] * 4 + [b] * 4
    switches = sum(x != y for x, y in zip(first["order"], first["order"][1:], strict=False))
    assert switches >= 2  # mixed in one pass, not one task's batches after the other's

    # Each batch trains an architecture of its own task, through its own head, in one net.
    net = bench.supernets.nets_[0]
    conv3, conv1 = (bench.space.from_genes([g] * 6) for g in (3, 2))
    expected = {key for key, _ in net.path_keys(bench.genes(conv3), 0)}
    expected |= {key for key, _ in net.path_keys(bench.genes(conv1), 1)}
    before = {k: p.detach().clone() for k, p in net.named_parameters()}
    bench.weight_sharing.joint_train_pass([a, b], [[conv3], [conv1]], rng=rng)
    moved = {k for k, p in net.named_parameters() if not torch.equal(before[k], p.detach())}
    assert moved == {k for k, _ in net.named_parameters() if k in expected}
    assert {k.split(".")[1] for k in moved if k.startswith("heads.")} == {"0", "1"}
    assert bench.supernets.steps_ == [16] and bench.supernets.passes_ == {a: 2, b: 2}
    assert bench.answer_notes() == {"supernets": [[a, b]]}


def test_joint_passes_repeat_and_resume_exactly(make_bench):
    def joint_session(bench, rng):
        out = []
        for _ in range(2):
            bench.weight_sharing.joint_train_pass(bench.tasks, [ARCHS, ARCHS[1:]], rng=rng,
                                   weights=[[0.4, 0.3, 0.2, 0.1], None])  # fmt: skip
            for task in bench.tasks:
                out.extend(
                    bench.weight_sharing.sampled_eval(task, ARCHS, rng=rng, batch_size=16).values
                )
        return out

    first = joint_session(make_bench(), np.random.default_rng(4))
    assert joint_session(make_bench(), np.random.default_rng(4)) == first
    assert joint_session(make_bench(seed=1), np.random.default_rng(4)) != first
    a, rng = make_bench(), np.random.default_rng(3)
    a.weight_sharing.joint_train_pass(a.tasks, [ARCHS, ARCHS], rng=rng)
    saved = pickle.loads(pickle.dumps((a.state_dict(), rng)))
    expected = joint_session(a, rng)
    b = make_bench(seed=123)  # its own per-task supernets: the state forms the shared one
    b.load_state_dict(saved[0])
    assert b.supernets.groups_ == a.supernets.groups_ and joint_session(b, saved[1]) == expected
    assert same_state(state_of(a), state_of(b)) and b.supernets.steps_ == a.supernets.steps_


def test_a_joint_pass_trains_the_supernet_the_tasks_already_share(make_bench, one_line):
    shared = make_bench(share_weights_across_tasks=True)
    net = shared.supernets.nets_[0]
    shared.weight_sharing.joint_train_pass(
        shared.tasks, [ARCHS, ARCHS], rng=np.random.default_rng(0)
    )
    assert shared.supernets.nets_ == [net] and shared.supernets.steps_ == [4]
    apart = make_bench()
    apart.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=np.random.default_rng(0))
    with pytest.raises(ConfigError) as excinfo:
        apart.weight_sharing.joint_train_pass(
            apart.tasks, [ARCHS, ARCHS], rng=np.random.default_rng(0)
        )
    assert "synthetic-shapes was already trained in a supernet of its own" in one_line(excinfo)
    assert len(apart.supernets.nets_) == 2 and apart.supernets.steps_ == [2, 0]  # nothing changed


def test_torch_settings_are_scoped_to_the_benchmarks_work(make_bench):
    """Opening a live benchmark changes no process-wide torch setting; its work runs with
    deterministic algorithms (on the CPU by default) and leaves them as they were."""
    torch.use_deterministic_algorithms(False)
    bench = make_bench()
    assert bench.supernets.deterministic_
    assert not torch.are_deterministic_algorithms_enabled()  # opening changed nothing
    seen: list[bool] = []
    bench.supernets.nets_[0].register_forward_pre_hook(
        lambda *_: seen.append(torch.are_deterministic_algorithms_enabled())
    )
    bench.weight_sharing.train_pass("synthetic-shapes", ARCHS, rng=np.random.default_rng(0))
    bench.query(7, "synthetic-shapes", "valid_acc")
    assert seen and all(seen)  # inside: deterministic
    assert not torch.are_deterministic_algorithms_enabled()  # after: restored
