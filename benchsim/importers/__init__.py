"""Importers for the official benchmark file formats.

Each importer turns an official file into the tables the data installer writes
(``data/README.md``): ``{"final", "seeds", "epochs"}`` DataFrames over the same search space,
with the catalog's metric names (``benchsim/catalog.py``).  The ``read_*``
functions return the tables without writing; :func:`import_file` writes them as a benchmark
folder of its own (never over the installer's ``nb201`` / ``tnb101-micro`` / ``tnb101-macro``).

========================  ==========================================  ===========================
kind                      file                                        reader
========================  ==========================================  ===========================
``nats-tss-simple``       ``NATS-tss-v1_0-3ffb9-simple/`` or one       :func:`read_nats_tss_simple`
                          ``NNNNNN.pickle.pbz2``
``nb201-pth``             ``NAS-Bench-201-v1_0-e61699.pth`` /          :func:`read_nb201_pth`
                          ``-v1_1-096897.pth``
``tnb101-pth``            ``transnas-bench_v10141024.pth``             :func:`read_tnb101_pth`
========================  ==========================================  ===========================

Security: the official files are pickles.  NATS-Bench files are read with an unpickler that
builds plain data only; ``.pth`` files go through ``torch.load(weights_only=False)``, which can
run code named in the file, so import only files from the benchmark's official source.
"""

from benchsim.importers._import import BUILTIN_NAMES, default_name, import_file
from benchsim.importers._io import IMPORT_KINDS
from benchsim.importers._nats import read_nats_tss_simple
from benchsim.importers._nb201_pth import read_nb201_pth
from benchsim.importers._tnb101 import read_tnb101_pth

__all__ = [
    "BUILTIN_NAMES",
    "IMPORT_KINDS",
    "default_name",
    "import_file",
    "read_nats_tss_simple",
    "read_nb201_pth",
    "read_tnb101_pth",
]
