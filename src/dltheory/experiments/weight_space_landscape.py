"""Weight-space landscapes of trained binary networks: claims C1–C5 of weight-space.md §10 on offline data.

Deep under- and over-parameterized and shallow LR-nets are trained on digits, sampled, filtered by
accuracy, optionally gauge-fixed, fitted per segment by pseudo-likelihood, and analysed with BP
(landscapes s(d), jumps, hysteresis, multi-information) and TAP state counting.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Choice, Float, Int, Text, TupleOf, declare
from dltheory.weightspace import (GAUGES, FewSamplesWarning, IsingModel, binary_entropy, bias_grid,
                                  fit_pseudolikelihood, load_dataset, model_sample_accuracy, shuffle_columns,
                                  coupling_summary, multi_information)
from dltheory.weightspace.pipeline import analyze_segment, build_ensemble, select_references


@dataclass(frozen=True)
class Config(ScaledConfig):
    dataset: str = declare("digits", Choice("digits", "mnist1d"))
    n_components: int = declare(20, Int(1, 64))
    input_scale: float = declare(3.0, Float(0, 100, closed="right"))
    deep_sizes: tuple[int, ...] = declare((20, 15, 15, 10), TupleOf(Int(1, 64), length=4))  # (D, H1, H2, K)
    shallow_sizes: tuple[int, ...] = declare((20, 10), TupleOf(Int(1, 64), length=2))  # (D, K)
    n_train_up: int = declare(1437, Int(1, 20_000))
    n_train_op: int = declare(500, Int(1, 20_000))
    n_runs: int = declare(200, Int(4, 2000))
    samples_per_run: int = declare(500, Int(1, 5000))
    epochs_deep: int = declare(200, Int(1, 10_000))
    epochs_shallow: int = declare(100, Int(1, 10_000))
    gauges: tuple[str, ...] = declare(GAUGES, TupleOf(Choice(*GAUGES), length=(1, 3)))
    refs_per_group: int = declare(20, Int(1, 1000))
    x_max: float = declare(3.0, Float(0, 10, closed="right"))
    x_step: float = declare(0.05, Float(0.005, 1))
    tap_starts: int = declare(2000, Int(1, 100_000))
    plm_gtol: float = declare(1e-6, Float(0, 1, closed="right"))
    plm_maxiter: int = declare(2000, Int(1, 100_000))
    bp_max_sweeps: int = declare(5000, Int(1, 1_000_000))
    model_sweeps: int = declare(100, Int(1, 100_000))
    ensemble_dir: str = declare("", Text(4096))

    @classmethod
    def quick(cls) -> Config:
        return cls(n_components=10, deep_sizes=(10, 8, 8, 10), shallow_sizes=(10, 10),
                   n_train_op=150, n_runs=32, samples_per_run=60, epochs_deep=60, epochs_shallow=30,
                   gauges=("raw", "augment"), refs_per_group=1, x_max=2.0, x_step=0.25, tap_starts=30,
                   plm_gtol=1e-4, plm_maxiter=80, bp_max_sweeps=300, model_sweeps=10)

    @classmethod
    def full(cls) -> Config:
        return cls()

    def validate(self) -> None:
        self.check(self.deep_sizes[0] == self.shallow_sizes[0] == self.n_components,
                   "deep_sizes[0] == shallow_sizes[0] == n_components (the input size of both architectures)",
                   "deep_sizes", "shallow_sizes", "n_components")


def _case_models(ens, gauge, cfg, x_ref, rng):
    g = ens.gauged(gauge, x_ref=x_ref, rng=rng) if gauge != "raw" else ens
    segs = [s for s in g.segments if s != "FULL"] or ["FULL"]
    fits, null = {}, {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FewSamplesWarning)
        for s in segs:
            fits[s] = fit_pseudolikelihood(g.segment(s), gtol=cfg.plm_gtol, ftol=1e-10, maxiter=cfg.plm_maxiter)
            null[s] = fit_pseudolikelihood(shuffle_columns(g.segment(s), rng), gtol=cfg.plm_gtol, ftol=1e-10,
                                           maxiter=cfg.plm_maxiter)
    return g, segs, fits, null, [str(w.message) for w in caught]


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt

    cfg = config
    t_start = time.perf_counter()
    data = load_dataset(cfg.dataset, n_components=cfg.n_components, scale=cfg.input_scale,
                        seed=int(rng.integers(2 ** 31)))
    x_ref = data.x_train[data.y_train == 1]
    cases = {"up": (cfg.deep_sizes, cfg.n_train_up, cfg.epochs_deep),
             "op": (cfg.deep_sizes, cfg.n_train_op, cfg.epochs_deep),
             "shallow": (cfg.shallow_sizes, cfg.n_train_up, cfg.epochs_shallow)}
    xs = bias_grid(cfg.x_max, cfg.x_step)
    rows, curves, notes, claims = [], {}, [], []
    summary = {}
    for case, (sizes, P, epochs) in cases.items():
        store = f"{cfg.ensemble_dir}/{case}" if cfg.ensemble_dir else None
        ens = build_ensemble(data.subset_train(P, seed=0), sizes, n_runs=cfg.n_runs, samples_per_run=cfg.samples_per_run,
                             epochs=epochs, seed=int(rng.integers(2 ** 31)), store=store).accepted("auto")
        a_min = ens.provenance["a_min"]
        gauges = cfg.gauges if case != "shallow" else ("raw",)   # no hidden units: every gauge is "raw"
        for gauge in gauges:
            g, segs, fits, null, warns = _case_models(ens, gauge, cfg, x_ref, rng)
            notes += [f"{case}/{gauge}: {w}" for w in warns]
            # references: low / middle / high energy under the block-diagonal segment model
            energy = sum(fits[s].model.energy(g.segment(s)) for s in segs)
            refs = select_references(g, energy, cfg.refs_per_group, rng)
            for s in segs:
                res = analyze_segment(fits[s].model, g.segment(s)[refs], xs, rng, tap_starts=cfg.tap_starts,
                                      max_sweeps=cfg.bp_max_sweeps)
                ninfo = multi_information(null[s].model, allow_unconverged=True, max_sweeps=cfg.bp_max_sweeps)
                L = res["landscapes"]
                summary[(case, gauge, s)] = {**res, "null": ninfo, "null_J": coupling_summary(null[s].model)}
                curves[(case, gauge, s)] = L
                for k, lan in enumerate(L):
                    rows.append({"case": case, "gauge": gauge, "segment": s, "reference": k, "N": fits[s].model.n,
                                 "alpha": ens.provenance["alpha"], "a_min": a_min, "n_samples": len(g),
                                 "plm_converged": fits[s].converged, "plm_iterations": fits[s].n_iter,
                                 **res["couplings"], "I_per_spin": res["info"]["I_per_spin"], "s0": res["info"]["s0"],
                                 "null_I_per_spin": ninfo["I_per_spin"], "null_max_abs_J": summary[(case, gauge, s)]["null_J"]["max_abs_J"],
                                 "tap_states": res["tap"].n_states, "tap_levels": res["tap"].n_levels,
                                 "tap_unconverged": res["tap"].n_unconverged, "hysteresis": lan.hysteresis,
                                 "confirmed_jump": lan.confirmed_jump, "max_jump": max([j["step"] for j in lan.jumps], default=0.0),
                                 "bp_converged_fraction": lan.converged_fraction, "above_bound": lan.above_bound})
            if gauge == "raw":   # C5: the paper's caveat, block-diagonal FULL model from the segment fits
                N = g.layout.n_weights
                J = np.zeros((N, N)); h = np.zeros(N)
                for s in segs:
                    a, b = g.segments[s]
                    J[a:b, a:b] = fits[s].model.J; h[a:b] = fits[s].model.h
                n_data = min(20, len(g))
                ms = model_sample_accuracy(IsingModel(h, J), g.layout, data.x_test, data.y_test,
                                           g.sigma[rng.choice(len(g), n_data, replace=False)], rng,
                                           n_random=20, n_sweeps=cfg.model_sweeps, a_min=a_min)
                summary[(case, "C5")] = ms
                claims.append(legacy_claim(name=f"C5-{case}", statistic="fraction of model samples with accuracy >= a_min",
                                    threshold="reported (no pass/fail); passed = fraction >= 0.5",
                                    measured=ms["fraction_accepted"], passed=ms["fraction_accepted"] >= 0.5,
                                    meaning=f"fitted model generates working networks (a_min={a_min:.3f}, final mean "
                                            f"accuracy {ms['final_mean_accuracy']:.3f}, chance 0.1)"))
    table = pd.DataFrame(rows)
    claims = _claims(table, curves, cfg) + claims
    fig = _figure(curves, cfg)
    notes.append(f"Quick-scale FULL model for C5 is block-diagonal (segment fits, cross-segment couplings 0); "
                 f"wall time {time.perf_counter() - t_start:.0f} s.")
    return Outcome(table=table, figures={"landscapes": fig}, claims=claims, notes=notes)


def _median_curve(L, grid):
    vals = []
    for lan in L:
        d, s = lan.fwd["d"], lan.fwd["s"]
        ok = np.isfinite(d) & np.isfinite(s)
        o = np.argsort(d[ok])
        v = np.interp(grid, d[ok][o], s[ok][o], left=np.nan, right=np.nan) if ok.sum() >= 2 else np.full(len(grid), np.nan)
        vals.append(v)
    if not vals:
        return np.full(len(grid), np.nan)
    with warnings.catch_warnings():              # grid points no reference reaches stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(np.array(vals), axis=0)


def _claims(t, curves, cfg):
    out = []
    deep_segs = sorted(set(t.loc[t.case == "up", "segment"]))
    for gauge in cfg.gauges:
        for case in ("up", "op"):
            d = t[(t.case == case) & (t.gauge == gauge)]
            ok_ref = (d.bp_converged_fraction >= 0.99) & ~d.confirmed_jump & (d.hysteresis <= 0.02)
            frac = float(ok_ref.mean())
            tap_ok = bool((d.groupby("segment").tap_levels.first() == 1).all())
            out.append(legacy_claim(name=f"C1-{case}-{gauge}", statistic="fraction of (segment, reference) with BP converged "
                             ">= 99%, no confirmed jump, H <= 0.02", threshold=">= 0.95 and one TAP level per segment",
                             measured=frac, passed=frac >= 0.95 and tap_ok,
                             meaning=f"no clustering in the deep {case} weight space (TAP one level: {tap_ok}; "
                                     f"max H {d.hysteresis.max():.3g})", figure="landscapes"))
        grid = np.arange(0.05, 0.9501, 0.01)
        deltas = [np.nanmax(np.abs(_median_curve(curves[("up", gauge, s)], grid) - _median_curve(curves[("op", gauge, s)], grid)))
                  if np.isfinite(_median_curve(curves[("up", gauge, s)], grid) - _median_curve(curves[("op", gauge, s)], grid)).any()
                  else np.nan for s in deep_segs]
        delta = float(np.nanmax(deltas)) if np.isfinite(deltas).any() else float("nan")
        out.append(legacy_claim(name=f"C2-{gauge}", statistic="max over segments and d of |s_up(d) − s_op(d)| (medians)",
                         threshold="<= 0.02 nats per weight", measured=delta, passed=bool(delta <= 0.02),
                         meaning="under- and over-parameterized deep nets have the same landscape class "
                                 f"(per segment: {', '.join(f'{s}={v:.3f}' for s, v in zip(deep_segs, deltas))})",
                         figure="landscapes"))
        for case in ("up", "op"):
            d = t[(t.case == case) & (t.gauge == gauge)].groupby("segment").first()
            if not {"LB", "ITER", "RB"} <= set(d.index):
                continue
            i_it, i_b = d.loc["ITER", "I_per_spin"], min(d.loc["LB", "I_per_spin"], d.loc["RB", "I_per_spin"])
            j_it, j_b = d.loc["ITER", "max_abs_J"], min(d.loc["LB", "max_abs_J"], d.loc["RB", "max_abs_J"])
            gap = _gap_fraction(curves, case, gauge)
            ok = (i_it <= 0.005 and i_it <= 0.1 * i_b, j_it <= 0.2 * j_b, gap >= 0.9)
            out.append(legacy_claim(name=f"C4-{case}-{gauge}", statistic="I/N(ITER) (with max|J| and entropy-gap checks)",
                             threshold="I/N(ITER) <= 0.005 and <= 0.1 min(LB, RB); max|J_ITER| <= 0.2 min; gap test >= 90%",
                             measured=float(i_it), passed=all(ok),
                             meaning=f"liquid middle layer: I/N ITER {i_it:.4f} vs boundaries {i_b:.4f}; max|J| ITER "
                                     f"{j_it:.3f} vs {j_b:.3f} (null {d.loc['ITER', 'null_max_abs_J']:.3f}); "
                                     f"gap fraction {gap:.2f}; parts {ok}"))
    d = t[t.case == "shallow"]
    broken = (d.confirmed_jump & (d.hysteresis > 0.1)).mean()
    two_levels = bool((d.tap_levels >= 2).any())
    out.append(legacy_claim(name="C3-shallow", statistic="fraction of references with a confirmed jump and H > 0.1",
                     threshold=">= 0.9, or >= 2 TAP free-energy levels", measured=float(broken),
                     passed=bool(broken >= 0.9 or two_levels),
                     meaning=f"shallow weight space is broken (TAP levels {int(d.tap_levels.max())}, max H "
                             f"{d.hysteresis.max():.3g})", figure="landscapes"))
    return out


def _gap_fraction(curves, case, gauge):
    hits = []
    for k in range(len(curves[(case, gauge, "ITER")])):
        gaps = {s: curves[(case, gauge, s)][k] for s in ("LB", "ITER", "RB")}
        x = gaps["ITER"].x
        sel = np.isclose(np.mod(x + 1e-9, 0.25), 0, atol=1e-6) & (np.abs(x) <= 2 + 1e-9)
        g = {s: gaps[s].bound_gap("fwd")[sel] for s in gaps}
        hits.append(bool(np.all(g["ITER"] < np.minimum(g["LB"], g["RB"]))))
    return float(np.mean(hits)) if hits else float("nan")


def _figure(curves, cfg):
    import matplotlib.pyplot as plt

    keys = [k for k in curves if k[1] == "raw"]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for lan in curves[key]:
            ax.plot(lan.fwd["d"], lan.fwd["s"], "-", lw=1)
            ax.plot(lan.bwd["d"], lan.bwd["s"], "--", lw=1)
        d = np.linspace(0, 1, 101)
        ax.plot(d, binary_entropy(d), "k:", lw=0.8)
        ax.set_title(f"{key[0]} {key[2]}", fontsize=9); ax.set_xlabel("d")
    axes[0][0].set_ylabel("s(d)")
    fig.tight_layout()
    return fig


EXPERIMENT = Experiment(
    name="weight-space-landscape", pillar="weightspace", title="Weight-space landscapes of binary networks (C1–C5)",
    description=("Ensembles of LR-trained binary networks (deep under- and over-parameterized, shallow) are sampled, "
                 "fitted per layer segment by pseudo-likelihood and read with BP and TAP: no jump or hysteresis in deep "
                 "nets (C1), equal up/op curves (C2), a broken shallow landscape (C3), a liquid middle layer (C4), "
                 "and the accuracy of samples from the fitted model (C5), with and without the permutation gauge."),
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, mlp_weights, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources).

    The entropy landscapes dominate: one belief-propagation run per reference and bias-grid point, each
    ∝ couplings (spins²) × sweeps; sweeps are taken as min(bp_max_sweeps, 300), the cap of the calibration run.
    """
    deep, shallow = mlp_weights(config.deep_sizes), mlp_weights(config.shallow_sizes)
    samples = config.n_runs * config.samples_per_run
    couplings = 2 * len(config.gauges) * deep * deep + shallow * shallow  # every (case, gauge) model
    spins = max(deep, shallow)
    # sampled weight configurations (float64 copies per gauge), pair statistics and fitted couplings per segment
    memory = BASE_MEMORY + 6 * samples * spins * 8 + 8 * spins * spins * 8
    train = config.n_runs * (config.epochs_deep * (config.n_train_up + config.n_train_op) * deep
                             + config.epochs_shallow * config.n_train_up * shallow)
    fits = couplings * (samples + config.plm_maxiter * config.n_runs)
    grid = int(2 * config.x_max / config.x_step) + 1
    landscapes = couplings * 3 * config.refs_per_group * grid * min(config.bp_max_sweeps, 300)
    tap = couplings * config.tap_starts
    seconds = 30 + 1.1e-07 * train + 5.3e-08 * fits + 9.6e-08 * landscapes + 9.5e-06 * tap
    return Resources(memory, seconds, ("n_runs", "samples_per_run", "deep_sizes"),
                     ("refs_per_group", "x_step", "deep_sizes", "tap_starts", "n_runs", "samples_per_run",
                      "plm_maxiter", "epochs_deep"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
