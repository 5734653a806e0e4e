"""Arrow arrays from numpy arrays and Python strings, and back, without importing pandas.

pyarrow imports pandas (about a fifth of a second and 60 MB) on the first conversion of a
numpy array or a Python object (``pa.array(...)``, ``pa.scalar(...)``, ``Array.to_numpy``,
``pq.read_table``), only to ask whether the object is a pandas one.  A run that writes its
trajectory, or a sweep worker that writes result parts, would pay that on every process start.
These helpers build arrays from raw buffers instead (``Array.from_buffers``) and read them
back the same way, so the arrays, and the Parquet files written from them, are the same
as ``pa.array`` would give.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

_NUMPY = {
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.float64(): np.float64,
}
"""numpy dtype of each Arrow type :func:`column` builds (besides strings)."""


def numbers(values: np.ndarray | Sequence[float], dtype: type | None = None) -> pa.Array:
    """A numeric Arrow array with the values (NaN stays a value, as ``pa.array`` leaves it)."""
    data = np.ascontiguousarray(values if dtype is None else np.asarray(values, dtype=dtype))
    kind = pa.from_numpy_dtype(data.dtype)
    return pa.Array.from_buffers(kind, data.size, [None, pa.py_buffer(data)])


def strings(values: Sequence[str | None]) -> pa.Array:
    """A string array of ``values`` (``None`` becomes null)."""
    n = len(values)
    size = {v: 0 if v is None else len(v.encode()) for v in set(values)}
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(size.__getitem__, values), dtype=np.int64, count=n), out=offsets[1:])
    if offsets[-1] >= 2**31:  # past what one string array addresses: let pyarrow chunk it
        return pa.array(values, pa.string())
    data = pa.py_buffer("".join(v for v in values if v is not None).encode())
    valid = None
    if None in size:
        valid = pa.py_buffer(np.packbits([v is not None for v in values], bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(), n, [valid, pa.py_buffer(offsets.astype(np.int32)), data]
    )


def column(values: Sequence[object], kind: pa.DataType) -> pa.Array:
    """An array of Python values (``None`` becomes null) of a string, integer or float type."""
    if pa.types.is_string(kind):
        return strings(values)  # type: ignore[arg-type]
    dtype = _NUMPY[kind]
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    data = np.array([0 if v is None else v for v in values], dtype=dtype)
    valid = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.Array.from_buffers(kind, data.size, [valid, pa.py_buffer(data)])


def repeated(value: str, n: int) -> pa.Array:
    """``n`` copies of one string."""
    return strings([value] * n)


def to_numbers(column: pa.Array | pa.ChunkedArray, dtype: type) -> np.ndarray:
    """A numeric column as a numpy array of ``dtype`` (nulls become NaN; ints must have none).

    A column stored in a narrower type (int16 seeds, int32 indices) is widened by numpy; any
    other conversion is Arrow's ``cast``, which refuses what does not fit
    (:class:`pyarrow.ArrowInvalid`) but imports ``pyarrow.compute`` first (22 ms, a third of a
    sweep worker's first run).
    """
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    stored = _numpy_type(arr.type)
    if stored is None or not np.can_cast(stored, dtype, "safe"):
        arr = arr.cast(pa.from_numpy_dtype(dtype))
        stored = np.dtype(dtype)
    values = _values(arr, stored).astype(dtype, copy=False)
    valid = _valid(arr)
    if valid is None:
        return values
    if np.dtype(dtype).kind != "f":
        raise ValueError(f"an integer column holds {arr.null_count} nulls")
    return np.where(valid, values, np.nan)


def to_strings(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A string column as a numpy array of Python strings (nulls become ``None``)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = arr if pa.types.is_dictionary(arr.type) else arr.dictionary_encode()
    names = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
    indices = encoded.indices
    codes = _values(indices, _numpy_type(indices.type)).astype(np.int64)
    valid = _valid(indices)
    return names[codes if valid is None else np.where(valid, codes, -1)]


def take_rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """``table.take(rows)``, by numpy for the columns a run's trajectory holds (numbers, and
    texts dictionary-encoded), so that a sweep worker does not import ``pyarrow.compute``
    (22 ms, the largest part of its first run) to split a run's rows by task.  Any other
    column (plain strings, nulls) goes through Arrow's ``take``, as does the whole table then.
    """
    columns = []
    for column in table.columns:
        arr = column.combine_chunks()
        taken = _taken(arr, rows)
        if taken is None:
            return table.take(numbers(rows, np.int64))
        columns.append(taken)
    return pa.Table.from_arrays(columns, schema=table.schema)


def _taken(arr: pa.Array, rows: np.ndarray) -> pa.Array | None:
    """``arr.take(rows)`` for a number or dictionary array without nulls, else None."""
    if arr.null_count:
        return None
    if pa.types.is_dictionary(arr.type):
        codes = _taken(arr.indices, rows)
        if codes is None:
            return None
        return pa.DictionaryArray.from_arrays(codes, arr.dictionary, ordered=arr.type.ordered)
    stored = _numpy_type(arr.type)
    if stored is None:
        return None
    return numbers(_values(arr, stored)[rows])


def _numpy_type(arrow_type: pa.DataType) -> np.dtype | None:
    """The numpy type of a fixed-width integer or float Arrow type, else None."""
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return np.dtype(arrow_type.to_pandas_dtype())
    return None


def _values(arr: pa.Array, dtype: type | np.dtype) -> np.ndarray:
    """The value buffer of a primitive array as numpy (read-only; null slots hold anything)."""
    if len(arr) == 0:
        return np.empty(0, dtype=dtype)
    itemsize = np.dtype(dtype).itemsize
    return np.frombuffer(
        arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * itemsize
    )


def _valid(arr: pa.Array) -> np.ndarray | None:
    """Which slots hold a value (``None``: all of them)."""
    if not arr.null_count:
        return None
    bits = np.frombuffer(arr.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[arr.offset : arr.offset + len(arr)].astype(bool)
