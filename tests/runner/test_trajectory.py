"""The trajectory: rows of every kind of job, compact columns, Arrow tables and back."""

import tracemalloc

import numpy as np
import pyarrow as pa

from benchsim.algorithms import Evaluate, Outcome
from benchsim.runner._trajectory import COLUMNS, Trajectory


def _every_kind() -> Trajectory:
    """A trajectory with a row of each kind the runner records."""
    from benchsim.algorithms import JointTrainPass, SampledEval, TaskDistance, TrainPass

    traj = Trajectory()
    answer = Outcome(values=np.array([0.5]), cost=2.0, source="standalone")
    traj.add(0, Evaluate(task="a", arch=7), answer, 0, 0.0, 2.0)
    traj.add(0, TrainPass(task="a", archs=(1, 2)), Outcome(np.empty(0), 4.0, "x"), 1, 0.0, 4.0)
    both = JointTrainPass(tasks=("a", "b"), archs=((1,), (2,)))
    traj.add(1, both, Outcome(np.empty(0), 6.0), 0, 2.0, 8.0)
    batch = Outcome(np.array([0.1, 0.2]), 1.0, "recorded:oneshot")
    traj.add(1, SampledEval(task="b", archs=(3, 4)), batch, 1, 4.0, 5.0)
    traj.add(1, SampledEval(task="b", archs=(5,), batch_size=None), answer, 1, 5.0, 7.0)
    far = Outcome(np.array([0.3, 0.9]), 3.0, "fisher")
    traj.add(0, TaskDistance(task="a", sources=("b", "c")), far, 0, 8.0, 11.0)
    traj.add(0, Evaluate(task="a", arch=9), answer, 0, 11.0, 13.0)
    return traj


KINDS = ["evaluate", "train_pass", "joint_pass", "joint_pass", "sampled_eval", "sampled_eval",
         "full_eval", "task_distance", "task_distance", "evaluate"]  # fmt: skip


def test_trajectory_rows_of_every_kind():
    traj = _every_kind()
    table = traj.table()
    assert table.column_names == list(COLUMNS) and len(traj) == table.num_rows == 10
    assert table.column("step").to_pylist() == list(range(10))
    assert table.column("kind").to_pylist() == KINDS == traj.column("kind")
    assert table.column("task").to_pylist() == ["a", "a", "a", "b", "b", "b", "b", "a", "a", "a"]
    assert table.column("arch").to_pylist() == [7, -1, -1, -1, 3, 4, 5, -1, -1, 9]
    assert table.column("cost").to_pylist() == [2.0, 4.0, 3.0, 3.0, 0.5, 0.5, 2.0, 1.5, 1.5, 2.0]
    assert table.column("source").to_pylist()[5:9] == [
        "recorded:oneshot",
        "standalone",
        "fisher from b",
        "fisher from c",
    ]
    assert table.column("value").to_pylist()[7:] == [0.3, 0.9, 0.5]
    assert table.schema.field("search").type == pa.int16()
    assert traj.table(6).column("step").to_pylist() == [6, 7, 8, 9]


def test_trajectory_table_round_trips_through_extend():
    """What a checkpoint saves (``table``) and loads back (``extend``), a part at a time."""
    traj = _every_kind()
    again = Trajectory()
    again.extend(traj.table(0).slice(0, 4))
    again.extend(traj.table(4))
    np.testing.assert_equal(again.table().to_pydict(), traj.table().to_pydict())  # NaN == NaN
    assert again.labels == traj.labels


def test_final_table_adds_architecture_strings_and_test_values():
    traj = _every_kind()
    test_value = np.arange(10, dtype=float)
    table = traj.to_arrow(lambda arch: f"arch{arch}", test_value)
    assert table.column_names == [*COLUMNS[:8], "arch_str", *COLUMNS[8:], "test_value"]
    assert table.column("arch_str").to_pylist() == [
        "arch7",
        "",
        "",
        "",
        "arch3",
        "arch4",
        "arch5",
        "",
        "",
        "arch9",
    ]
    same = table.drop_columns(["arch_str", "test_value"]).to_pydict()
    np.testing.assert_equal(same, traj.table().to_pydict())
    assert table.column("test_value").to_pylist() == test_value.tolist()
    assert traj.to_arrow(str).num_columns == len(COLUMNS) + 1


def test_a_row_holds_no_python_objects():
    """Numbers in arrays, the three texts as one code: 48 bytes a row (81-88 before)."""
    traj = Trajectory()
    answer = Outcome(values=np.array([0.5]), cost=2.0, source="standalone")
    jobs = [Evaluate(task="cifar10", arch=a) for a in range(1000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(50_000):
        traj.add(0, jobs[i % 1000], answer, 0, float(i), float(i + 1))
    per_row = (tracemalloc.get_traced_memory()[0] - before) / 50_000
    tracemalloc.stop()
    assert per_row < 56


def test_rows_selects_by_label():
    traj = _every_kind()
    evaluations = traj.rows(lambda task, kind, source: kind == "evaluate")
    assert np.flatnonzero(evaluations).tolist() == [0, 9]
    assert traj.numbers("arch")[evaluations].tolist() == [7, 9]


def test_a_batch_of_evaluations_adds_the_rows_add_would():
    one, many = Trajectory(), Trajectory()
    archs, values = np.array([5, 3, 5]), np.array([0.1, np.nan, 0.3])
    costs, starts = np.array([1.0, 2.0, 4.0]), np.array([0.0, 1.0, 3.0])
    for arch, value, cost, start in zip(archs, values, costs, starts, strict=True):
        answer = Outcome(np.array([value]), float(cost), "standalone")
        one.add(2, Evaluate("t", int(arch)), answer, 0, float(start), float(start + cost))
    many.add_evaluations(2, "t", "standalone", 0, starts, starts + costs, archs, values, costs)
    np.testing.assert_equal(many.table().to_pydict(), one.table().to_pydict())
    assert many.labels == one.labels == [("t", "evaluate", "standalone")]


def test_text_columns_are_dictionary_encoded_with_the_smallest_index_type():
    """Each distinct word once; int8 indices for a run's few labels, and for arch_str the
    type the space's size needs, whatever the run used (one schema for every run)."""
    traj = _every_kind()
    table = traj.to_arrow(lambda arch: f"arch{arch}", None, space_size=15_625)
    for name in ("task", "kind", "source"):
        column = table.column(name).chunk(0)
        assert column.type == pa.dictionary(pa.int8(), pa.string())
        assert len(column.dictionary) == len(set(column.to_pylist()))
    assert table.schema.field("arch_str").type == pa.dictionary(pa.int16(), pa.string())
    assert traj.to_arrow(str, None, space_size=100).schema.field("arch_str").type.index_type == (
        pa.int8()
    )
    assert traj.to_arrow(str, None, space_size=40_000).schema.field("arch_str").type.index_type == (
        pa.int32()
    )
