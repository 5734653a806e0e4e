"""The shape of the package: no import circles, a narrow backend contract, facets not flags.

``tests/test_layering.py`` keeps dependencies running one way between packages; this keeps
them acyclic within a package too.  The import graph is read with :mod:`ast` from every
``import`` statement of every module (also those inside functions and under
``TYPE_CHECKING``: a circle that only type checkers or a late call walk is still a circle,
and it is how mixins came to import their host), an edge from a module to the module it names
(``from a.b import c`` names ``a.b.c`` when that is a module, else ``a.b``; the parents a
submodule import runs are not edges, so a package may re-export its own modules).  Any
strongly connected component of more than one module is a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "benchsim"


def _module(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> nx.DiGraph:
    """Module -> the modules it imports, over every ``*.py`` file under ``package``."""
    modules = {_module(path, package): path for path in package.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolved against this module's package
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target in modules and target != name:
                    graph.add_edge(name, target)
    return graph


def circles(graph: nx.DiGraph) -> list[list[str]]:
    """Every set of modules that import each other, directly or through others."""
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def test_no_module_imports_itself_back():
    found = circles(import_graph())
    assert not found, "modules that import each other back: " + "; ".join(map(str, found))


def test_the_backend_contract_stays_narrow():
    """``backends/base.py`` is the lookup contract only; capabilities live in components."""
    lines = (PACKAGE / "backends" / "base.py").read_text().count("\n")
    assert lines < 350, f"backends/base.py has {lines} lines; keep the contract narrow"


def test_the_circle_finder_sees_function_level_and_type_checking_imports(tmp_path):
    root = tmp_path / "benchsim"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("from benchsim.sub.a import A\n")
    (root / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\nA = 1\n"
    )
    (root / "sub" / "b.py").write_text("def f():\n    from benchsim.sub import c\n")
    (root / "sub" / "c.py").write_text("import benchsim.sub.a\n")
    assert circles(import_graph(root)) == [["benchsim.sub.a", "benchsim.sub.b", "benchsim.sub.c"]]


def test_no_branch_on_a_tabular_flag():
    """What differs between backends is asked of one named :class:`~benchsim.backends.Traits`
    facet per decision, never of a catch-all ``tabular`` flag."""
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if (isinstance(node, ast.Attribute) and node.attr == "tabular")
        or (isinstance(node, ast.keyword) and node.arg == "tabular")
        or (isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "tabular")
    ]
    assert not found, "a tabular flag is read or declared at: " + ", ".join(found)
