"""The static experiment index equals what discovery finds; names are checked without importing experiments."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dltheory.errors import DLTheoryError
from dltheory.experiments.catalog import BUILTIN, catalog, check_name, suggest
from dltheory.experiments.registry import _builtin_experiments


def test_static_index_equals_discovery():
    discovered = {e.name: (e.module, e.pillar, e.title) for e in _builtin_experiments()}
    indexed = {e.name: (e.module, e.pillar, e.title) for e in BUILTIN.values()}
    if discovered != indexed:
        literal = "\n".join(f"    _builtin({n!r}, {m.rsplit('.', 1)[1]!r}, {p!r}, {t!r}),"
                            for n, (m, p, t) in sorted(discovered.items(), key=lambda kv: kv[0]))
        pytest.fail("dltheory/experiments/catalog.py BUILTIN is out of date; discovery finds:\n" + literal)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(DLTheoryError, match=r"did you mean 'criticality'"):
        check_name("critcality", catalog())
    with pytest.raises(DLTheoryError, match="unknown experiment 'zzzz'") as info:
        check_name("zzzz", catalog())
    assert "did you mean" not in str(info.value)
    assert suggest("kernel-propogation", list(BUILTIN)) == "; did you mean 'kernel-propagation'?"


def test_catalog_and_name_check_import_no_heavy_module():
    code = ("import sys\n"
            "from dltheory.experiments.catalog import catalog, check_name\n"
            "names = catalog()\n"
            "try:\n    check_name('critcality', names)\nexcept Exception as e:\n    print(type(e).__name__)\n"
            "heavy = sorted(m for m in ('torch', 'scipy', 'pandas', 'numpy', 'matplotlib') if m in sys.modules)\n"
            "print(len(names), heavy)\n")
    env = {k: v for k, v in os.environ.items() if k != "DLTHEORY_EXTRA_EXPERIMENTS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split("\n")[:2] == ["DLTheoryError", f"{len(BUILTIN)} []"], out


def test_get_experiment_imports_only_its_own_module():
    code = ("import sys\n"
            "from dltheory.experiments import get_experiment\n"
            "get_experiment('criticality')\n"
            "print(sorted(m for m in sys.modules if m.startswith('dltheory.experiments.')))\n")
    env = {k: v for k, v in os.environ.items() if k != "DLTHEORY_EXTRA_EXPERIMENTS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == str(["dltheory.experiments.catalog", "dltheory.experiments.criticality",
                               "dltheory.experiments.registry"]), out
