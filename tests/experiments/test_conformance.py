"""Checks every registered experiment must pass (the scikit-learn ``parametrize_with_checks`` idea).

Cheap checks (configs, constraints, module boundaries) run by default; running every experiment once
at quick scale is ``slow`` and shares one run per experiment between the checks that need it.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import math
import pkgutil
import typing
from pathlib import Path

import matplotlib.figure
import pandas as pd
import pytest

import dltheory.experiments as experiments_package
from dltheory.cli import parse_overrides
from dltheory.errors import DLTheoryError
from dltheory.experiments import all_experiments
from dltheory.lab.base import SCALES, Claim, Outcome
from dltheory.lab.constraints import Bool, Choice, OrNone, constraints_of
from dltheory.lab.runner import experiment_rng

EXPERIMENTS = all_experiments()
NAMES = list(EXPERIMENTS)
PACKAGE_DIR = Path(experiments_package.__file__).parent
MODULES = sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE_DIR)]) if not info.name.startswith("_"))
INFRASTRUCTURE = {"registry", "catalog"}  # discovery and its static index


def _cli_text(value: typing.Any) -> str:
    """``value`` written the way a user writes it after ``--set KEY=``."""
    return repr(list(value)) if isinstance(value, tuple) else repr(value)


def _assert_one_line(exc: BaseException, field: str) -> None:
    message = str(exc)
    assert "\n" not in message and message.startswith(f"config field {field}"), message
    assert "; got " in message, message


# -- configs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_scales_validate_and_round_trip_through_set_and_json(name):
    exp = EXPERIMENTS[name]
    for scale in SCALES:
        cfg = exp.config(scale)
        assert isinstance(cfg, exp.config_cls)
        items = [f"{f.name}={_cli_text(getattr(cfg, f.name))}" for f in dataclasses.fields(cfg)]
        parsed = parse_overrides(items)
        assert exp.config(scale, **parsed) == cfg
        other = "full" if scale == "quick" else "quick"
        assert exp.config(other, **parsed) == cfg  # every field set: the starting scale does not matter
        assert exp.config_cls.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize("name", NAMES)
def test_every_field_declares_a_bounded_constraint_matching_its_annotation(name):
    cls = EXPERIMENTS[name].config_cls
    constraints = constraints_of(cls)  # raises TypeError for a field declared without declare()
    hints = typing.get_type_hints(cls)
    assert set(constraints) == {f.name for f in dataclasses.fields(cls)}
    for field, constraint in constraints.items():
        assert hints[field] == constraint.annotation(), (field, hints[field], constraint.annotation())
        inner = constraint.inner if isinstance(constraint, OrNone) else constraint
        if not isinstance(inner, (Bool, Choice)):  # finite sets have no maximum to exceed
            assert constraint.above_maximum(), f"{field}: declares no maximum"


@pytest.mark.parametrize("name", NAMES)
def test_values_beyond_the_declared_bounds_are_one_line_errors(name):
    exp = EXPERIMENTS[name]
    cfg = exp.config("quick")
    for field, constraint in constraints_of(cfg).items():
        for value in constraint.above_maximum() + constraint.invalid_examples():
            with pytest.raises(DLTheoryError) as info:
                cfg.replace(**{field: value})
            _assert_one_line(info.value, field)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_fields_are_one_line_errors(name):
    exp = EXPERIMENTS[name]
    for key in ("no_such_field", "scale", "self"):
        with pytest.raises(DLTheoryError, match="unknown config field") as info:
            exp.config("quick", **{key: 1})
        assert "\n" not in str(info.value)


# -- the package and its module boundaries ---------------------------------------------------------------


def test_experiments_package_holds_the_registry_and_experiment_modules_only():
    registered = {exp.module for exp in EXPERIMENTS.values()}
    for module_name in MODULES:
        if module_name in INFRASTRUCTURE:
            continue
        module = importlib.import_module(f"dltheory.experiments.{module_name}")
        exp = getattr(module, "EXPERIMENT", None)
        assert exp is not None, f"experiments/{module_name}.py defines no EXPERIMENT: move it out of experiments/"
        assert exp.name == module_name.replace("_", "-"), (module_name, exp.name)
        assert module.__name__ in registered and EXPERIMENTS[exp.name] is exp


def _violations(module_name: str) -> list[str]:
    path = PACKAGE_DIR / f"{module_name}.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    own = f"dltheory.experiments.{module_name}"
    experiment_modules = {f"dltheory.experiments.{m}" for m in MODULES if m not in INFRASTRUCTURE}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against this package
                base = ".".join(own.split(".")[: -node.level] + ([base] if base else []))
            targets = [(base, alias.name) for alias in node.names]
        else:
            continue
        for module, name in targets:
            full = f"{module}.{name}" if name else module
            if module in experiment_modules - {own} or full in experiment_modules - {own}:
                found.append(f"line {node.lineno}: imports the experiment module {full}")
            if name and name.startswith("_") and module.startswith("dltheory") and module != own:
                found.append(f"line {node.lineno}: imports the private name {name} from {module}")
    return found


@pytest.mark.parametrize("module_name", MODULES)
def test_no_experiment_imports_another_experiment_or_a_private_name(module_name):
    assert _violations(module_name) == []


def test_the_import_check_catches_violations(tmp_path, monkeypatch):
    bad = ("from dltheory.experiments.four_point_vertex import pooled_slope_fit\n"
           "from dltheory.nets.random_mlp import _draw_layer\n"
           "import dltheory.experiments.criticality\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE_DIR", tmp_path)
    (tmp_path / "fake.py").write_text(bad)
    found = _violations("fake")
    assert len(found) == 3, found


# -- running (one quick run per experiment, shared) ------------------------------------------------------


@pytest.fixture(scope="session")
def quick_outcome():
    """``quick_outcome(name)``: the experiment's quick-scale Outcome at seed 0, run once per session."""
    cache: dict[str, Outcome] = {}

    def get(name: str) -> Outcome:
        if name not in cache:
            exp = EXPERIMENTS[name]
            cache[name] = exp.execute(exp.config("quick"), experiment_rng(0, name))
        return cache[name]

    yield get
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_quick_run_returns_a_table_figures_and_claims(name, quick_outcome):
    out = quick_outcome(name)
    assert isinstance(out, Outcome)
    assert isinstance(out.table, pd.DataFrame) and len(out.table) > 0 and len(out.table.columns) > 0
    assert out.figures and all(isinstance(k, str) and isinstance(f, matplotlib.figure.Figure)
                               for k, f in out.figures.items())
    assert out.claims and all(isinstance(c, Claim) for c in out.claims)
    names = [c.name for c in out.claims]
    assert len(set(names)) == len(names), names
    for c in out.claims:
        assert c.figure is None or c.figure in out.figures, (c.name, c.figure)
        back = Claim.from_dict(json.loads(json.dumps(c.to_dict())))
        assert back == c or (math.isnan(c.measured) and math.isnan(back.measured))
