"""The data store: install benchmark tables from pinned public sources, check and list them.

``install`` builds ``$BENCHSIM_HOME/tables/<benchmark>/`` (schema: data/README.md) for
``nb201``, ``tnb101-micro`` and ``tnb101-macro`` from the files pinned in
``benchsim/store/manifest.toml``, downloading them from GitHub or reading an offline mirror
(``$BENCHSIM_DATA_MIRROR``).  ``write_tables`` is the one writer of that schema, used by the
installer and by the importers alike.

Examples
--------
>>> from benchsim import store
>>> folder = store.ensure_installed("nb201")  # doctest: +SKIP
benchsim: installing nb201 tables from github (first use)...
>>> [(r["benchmark"], r["installed"]) for r in store.list_tables()]  # doctest: +SKIP
[('nb201', True), ('tnb101-micro', False), ('tnb101-macro', False)]
"""

from benchsim.store._install import (
    INSTALL_NAMES,
    ensure_installed,
    install,
    is_installed,
    list_tables,
    table_dir,
    verify,
)
from benchsim.store._manifest import BENCHMARKS, SourceFile, files_for, manifest
from benchsim.store._schema import final_frame, metric_columns, seed_metric_columns
from benchsim.store._write import META_FILE, SCHEMA_VERSION, TABLE_FILES, write_tables

__all__ = [
    "BENCHMARKS",
    "INSTALL_NAMES",
    "META_FILE",
    "SCHEMA_VERSION",
    "TABLE_FILES",
    "SourceFile",
    "ensure_installed",
    "files_for",
    "final_frame",
    "install",
    "is_installed",
    "list_tables",
    "manifest",
    "metric_columns",
    "seed_metric_columns",
    "table_dir",
    "verify",
    "write_tables",
]
