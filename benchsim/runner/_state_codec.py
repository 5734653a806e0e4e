"""A run's state as data that cannot execute code: JSON plus numpy arrays (no pickle).

A checkpoint used to be a pickle, so ``--resume`` on a run folder someone sent you could run
arbitrary code.  :func:`encode` turns a state into plain JSON values and a dict of numpy arrays
(saved with ``numpy.savez``, read with ``allow_pickle=False``); :func:`decode` rebuilds it and
can only create:

* JSON scalars, lists, and tagged tuples, sets, deques, dicts (any hashable keys), numpy
  scalars and arrays (numeric dtypes only), ``numpy.random.Generator`` (its bit generator's
  state dict), torch tensors (as arrays, torch imported only then);
* search spaces, by registry name;
* instances of classes defined in ``benchsim`` modules, by ``module:qualname``: the class is
  looked up (the module must start with ``benchsim.``), an instance made with ``__new__``
  (no ``__init__``, no ``__setstate__``) and its ``__dict__`` filled with decoded data.

An object reached twice (an optimiser's list of the very arrays a network holds; a generator
shared by two owners) is written once and referred to after (``__shared__`` / ``__ref__``),
so after loading the owners share it again, as they did before saving.

Anything else is refused with a :class:`CodecError` naming where it was, on saving (so a new
kind of state fails in the tests, not on a user's resume) and on loading (a tampered file).
"""

from __future__ import annotations

import collections
import importlib
import math
import sys
from typing import Any

import numpy as np

from benchsim.errors import CodecError

_NUMERIC_KINDS = "biufc"
_DEFAULT_FACTORIES = {
    "list": list,
    "int": int,
    "float": float,
    "dict": dict,
    "set": set,
    "deque": collections.deque,
}


_SHAREABLE = (list, dict, set, collections.deque, np.ndarray, np.random.Generator)


def _children(value: Any) -> list[Any]:
    """What :func:`_count_references` walks into (the same structure the encoder writes)."""
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset, collections.deque)):
        return list(value)
    if isinstance(value, (np.ndarray, np.random.Generator, np.generic, str, bytes)):
        return []
    if _benchsim_object(value):
        return list(vars(value).values())
    return []


def _benchsim_object(value: Any) -> bool:
    """An instance of a benchsim class with instance attributes (what the codec writes by
    name and fields)."""
    return type(value).__module__.startswith("benchsim.") and isinstance(
        getattr(value, "__dict__", None), dict
    )


def _count_references(root: Any) -> set[int]:
    """Ids of the shareable objects reached more than once from ``root``."""
    seen: set[int] = set()
    twice: set[int] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        shareable = isinstance(value, _SHAREABLE) or _benchsim_object(value)
        if shareable:
            if id(value) in seen:
                twice.add(id(value))
                continue
            seen.add(id(value))
        stack.extend(_children(value))
    return twice


