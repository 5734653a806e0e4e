"""Arrow arrays built without pandas are the arrays pyarrow would build."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from benchsim._arrow import column, numbers, repeated, strings, to_numbers, to_strings


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


def test_nothing_here_imports_pandas():
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
