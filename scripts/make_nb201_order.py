"""Write ``benchsim/spaces/nb201_order.npy``: the official NAS-Bench-201 index order.

The official index of an NB201 cell (``api.arch(i)``) is an arbitrary order that no formula
gives, so benchsim ships it: a uint16 array whose entry ``i`` is the gene code (base-5 number of
the six op numbers in string edge order, see ``benchsim/spaces/_cell.py``) of official index
``i``.  This script derives it from NATS-Bench's own list of all 15,625 arch strings:

    source: D-X-Y/NATS-Bench @ 1d4a304ad1906aa5866563438fcbf0d624b7eda2
            fake_torch_dir/NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2
    sha256: 7ecc7932fabec6b80551e07b845346de99d83c673f67a1891d619576b3fa053c
    url:    https://raw.githubusercontent.com/D-X-Y/NATS-Bench/<commit>/<path>

The file is a bz2-compressed pickle of a plain dict; it is read with an unpickler that refuses
every class, so the file cannot run code.  Usage::

    python scripts/make_nb201_order.py [--mirror shared/data/upstream] [--out PATH] [--check]

``--check`` compares with the existing file instead of writing it (exit 1 if they differ).
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import os
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (
    "D-X-Y/NATS-Bench/1d4a304ad1906aa5866563438fcbf0d624b7eda2/"
    "fake_torch_dir/NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2"
)
SOURCE_SHA256 = "7ecc7932fabec6b80551e07b845346de99d83c673f67a1891d619576b3fa053c"
DEFAULT_OUT = ROOT / "benchsim" / "spaces" / "nb201_order.npy"


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles builtin containers only; any class reference is refused."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from {SOURCE}")


def default_mirror() -> Path | None:
    """``$BENCHSIM_DATA_MIRROR``, else the first ``shared/data/upstream`` above the repo."""
    env = os.environ.get("BENCHSIM_DATA_MIRROR")
    if env:
        return Path(env)
    for parent in [ROOT, *ROOT.parents]:
        candidate = parent / "shared" / "data" / "upstream"
        if candidate.is_dir():
            return candidate
    return None


def read_meta_archs(mirror: Path) -> list[str]:
    """The 15,625 arch strings of the pinned meta file, in official index order."""
    path = mirror / SOURCE
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not the pinned {SOURCE_SHA256}")
    meta = _PlainUnpickler(io.BytesIO(bz2.decompress(data))).load()
    archs = meta["meta_archs"]
    if len(archs) != meta["total_archs"]:
        raise SystemExit(f"{path}: {len(archs)} arch strings but total_archs {meta['total_archs']}")
    return list(archs)


def build_order(archs: list[str]) -> np.ndarray:
    """Gene code of each arch string, as uint16; checks that it is a permutation."""
    sys.path.insert(0, str(ROOT))
    from benchsim.spaces._cell import genes_to_codes
    from benchsim.spaces.nb201 import NB201_OPS, parse_genes

    genes = np.array([parse_genes(a) for a in archs], dtype=np.int64)
    codes = genes_to_codes(genes, len(NB201_OPS))
    size = len(NB201_OPS) ** genes.shape[1]
    if len(codes) != size or not np.array_equal(np.sort(codes), np.arange(size)):
        raise SystemExit(f"the {len(codes)} arch strings are not all {size} NB201 cells once each")
    return codes.astype("<u2")


def main(argv: list[str] | None = None) -> int:
    """Build the order and write it (or compare it with ``--check``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=default_mirror())
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.mirror is None:
        parser.error("no data mirror found; pass --mirror or set BENCHSIM_DATA_MIRROR")
    order = build_order(read_meta_archs(args.mirror))
    if args.check:
        same = args.out.is_file() and np.array_equal(np.load(args.out), order)
        print(f"{args.out}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    np.save(args.out, order)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
