"""Results as data: one row per stored claim, tables by name or NAME@KEY, all read through the verifying store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import dltheory
from dltheory.errors import DLTheoryError
from dltheory.lab import run_experiment
from dltheory.lab.results import COLUMNS, load_results, load_table
from dltheory.lab.runner import make_task, run_sweep
from dltheory.lab.store import ResultsStore
from dltheory.lab.verdicts import Verdict
from tests.lab.test_framework import TOY


def test_one_row_per_claim_with_the_numbers_of_the_claim(tmp_path):
    rec = run_experiment(TOY, out_dir=tmp_path, seed=1)
    frame = dltheory.load_results(tmp_path)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == len(rec.claims) == 1
    row, claim = frame.iloc[0], rec.claims[0]
    assert (row.experiment, row.claim, row.verdict) == ("toy", claim.name, claim.verdict.value)
    assert row.measured == pytest.approx(claim.measured) and row.se == pytest.approx(claim.se)
    assert row.delta == claim.delta and row.z_star == claim.z_star and row.target == 0.0
    assert row.scale == "quick" and row.seed == 1 and row.key == rec.meta["key"] and bool(row.canonical)
    assert row.wall_time_s == pytest.approx(rec.wall_time_s) and len(row.config_hash) == 12
    np.testing.assert_array_equal(dltheory.load_table("toy", tmp_path)["x"], pd.read_parquet(
        tmp_path / "toy" / "table.parquet")["x"])


def test_exploration_runs_only_when_asked_and_by_key(tmp_path):
    run_experiment(TOY, out_dir=tmp_path, seed=0)
    canonical = load_results(tmp_path)
    explored = run_experiment(TOY, out_dir=tmp_path, seed=0, overrides={"n": 50}, publish=False)
    assert explored.exploration and explored.directory.parent.name == "runs"
    pd.testing.assert_frame_equal(load_results(tmp_path), canonical)  # the canonical view is unchanged
    everything = load_results(tmp_path, exploration=True)
    assert len(everything) == 2 and set(everything.canonical) == {True, False}
    row = everything[~everything.canonical].iloc[0]
    assert json.loads(row.overrides) == {"n": 50} and row.key == explored.meta["key"]
    assert len(load_table(f"toy@{row.key[:8]}", tmp_path)) == 50
    assert len(load_table("toy", tmp_path)) == 200
    with pytest.raises(DLTheoryError, match="no stored run"):
        load_table("toy@abcdef0", tmp_path)
    with pytest.raises(DLTheoryError, match="6 to 64 hex"):
        load_table("toy@xyz", tmp_path)
    with pytest.raises(DLTheoryError, match="no published run"):
        load_table("nothing-here", tmp_path)


def test_runs_failing_verification_are_named_not_read(tmp_path):
    run_experiment(TOY, out_dir=tmp_path, seed=0)
    meta = tmp_path / "toy" / "meta.json"
    doc = json.loads(meta.read_text())
    doc["claims"][0]["measured"] = 0.0  # an edited number: the checksum no longer matches
    meta.write_text(json.dumps(doc))
    with pytest.warns(UserWarning, match="1 run"):
        frame = load_results(tmp_path)
    assert frame.empty and "checksum" in frame.attrs["skipped"]["toy"]
    with pytest.raises(DLTheoryError, match="failed verification"):
        load_table("toy", tmp_path)
    with pytest.raises(DLTheoryError, match="does not exist"):
        load_results(tmp_path / "absent")


def test_auto_publishing_keeps_overrides_and_other_scales_out_of_the_report(tmp_path):
    """publish='auto': the first plain run sets the canonical scale; --set or another scale are explorations."""
    base = make_task(TOY, scale="quick", seed=0)
    tweak = make_task(TOY, scale="quick", seed=0, overrides={"n": 30})
    full = make_task(TOY, scale="full", seed=0)
    records = run_sweep([tweak, base, full], out_dir=tmp_path, publish="auto")
    assert [r.exploration is None for r in records] == [False, True, False]
    assert "config overrides n=30" in records[0].exploration and "scale full" in records[2].exploration
    assert ResultsStore(tmp_path).canonical_scale() == "quick"
    frame = load_results(tmp_path)
    assert len(frame) == 1 and frame.key.iloc[0] == base.key
    assert frame.verdict.iloc[0] in {v.value for v in Verdict}
    # once the directory's scale is full (as `reproduce --full` sets it), the full run is canonical
    ResultsStore(tmp_path).set_canonical_scale("full")
    (rec,) = run_sweep([full], out_dir=tmp_path, publish="auto")
    assert rec.exploration is None and load_results(tmp_path).key.iloc[0] == full.key
