"""Reading numeric columns of the per-seed and per-epoch tables into numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchsim.backends.table._read import _numbers, open_parquet, read_rows
from benchsim.errors import CorruptDataError

PATH = Path("seeds.parquet")


@pytest.mark.parametrize(
    ("values", "arrow_type", "dtype"),
    [
        ([3, -2, 7, 32767], pa.int16(), np.int64),
        ([0, 15624, 9], pa.int32(), np.int64),
        ([0, 2**40], pa.uint64(), np.int64),
        ([1.5, None, -2.25], pa.float32(), np.float64),
        ([1.0, 2.0], pa.float64(), np.float64),
        ([4.0, -3.0], pa.float64(), np.int64),
    ],
)
def test_numbers_are_what_arrows_cast_gives(values, arrow_type, dtype):
    array = pa.array([None, *values], type=arrow_type).slice(1)  # an offset into the buffers
    got = _numbers(pa.chunked_array([array]), dtype, "col", PATH)
    want = array.cast(pa.from_numpy_dtype(dtype)).to_numpy(zero_copy_only=False)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (pa.array([1.5]), "has type double, expected a number"),
        (pa.array(["a"]), "has type string, expected a number"),
        (pa.array([2**63], type=pa.uint64()), "has type uint64, expected a number"),
        (pa.array([1, None], type=pa.int32()), "has 1 missing keys"),
    ],
)
def test_numbers_that_do_not_fit_are_refused_in_one_line(array, message):
    with pytest.raises(CorruptDataError, match=message):
        _numbers(array, np.int64, "col", PATH)


def test_tasks_read_as_dictionary_codes_without_pyarrow_compute(tmp_path, fresh_python):
    path = tmp_path / "seeds.parquet"
    table = pa.table({"task": ["b", "a", "b", "c"], "seed": pa.array([1, 2, 3, 4], pa.int16())})
    pq.write_table(table, path, row_group_size=2)
    rows = read_rows(open_parquet(path, "fix it"), path, {"seed": np.int64}, ("a", "b", "c"), "x")
    assert rows["task"].tolist() == [1, 0, 1, 2]
    assert rows["seed"].tolist() == [1, 2, 3, 4]
    only = read_rows(open_parquet(path, "x"), path, {"seed": np.int64}, ("a", "b", "c"), "x", "b")
    assert only["seed"].tolist() == [1, 3]
    # in a fresh process: reading per-seed values leaves pyarrow.compute (22 ms) unimported
    script = (
        "import sys, numpy as np; from pathlib import Path;"
        "from benchsim.backends.table._read import open_parquet, read_rows;"
        f"p = Path({str(path)!r});"
        "read_rows(open_parquet(p, 'x'), p, {'seed': np.int64}, ('a', 'b', 'c'), 'x');"
        "print('pyarrow.compute' in sys.modules)"
    )
    assert fresh_python(script).strip() == "False"
