"""Every choice by name goes through one Registry: duplicates refused alike, unknown names
listed, built-in entries found without a hand-kept list."""

from __future__ import annotations

import pytest

from benchsim._registry import Registry, module_names
from benchsim.algorithms._base import ALGORITHMS
from benchsim.backends import BACKENDS, OUTLINES
from benchsim.errors import ConfigError, UnknownNameError
from benchsim.spaces import SPACES
from benchsim.store._builders import BUILDERS

REGISTRIES = {"algorithm": ALGORITHMS, "search space": SPACES, "table builder": BUILDERS,
              "backend": BACKENDS, "backend outline": OUTLINES}  # fmt: skip


@pytest.mark.parametrize("kind", REGISTRIES)
def test_every_registry_refuses_a_taken_name_the_same_way(kind):
    registry = REGISTRIES[kind]
    name = registry.names()[0]
    with pytest.raises(ConfigError, match=rf"^{kind} '{name}' is already registered \(.+\); "
                       "choose another name$"):  # fmt: skip
        registry.add(name, object())
    registry.add(name, registry.get(name))  # the same entry again is fine (a re-import)
    with pytest.raises(UnknownNameError, match=rf"^unknown {kind} 'nope'; allowed: "):
        registry.get("nope")


def test_built_in_entries_are_discovered_not_listed():
    assert set(ALGORITHMS.names()) >= {"rs", "rea", "reinforce", "ppo", "emtnas", "ktnas",
                                       "xfernas"}  # fmt: skip
    assert SPACES.names() == ("nb201", "tnb101-macro", "tnb101-micro")
    assert BUILDERS.names() == ("nb201", "tnb101-macro", "tnb101-micro")
    # the command line's --backend choices are read from the folder; they are the registered ones
    from benchsim.cli._live import BACKEND_NAMES

    assert tuple(BACKEND_NAMES) == BACKENDS.names() == ("gpu", "table")
    assert module_names("benchsim.backends", packages_only=True) == ("gpu", "table")


def test_a_module_that_exists_registers_itself(tmp_path, monkeypatch):
    package = tmp_path / "plugins_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from benchsim._registry import Registry\n"
        "THINGS = Registry('thing', discover='plugins_pkg')\n"
    )
    (package / "alpha.py").write_text("from plugins_pkg import THINGS\nTHINGS.add('a', 1)\n")
    (package / "_private.py").write_text("raise RuntimeError('never imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import plugins_pkg

    assert plugins_pkg.THINGS.names() == ("a",) and plugins_pkg.THINGS.get("a") == 1


def test_registry_doc_example():
    registry: Registry[int] = Registry("colour")
    registry.register("red")(1)
    assert "red" in registry and list(registry) == ["red"]
    registry.remove("red")
    assert "red" not in registry
