"""Arrow arrays built without pandas are the arrays pyarrow would build."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from benchsim._arrow import column, numbers, repeated, strings, take_rows, to_numbers, to_strings


@pytest.mark.parametrize(
    "values", [[], ["a"], ["x", "y", "x", "é", ""], ["a", None, "b", None], [None, None]]
)
def test_strings_are_pyarrows(values):
    built = strings(values)
    assert built.equals(pa.array(values, pa.string()))
    assert to_strings(built).tolist() == values
    assert to_strings(pa.chunked_array([built, built])).tolist() == values * 2


@pytest.mark.parametrize("dtype", [np.int16, np.int64, np.float64])
def test_numbers_are_pyarrows(dtype):
    values = np.array([3, -1, 7, 0], dtype=dtype)
    assert numbers(values).equals(pa.array(values))
    assert numbers(values[::2]).equals(pa.array(values[::2]))  # strided input
    assert np.array_equal(to_numbers(pa.array(values), dtype), values)
    nan = numbers(np.array([1.0, np.nan]))
    assert nan.null_count == 0 and np.isnan(to_numbers(nan, np.float64)[1])  # NaN, not null


def test_lists_with_nulls_and_repeats():
    for kind, values in [
        (pa.int64(), [1, None, 3]),
        (pa.float64(), [None, 2.5]),
        (pa.string(), ["run", None]),
    ]:
        assert column(values, kind).equals(pa.array(values, kind))
    assert repeated("seed", 3).equals(pa.array(["seed"] * 3, pa.string()))
    assert np.isnan(to_numbers(pa.array([1.0, None]), np.float64)[1])
    with pytest.raises(ValueError, match="nulls"):
        to_numbers(pa.array([1, None]), np.int64)


def test_nothing_here_imports_pandas(fresh_python):
    """pa.array / to_numpy import pandas (~0.2 s a process); these helpers must not."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import pyarrow as pa\n"
        "from benchsim._arrow import column, numbers, strings, to_numbers, to_strings\n"
        "t = pa.table({'a': numbers(np.arange(3.0)), 's': strings(['x', None, 'y']),\n"
        "              'i': column([1, None, 2], pa.int64())})\n"
        "to_numbers(t.column('a'), np.float64); to_strings(t.column('s'))\n"
        "print('pandas' in sys.modules)\n"
    )
    assert fresh_python(code).strip() == "False"


def _mixed_table() -> pa.Table:
    kinds = pa.array(["search", "final", "search", "search", "final"]).dictionary_encode()
    return pa.table(
        {
            "step": pa.array([0, 1, 2, 3, 4], pa.int64()),
            "search": pa.array([0, 0, 1, 1, 1], pa.int16()),
            "kind": kinds,
            "code": pa.DictionaryArray.from_arrays(
                pa.array([2, 0, 1, 1, 2], pa.int8()), pa.array(["a", "b", "c"])
            ),
            "value": pa.array([1.5, 7.0, -2.0, 0.0, 3.25]),
        },
        metadata={"about": "kept"},
    )


@pytest.mark.parametrize("rows", [[4, 0, 2], [], [1, 1, 3], [0, 1, 2, 3, 4]])
def test_take_rows_is_arrows_take(rows):
    table = _mixed_table()
    index = np.array(rows, dtype=np.int64)
    taken = take_rows(table, index)
    assert taken.equals(table.take(pa.array(index)), check_metadata=True)
    chunked = pa.concat_tables([table.slice(0, 2), table.slice(2)])  # two chunks a column
    assert take_rows(chunked, index).equals(table.take(pa.array(index)))
    nan = pa.table({"value": numbers(np.array([np.nan, 1.0]))})  # NaN != NaN for equals()
    assert np.isnan(to_numbers(take_rows(nan, index[:1] * 0).column("value"), np.float64)).all()


def test_take_rows_hands_other_columns_to_arrow():
    table = _mixed_table().append_column("name", pa.array(["p", None, "q", "r", "s"]))
    index = np.array([3, 1], dtype=np.int64)
    assert take_rows(table, index).equals(table.take(pa.array(index)))
    with_null = pa.table({"x": pa.array([1.0, None, 3.0])})
    assert take_rows(with_null, index[1:]).equals(with_null.take(pa.array([1])))


def test_take_rows_of_numbers_and_dictionaries_needs_no_pyarrow_compute(fresh_python):
    """pyarrow.compute costs 22 ms to import: a sweep worker's first run paid it to split the
    run's rows by task."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import pyarrow as pa\n"
        "from benchsim._arrow import numbers, strings, take_rows\n"
        "codes = pa.DictionaryArray.from_arrays(numbers(np.array([0, 1, 0], np.int8)),\n"
        "                                      strings(['a', 'b']))\n"
        "t = pa.table({'v': numbers(np.arange(3.0)), 'k': codes})\n"
        "take_rows(t, np.array([2, 0]))\n"
        "print('pyarrow.compute' in sys.modules)\n"
    )
    assert fresh_python(code).strip() == "False"
