"""The experiment contract, the runner's saved files, and the registry."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from dltheory.errors import DLTheoryError
from dltheory.experiments import all_experiments, get_experiment
from dltheory.lab import Claim, Experiment, Outcome, ScaledConfig, run_experiment
from dltheory.lab.constraints import Int, declare
from dltheory.lab.runner import experiment_rng, load_record
from dltheory.lab.verdicts import Verdict, decide, reported


@dataclass(frozen=True)
class ToyConfig(ScaledConfig):
    n: int = declare(1000, Int(2, 1_000_000))

    @classmethod
    def quick(cls):
        return cls(n=200)


def toy_measure(config: ToyConfig, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({"i": np.arange(config.n), "x": rng.standard_normal(config.n)})


def toy_claims(table: pd.DataFrame, config: ToyConfig) -> list[Claim]:
    x = table["x"].to_numpy()
    return [decide("mean-zero", "sample mean", x.mean(), target=0.0, delta=0.5, se=x.std(ddof=1) / np.sqrt(len(x)),
                   z_star=4.4, meaning="sample mean is consistent with 0", figure="hist")]


def toy_figures(table: pd.DataFrame, config: ToyConfig) -> dict:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.hist(table["x"], bins=20)
    return {"hist": fig}


def toy_notes(table: pd.DataFrame, config: ToyConfig) -> list[str]:
    return ["toy"]


TOY = Experiment(name="toy", pillar="effective", title="Toy", description="A toy.", config_cls=ToyConfig,
                 measure=toy_measure, claims=toy_claims, figures=toy_figures, notes=toy_notes)


def test_run_saves_table_figures_and_meta(tmp_path):
    rec = run_experiment(TOY, scale="quick", seed=3, out_dir=tmp_path)
    d = tmp_path / "toy"
    assert (d / "table.parquet").is_file() and (d / "hist.png").is_file()
    meta = json.loads((d / "meta.json").read_text())
    assert meta["status"] == "ok" and meta["config"] == {"n": 200} and meta["seed"] == 3
    assert meta["claims"][0]["name"] == "mean-zero" and meta["figures"] == ["hist"]
    assert meta["versions"]["numpy"] == np.__version__ and meta["wall_time_s"] > 0
    assert len(pd.read_parquet(d / "table.parquet")) == 200
    assert load_record(d).ok and load_record(d).claims == rec.claims
    assert isinstance(rec.claims[0], Claim) and rec.claims[0].figure == "hist"
    assert rec.config == ToyConfig(n=200)
    assert load_record(d).config is None  # "toy" is not registered, so its config class is unknown here
    assert not list(d.glob("*.tmp"))


def test_same_seed_same_numbers_and_names_get_independent_streams(tmp_path):
    a = run_experiment(TOY, seed=1, out_dir=tmp_path / "a")
    b = run_experiment(TOY, seed=1, out_dir=tmp_path / "b")
    assert a.claims[0].measured == b.claims[0].measured
    assert experiment_rng(0, "x").random() != experiment_rng(0, "y").random()


def test_overrides_are_validated(tmp_path):
    with pytest.raises(DLTheoryError, match="unknown config field"):
        run_experiment(TOY, out_dir=tmp_path, overrides={"m": 3})
    with pytest.raises(DLTheoryError, match=r"config field n must be an int in \[2, 1_000_000\]; got 1"):
        run_experiment(TOY, out_dir=tmp_path, overrides={"n": 1})
    with pytest.raises(DLTheoryError, match="scale must be one of"):
        run_experiment(TOY, scale="huge", out_dir=tmp_path)


def test_errors_inside_run_are_recorded_when_asked(tmp_path):
    def broken(config, rng):
        raise RuntimeError("boom")

    exp = Experiment("broken", "effective", "Broken", "", ToyConfig, measure=broken, claims=toy_claims,
                     figures=toy_figures)
    with pytest.raises(RuntimeError):
        run_experiment(exp, out_dir=tmp_path)
    rec = run_experiment(exp, out_dir=tmp_path, catch_errors=True)
    assert rec.meta["status"] == "error" and "boom" in rec.meta["error"]


def test_a_malformed_stored_run_is_a_clear_error(tmp_path):
    run_experiment(TOY, out_dir=tmp_path)
    path = tmp_path / "toy" / "meta.json"
    meta = json.loads(path.read_text())
    meta["claims"][0]["verdict"] = "yes"
    path.write_text(json.dumps(meta))
    with pytest.raises(DLTheoryError, match="verdict has the wrong type"):
        load_record(path.parent)
    path.write_text("{not json")
    with pytest.raises(DLTheoryError, match="cannot read"):
        load_record(path.parent)


def test_outcome_rejects_dangling_figure_and_duplicate_claims():
    c = reported("a", "s", 1.0, meaning="m", figure="nope")
    with pytest.raises(ValueError, match="unknown figure"):
        Outcome(table=pd.DataFrame(), claims=[c])
    c = reported("a", "s", 1.0, meaning="m")
    with pytest.raises(ValueError, match="unique"):
        Outcome(table=pd.DataFrame(), claims=[c, c])


def test_registry_lists_valid_experiments():
    experiments = all_experiments()
    for name, exp in experiments.items():
        assert exp.name == name
        assert exp.pillar in {"effective", "richness", "neurashed", "weightspace"}
        for scale in ("quick", "full"):
            cfg = exp.config(scale)
            assert isinstance(cfg, exp.config_cls)
            json.dumps(cfg.to_dict())
    with pytest.raises(DLTheoryError, match="unknown experiment"):
        get_experiment("no-such-experiment")


def test_executor_can_be_named_and_a_bad_name_is_a_clear_error(tmp_path):
    rec = run_experiment(TOY, out_dir=tmp_path, executor="serial")
    assert rec.ok and rec.meta["executor"] == "serial"
    with pytest.raises(DLTheoryError, match="executor must be one of"):
        run_experiment(TOY, out_dir=tmp_path, executor="gpu-farm")
