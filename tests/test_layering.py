"""Dependencies run one way: a lower layer never imports a higher one, in any import.

The layers, lowest first (a package may import its own modules and those of lower layers only):

errors -> paths -> checks, integrity, registry, files, arrow -> forkserver -> catalog, spaces,
distances -> store, algorithms -> datasets, importers -> backends -> ``benchsim`` itself ->
runner, compat -> sweep -> report -> reproduce -> cli.

Two checks: every ``import`` statement of the package (also those inside functions, which run
later but still make a cycle) read with :mod:`ast`; and, in a fresh interpreter per package,
which benchsim modules importing it actually loads.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "benchsim"

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "errors _version",
        "_paths",
        "_checks _integrity _registry _files _ticker _arrow _linalg _forkserver_exit",
        "_forkserver",
        "catalog spaces distances",
        "store algorithms",
        "datasets importers",
        "backends",
        "<root>",
        "runner compat",
        "sweep",
        "report",
        "reproduce",
        "cli",
    )
)
LAYER_OF = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _unit(module: str) -> str:
    """``benchsim.store._fetch`` -> ``store``; ``benchsim`` -> ``<root>``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n == "benchsim" or n.startswith("benchsim.")]
    return found


def _own_unit(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return "<root>" if parts == ("__init__",) else parts[0]


def test_every_package_has_a_layer():
    units = {_own_unit(p) for p in PACKAGE.rglob("*.py")}
    missing = sorted(units - set(LAYER_OF))
    assert not missing, f"add {missing} to LAYERS in {Path(__file__).name}"


def test_no_import_reaches_up():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        mine = _own_unit(path)
        for line, module in _imports(path):
            theirs = _unit(module)
            if theirs != mine and LAYER_OF.get(theirs, 99) >= LAYER_OF[mine]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({mine}) imports {module}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


_PROBE = """
import json, sys
import benchsim
before = set(sys.modules)
import importlib
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith("benchsim."))))
"""


EXISTING = sorted(u for u in LAYER_OF if (PACKAGE / u).is_dir() or (PACKAGE / f"{u}.py").is_file())


@pytest.mark.parametrize("unit", EXISTING)
def test_importing_a_package_loads_nothing_above_it(unit, fresh_python):
    out = fresh_python(_PROBE, f"benchsim.{unit}", cwd=PACKAGE.parent)
    loaded = {_unit(m) for m in json.loads(out)}
    above = sorted(u for u in loaded if LAYER_OF.get(u, 99) > LAYER_OF[unit])
    assert not above, f"importing benchsim.{unit} loads {above}"
