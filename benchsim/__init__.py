"""benchsim: run one NAS algorithm unchanged on tabular benchmarks or a live GPU supernet.

Entry point: :func:`benchmark` opens a benchmark by name (``"nb201"``, ``"tnb101-micro"``,
``"tnb101-macro"``), installing its tables from the pinned sources on first use.
"""

from benchsim._version import __version__
from benchsim.errors import BenchsimError

__all__ = ["BenchsimError", "__version__", "benchmark"]


def __getattr__(name: str):
    # Lazy: ``import benchsim`` stays cheap (no pyarrow/pandas import) until a benchmark opens.
    if name == "benchmark":
        from benchsim.backends import benchmark

        return benchmark
    raise AttributeError(f"module 'benchsim' has no attribute {name!r}")