class Encoder:
    """Collects the arrays while encoding; ``arrays`` goes to the ``.npz`` file."""

    def __init__(self, shared: set[int] | None = None) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._shared = shared or set()
        self._written: dict[int, int] = {}

    def _array(self, value: np.ndarray, where: str) -> str:
        if value.dtype.kind not in _NUMERIC_KINDS:
            raise CodecError(f"cannot checkpoint {where}: a numpy array of dtype {value.dtype}")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = value
        return key

    def encode(self, value: Any, where: str = "state") -> Any:
        key = id(value)
        if key in self._shared:
            if key in self._written:
                return {"__ref__": self._written[key]}
            number = self._written[key] = len(self._written)
            return {"__shared__": number, "value": self._encode(value, where)}
        return self._encode(value, where)

    def _encode(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, np.ndarray):
            return {"__array__": self._array(value, where)}
        if isinstance(value, np.generic):
            return {"__scalar__": self._array(np.asarray(value), where)}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if type(value) is tuple:  # a named tuple is a class: written by name below
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, (set, frozenset)):
            return {"__set__": [self.encode(v, f"{where}{{}}") for v in sorted(value, key=repr)]}
        if isinstance(value, collections.deque):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return {"__deque__": items, "maxlen": value.maxlen}
        if isinstance(value, dict):
            return self._dict(value, where)
        if isinstance(value, np.random.Generator):
            state = value.bit_generator.state
            return {"__generator__": state["bit_generator"], "state": self.encode(state, where)}
        return self._object(value, where)

    def _dict(self, value: dict, where: str) -> Any:
        pairs = [[self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                 for k, v in value.items()]  # fmt: skip
        if isinstance(value, collections.defaultdict):
            factory = getattr(value.default_factory, "__name__", None)
            if factory not in _DEFAULT_FACTORIES:
                raise CodecError(f"cannot checkpoint {where}: a defaultdict of {factory!r}")
            return {"__defaultdict__": pairs, "factory": factory}
        return {"__dict__": pairs}

    def _object(self, value: Any, where: str) -> Any:
        from benchsim.spaces import SearchSpace

        if isinstance(value, SearchSpace):
            return {"__space__": value.name}
        kind = type(value)
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            return self._tensor(value, where)
        module = kind.__module__
        if not _benchsim_object(value):
            raise CodecError(
                f"cannot checkpoint {where}: {module}.{kind.__qualname__} is not a benchsim "
                "class, a numpy value or plain data"
            )
        state = {k: self.encode(v, f"{where}.{k}") for k, v in vars(value).items()}
        return {"__object__": f"{module}:{kind.__qualname__}", "state": state}

    def _tensor(self, value: Any, where: str) -> Any:
        import torch

        tensor = value.detach().cpu()
        dtype = str(tensor.dtype).removeprefix("torch.")
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: keep the bits
            tensor = tensor.view(torch.int16)
        return {"__tensor__": self._array(tensor.numpy(), where), "dtype": dtype}


def encode(state: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """``(json_value, arrays)`` for ``state`` (see the module docstring)."""
    encoder = Encoder(_count_references(state))
    return encoder.encode(state), encoder.arrays


def decode(value: Any, arrays: Any) -> Any:
    """Rebuild what :func:`encode` wrote; ``arrays`` maps array keys to numpy arrays."""
    return _Decoder(arrays).decode(value)


class _Decoder:
    def __init__(self, arrays: Any) -> None:
        self.arrays = arrays
        self.memo: dict[int, Any] = {}

    def decode(self, value: Any) -> Any:
        if isinstance(value, dict) and "__shared__" in value:
            number = value["__shared__"]
            built = _decode(value["value"], self.arrays, self, number)
            self.memo.setdefault(number, built)
            return built
        if isinstance(value, dict) and "__ref__" in value:
            try:
                return self.memo[value["__ref__"]]
            except (KeyError, TypeError):
                raise CodecError(f"checkpoint refers to an unknown {value}") from None
        return _decode(value, self.arrays, self, None)


def _decode(value: Any, arrays: Any, decoder: _Decoder, number: int | None) -> Any:
    """One value; a container or object registers itself as ``number`` before its content
    (so a reference to it from inside resolves)."""
    decode = decoder.decode
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        out: list = []
        if number is not None:
            decoder.memo[number] = out
        out.extend(decode(v) for v in value)
        return out
    if not isinstance(value, dict) or len(value) > 2:
        raise CodecError(f"checkpoint holds an unknown value {str(value)[:80]}")
    tag = next((k for k in value if k.startswith("__")), None)
    body = value.get(tag)
    if tag == "__float__":
        return float(body)
    if tag == "__array__":
        return np.array(arrays[body])
    if tag == "__scalar__":
        return arrays[body][()]
    if tag == "__tuple__":
        return tuple(decode(v) for v in body)
    if tag == "__set__":
        return {decode(v) for v in body}
    if tag == "__deque__":
        return collections.deque((decode(v) for v in body), value["maxlen"])
    if tag == "__dict__":
        mapping: dict = {}
        if number is not None:
            decoder.memo[number] = mapping
        mapping.update((decode(k), decode(v)) for k, v in body)
        return mapping
    if tag == "__defaultdict__":
        factory = _DEFAULT_FACTORIES.get(value["factory"])
        if factory is None:
            raise CodecError(f"checkpoint names an unknown defaultdict {value['factory']!r}")
        return collections.defaultdict(factory, {decode(k): decode(v)
                                                 for k, v in body})  # fmt: skip
    if tag == "__generator__":
        bit_generator = getattr(np.random, str(body), None)
        known = isinstance(bit_generator, type) and issubclass(
            bit_generator, np.random.BitGenerator
        )
        if not known:
            raise CodecError(f"checkpoint names an unknown bit generator {body!r}")
        generator = np.random.Generator(bit_generator())
        generator.bit_generator.state = decode(value["state"])
        return generator
    if tag == "__space__":
        from benchsim.spaces import get_space

        return get_space(body)
    if tag == "__tensor__":
        import torch

        dtype = getattr(torch, value["dtype"])
        tensor = torch.from_numpy(np.array(arrays[body]))
        return tensor.view(dtype) if dtype == torch.bfloat16 else tensor.to(dtype)
    if tag == "__object__":
        return _instance(body, value["state"], decoder, number)
    raise CodecError(f"checkpoint holds an unknown tag {tag!r}")


def _instance(path: str, state: dict, decoder: _Decoder, number: int | None) -> Any:
    module_name, _, qualname = str(path).partition(":")
    if not module_name.startswith("benchsim.") or not qualname:
        raise CodecError(f"checkpoint names class {path!r}, which is not a benchsim class")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise CodecError(f"checkpoint names class {path!r}, which this benchsim lacks") from None
    if not isinstance(found, type):
        raise CodecError(f"checkpoint names {path!r}, which is not a class")
    obj = found.__new__(found)
    if number is not None:
        decoder.memo[number] = obj
    obj.__dict__.update({str(k): decoder.decode(v) for k, v in state.items()})
    return obj
