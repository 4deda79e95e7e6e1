"""Would the standard error of a fitted line tell when to continue it past its lags?

The page of a trained model continues a curve's fitted line past the lags it measured
(``untrusted_fit`` in vanishlab/report/sections/long_deps.py) only where r² >= POOR_FIT_R2
(0.9). A flat line has a small r² however well its slope is known, so this measures whether a
rule on the line's own uncertainty would do better: the ordinary least-squares standard error
of the line's value at the lag it is continued to, in decades, from the fit's sums (n, sxx and
the residual variance, here rate² sxx (1/r² - 1) / (n - 2) from :func:`vanishlab.fit_decay`'s
columns: the lags fitted are consecutive), against the error the line actually makes there.

``window``: curves of one layer (the mean log10 norm over the batch, as a sweep cell's
``log10_fro_mean``) measured at T = 700 in float64, fitted as ``fit_decay`` fits a curve of
lags 0..L-1 (L = 30, 50, 100, 200) and continued to lag 100, 300 and 600, where the curve
itself was measured; 12 kinds of cell x 3 seeds, and 10 near-flat or noisy ones x 10 seeds.

``fresh``: what a page does. The same network measured at T = 50, 100 and 200 (its state
starting at 0, as ``vanishlab analyze`` starts it) and at T = 400 (three other input draws):
each short run's line at lag 300 against the T = 400 curves' value there; LSTMs whose
forget-gate bias is raised by 3 or 4 (a flat curve), and tanh nets at gain 1 with inputs of
std 0.1 and 0.3.

``reach``: how far past its lags a line may be continued (``EXTRAPOLATION_REACH`` in
vanishlab/report/sections/long_deps.py). As ``fresh``, at T = 50, 75, 100, 150 and 200 and at
lags 100, 150 and 300 past T, with three cells at PyTorch's default init beside them: each
line's error against k / T, how far past its longest lag measured it is continued; and, for
the lines of rate above +0.01 (a page's "grows with k"), the rate the same lags fit in the
T = 400 runs, measured after 400 - T steps from the start (a settled state).

``settle``: whether a growing curve is the state filling from its start, against the cell's
gate memory (``SETTLE_MEMORIES`` in vanishlab/report/sections/settling.py): LSTMs and GRUs of
a raised forget (update) gate bias, some with W_hh 6 or 10 times PyTorch's (they grow settled
too), and tanh nets, fitted from a state of 0 at T = 50 to 400, beside the same lags measured
after 1000 - T steps (three other input draws).

Run from the repository root: ``OMP_NUM_THREADS=1 .venv/bin/python
benchmarks/extrapolation_rule.py`` (~70 s on one core for ``window`` and ``fresh``;
benchmarks/results/extrapolation_rule_dev-2core_2026-12-05.log: their output), ``--only
reach`` (~60 s of CPU; benchmarks/results/extrapolation_reach_dev-2core_2026-12-05.log),
``--only settle`` (~4 min of CPU; benchmarks/results/extrapolation_settle_dev-2core_2026-12-05.log).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import torch

import vanishlab as vl
from vanishlab.analysis.fits import PHASE_TOLERANCE
from vanishlab.trained.gate_memory import KEEP_GATE, gate_memory_steps

LN10 = math.log(10)
POOR_FIT_R2 = 0.9  # vanishlab.sweep.summary_fields.POOR_FIT_R2, said here for the reader


def _module(kind: str, hidden: int, gain: float, forget_bias: float) -> torch.nn.Module:
    """An nn.RNN of W_hh ~ N(0, gain² / H), or an LSTM or GRU at PyTorch's init with
    ``forget_bias`` added to the gate that keeps its state (an LSTM's f, a GRU's z) and W_hh
    times ``gain``."""
    if kind in ("lstm", "gru"):
        m: torch.nn.Module = (
            torch.nn.LSTM(hidden, hidden) if kind == "lstm" else torch.nn.GRU(hidden, hidden)
        )
        with torch.no_grad():
            m.bias_hh_l0[KEEP_GATE * hidden : (KEEP_GATE + 1) * hidden] += forget_bias
            m.weight_hh_l0.mul_(gain)
    else:
        m = torch.nn.RNN(hidden, hidden, nonlinearity=kind)
        with torch.no_grad():
            m.weight_hh_l0.normal_(0, gain / math.sqrt(hidden))
            m.weight_ih_l0.normal_(0, 1 / math.sqrt(hidden))
            m.bias_hh_l0.zero_()
            m.bias_ih_l0.zero_()
    return m.double()


def _curve(module: torch.nn.Module, T: int, batch: int, std: float, seed: int) -> pd.DataFrame:
    """Layer 0's state curve: lag and the batch's mean log10 Frobenius norm."""
    torch.manual_seed(seed)
    x = torch.randn(T, batch, module.input_size, dtype=torch.float64) * std
    f = vl.jacobian_norms(module, x, norms=("fro",), sources=("state",))
    f = f[f["layer"] == 0].groupby("lag", as_index=False)["log10_fro"].mean()
    return f.rename(columns={"log10_fro": "log10_fro_mean"})


def _fit(curve: pd.DataFrame) -> dict[str, float]:
    """``fit_decay``'s line, its standard error at any lag (``se(k)``, decades) and the lag-1
    autocorrelation of its residuals."""
    fit = vl.fit_decay(curve, norm="fro").iloc[0]
    b, r2, n = float(fit["rate"]), float(fit["r2"]), int(fit["n_points"])
    start, end = int(fit["lag_start"]), int(fit["lag_end"])
    assert n == end - start + 1  # consecutive lags: mean and sxx in closed form
    mx, sxx = (start + end) / 2, n * (n * n - 1) / 12
    s2 = b * b * sxx * (1 / r2 - 1) / (n - 2)
    inside = curve[(curve["lag"] >= start) & (curve["lag"] <= end)]
    res = inside["log10_fro_mean"].to_numpy() * LN10 - (fit["intercept"] + b * inside["lag"])
    res = res.to_numpy()
    return {
        "rate": b,
        "r2": r2,
        "intercept": float(fit["intercept"]),
        "rel": math.sqrt(s2 / sxx) / abs(b),
        "mx": mx,
        "sxx": sxx,
        "n": n,
        "s2": s2,
        "rho": float(np.corrcoef(res[:-1], res[1:])[0, 1]),
    }


def _se(fit: dict[str, float], k: int) -> float:
    return math.sqrt(fit["s2"] * (1 / fit["n"] + (k - fit["mx"]) ** 2 / fit["sxx"])) / LN10


def _value(curve: pd.DataFrame, k: int) -> float:
    """log10 of ||J(k)|| / ||J(0)||, as the page's table reads it."""
    y = curve.set_index("lag")["log10_fro_mean"]
    return float(y[k] - y[0])


def _line(fit: dict[str, float], curve: pd.DataFrame, k: int) -> float:
    y0 = float(curve.set_index("lag")["log10_fro_mean"][0])
    return (fit["intercept"] + fit["rate"] * k) / LN10 - y0


# kind, hidden, batch, gain, input std, forget-gate bias added, seeds
WINDOW_CELLS = [
    *[
        (k, h, b, g, 1.0, 0.0, 3)
        for k, h, b, g in [
            ("lstm", 64, 16, 1.0),
            ("gru", 64, 16, 1.0),
            ("tanh", 64, 16, 1.0),
            ("tanh", 64, 16, 1.05),
            ("tanh", 16, 2, 1.0),
            ("tanh", 8, 1, 1.0),
            ("tanh", 8, 1, 0.9),
            ("relu", 16, 2, 0.8),
            ("tanh", 64, 16, 0.95),
            ("lstm", 8, 1, 1.0),
            ("gru", 8, 1, 1.0),
            ("tanh", 32, 4, 1.2),
        ]
    ],
    *[
        (k, h, b, g, s, fb, 10)
        for k, h, b, g, s, fb in [
            ("lstm", 16, 2, 1.0, 1.0, 3.0),
            ("lstm", 8, 1, 1.0, 1.0, 3.0),
            ("lstm", 8, 1, 1.0, 1.0, 2.0),
            ("lstm", 32, 4, 1.0, 1.0, 4.0),
            ("tanh", 8, 1, 1.0, 0.1, 0.0),
            ("tanh", 8, 1, 0.97, 1.0, 0.0),
            ("tanh", 4, 1, 1.0, 0.3, 0.0),
            ("gru", 4, 1, 1.0, 1.0, 0.0),
            ("lstm", 4, 1, 1.0, 1.0, 1.0),
            ("tanh", 8, 1, 1.0, 0.5, 0.0),
        ]
    ],
]
FRESH_T = (50, 100, 200)
FRESH_CELLS = [
    ("lstm", 64, 16, 1.0, 1.0, 3.0),
    ("lstm", 16, 2, 1.0, 1.0, 3.0),
    ("lstm", 32, 4, 1.0, 1.0, 4.0),
    ("lstm", 8, 1, 1.0, 1.0, 3.0),
    ("tanh", 64, 16, 1.0, 0.1, 0.0),
    ("tanh", 64, 16, 1.0, 0.3, 0.0),
    ("tanh", 8, 1, 1.0, 0.3, 0.0),
]


def window() -> pd.DataFrame:
    rows = []
    for kind, hidden, batch, gain, std, fb, seeds in WINDOW_CELLS:
        for seed in range(seeds):
            torch.manual_seed(seed)
            curve = _curve(_module(kind, hidden, gain, fb), 700, batch, std, seed + 10_000)
            for L in (30, 50, 100, 200):
                fit = _fit(curve[curve["lag"] < L])
                for k in (100, 300, 600):
                    if k >= L:
                        err = _line(fit, curve, k) - _value(curve, k)
                        rows.append(
                            {
                                "cell": f"{kind} H{hidden} B{batch} g{gain} x{std} fb{fb}",
                                "seed": seed,
                                "L": L,
                                "k": k,
                                **fit,
                                "se": _se(fit, k),
                                "err": err,
                            }
                        )
    return pd.DataFrame(rows)


def fresh() -> pd.DataFrame:
    rows = []
    for kind, hidden, batch, gain, std, fb in FRESH_CELLS:
        for seed in range(8):
            torch.manual_seed(seed)
            module = _module(kind, hidden, gain, fb)
            measured = [
                _value(_curve(module, 400, batch, std, 2000 + 10 * seed + j), 300) for j in range(3)
            ]
            for T in FRESH_T:
                short = _curve(module, T, batch, std, 1000 + seed)
                fit = _fit(short)
                line = _line(fit, short, 300)
                rows.append(
                    {
                        "cell": f"{kind} H{hidden} B{batch} x{std} fb{fb}",
                        "seed": seed,
                        "T": T,
                        "rate": fit["rate"],
                        "r2": fit["r2"],
                        "se300": _se(fit, 300),
                        "line300": line,
                        "measured300": np.round(measured, 2).tolist(),
                        "err": line - float(np.median(measured)),
                    }
                )
    return pd.DataFrame(rows)


REACH_T = (50, 75, 100, 150, 200)
REACH_LAGS = (100, 150, 300)
REACH_CELLS = [
    *FRESH_CELLS,
    ("lstm", 64, 16, 1.0, 1.0, 0.0),
    ("gru", 64, 16, 1.0, 1.0, 0.0),
    ("tanh", 64, 16, 1.0, 1.0, 0.0),
]


def reach() -> pd.DataFrame:
    """As ``fresh``, at more T and at lags 100, 150 and 300 past them: each line's error
    against how far past its longest lag measured (T: the state's curve) it is continued."""
    rows = []
    for kind, hidden, batch, gain, std, fb in REACH_CELLS:
        for seed in range(8):
            torch.manual_seed(seed)
            module = _module(kind, hidden, gain, fb)
            long = [_curve(module, 400, batch, std, 2000 + 10 * seed + j) for j in range(3)]
            for T in REACH_T:
                short = _curve(module, T, batch, std, 1000 + seed)
                fit = _fit(short)
                # the same lags, fitted on the long runs (a settled state): the rate's sign
                settled = [_fit(c[c["lag"] <= T])["rate"] for c in long]
                for k in REACH_LAGS:
                    if k <= T:
                        continue
                    measured = [_value(c, k) for c in long]
                    rows.append(
                        {
                            "cell": f"{kind} H{hidden} B{batch} x{std} fb{fb}",
                            "seed": seed,
                            "T": T,
                            "k": k,
                            "ratio": k / T,
                            "rate": fit["rate"],
                            "settled_rate": float(np.median(settled)),
                            "r2": fit["r2"],
                            "line": _line(fit, short, k),
                            "measured": float(np.median(measured)),
                            "spread": float(np.ptp(measured)),
                            "err": _line(fit, short, k) - float(np.median(measured)),
                        }
                    )
    return pd.DataFrame(rows)


SETTLE_T = (50, 100, 150, 200, 300, 400)
SETTLE_CELLS = [
    *[("lstm", 32, 4, 1.0, 1.0, fb) for fb in (2.0, 3.0, 4.0, 5.0)],
    ("lstm", 16, 2, 1.0, 1.0, 3.0),
    ("lstm", 64, 16, 1.0, 1.0, 3.0),
    *[("gru", 32, 4, 1.0, 1.0, fb) for fb in (3.0, 4.0)],
    ("lstm", 64, 16, 1.0, 1.0, 0.0),
    ("gru", 64, 16, 1.0, 1.0, 0.0),
    *[("tanh", 32, 4, g, 1.0, 0.0) for g in (2.0, 3.0)],
    *[(k, 32, 4, g, 1.0, fb) for k in ("lstm", "gru") for g in (6.0, 10.0) for fb in (0.0, 3.0)],
]


def settle() -> pd.DataFrame:
    """A curve fitted at T from a state of 0 (as a page measures), beside the same lags
    measured after 1000 - T steps (a settled state; three other input draws), against the
    cell's gate memory (:func:`vanishlab.trained.gate_memory.gate_memory_steps`)."""
    rows = []
    for kind, hidden, batch, gain, std, fb in SETTLE_CELLS:
        for seed in range(8):
            torch.manual_seed(seed)
            module = _module(kind, hidden, gain, fb)
            memory = gate_memory_steps(module)
            long = [_curve(module, 1000, batch, std, 2000 + 10 * seed + j) for j in range(3)]
            for T in SETTLE_T:
                fit = _fit(_curve(module, T, batch, std, 1000 + seed))
                settled = [_fit(c[c["lag"] <= T]) for c in long]
                rows.append(
                    {
                        "cell": f"{kind} H{hidden} B{batch} g{gain} fb{fb}",
                        "seed": seed,
                        "memory": memory,
                        "T": T,
                        "T/memory": T / memory if memory else math.nan,
                        "rate": fit["rate"],
                        "r2": fit["r2"],
                        "settled_rate": float(np.median([f["rate"] for f in settled])),
                        "settled_r2": float(np.median([f["r2"] for f in settled])),
                    }
                )
    return pd.DataFrame(rows)


def _report_settle(s: pd.DataFrame) -> None:
    grow = s["rate"] > PHASE_TOLERANCE
    start = grow & (s["settled_rate"] <= PHASE_TOLERANCE)  # grew from 0 alone
    print("settle: lines fitted at T from a state of 0, against the same lags measured after")
    print(f"1000 - T steps (settled_rate: median of three draws); {len(s)} lines, {grow.sum()}")
    print(f"of rate > +{PHASE_TOLERANCE} ('exploding'), {start.sum()} of them level or falling")
    print("once settled (rate <= +0.01 there)")
    for name, m in (("grew from 0 alone", start), ("grew settled too", grow & ~start)):
        t = s["T/memory"][m]
        print(
            f"  {name:18s} {m.sum():4d} lines: T / gate memory min {t.min():.1f}, "
            f"max {t.max():.1f}; r2 min {s['r2'][m].min():.2f}"
        )
    plain = start & (s["cell"].str.contains(" g1.0 ")) & s["memory"].notna()
    print(
        f"  at PyTorch's W_hh (gain 1), gated: {int(plain.sum())} grew from 0 alone, T / gate "
        f"memory max {s['T/memory'][plain].max():.1f}"
    )
    poor = s["r2"] < POOR_FIT_R2
    print("  asked to measure a longer run first: T < cap x gate memory, or r2 < 0.9 (a poor fit)")
    for cap in (2, 3, 4, 5, 6, 8):
        short = s["T/memory"] < cap
        print(
            f"  cap {cap}: grown from 0 alone {int((short & start).sum()):3d} of "
            f"{int(start.sum())} by T, {int(((short | poor) & start).sum()):3d} with r2; grown "
            f"settled too {int((short & grow & ~start).sum()):3d} of {int((grow & ~start).sum())} "
            f"by T, {int(((short | poor) & grow & ~start).sum()):3d} with r2"
        )
    by = s.groupby(["cell", "T"])[["rate", "settled_rate"]].median().unstack("T").round(3)
    print("  median rate by cell and T (from 0 | settled):")
    print(by.to_string())
    print(s[grow].round(3).to_string())


def _auc(score: np.ndarray, bad: np.ndarray) -> float:
    pos, neg = score[bad], score[~bad]
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def _report_reach(r: pd.DataFrame) -> None:
    r["ae"] = r["err"].abs()
    ok = r["r2"] >= POOR_FIT_R2
    print("reach: lines fitted at T = 50-200 from a state of 0, continued to lag k > T, against")
    print("the same network measured at T = 400 (three input draws; err: line - their median)")
    print(f"  {len(r)} lines, {ok.sum()} of r2 >= {POOR_FIT_R2}; spread of the three measured:")
    print(f"  median {r['spread'].median():.2f} decades")
    for lo, hi in ((1, 1.5), (1.5, 2), (2, 3), (3, 4), (4, 6), (6, 7)):
        m = ok & (r["ratio"] > lo) & (r["ratio"] <= hi)
        a = r["ae"][m]
        print(
            f"  r2 >= 0.9, k/T in ({lo}, {hi}]: {len(a):4d} lines: median |error| "
            f"{a.median():.2f}, 90th pct {a.quantile(0.9):.2f}, > 0.5 decade "
            f"{np.mean(a > 0.5):.2f}, > 1 decade {np.mean(a > 1):.2f}"
        )
    for cap in (1.5, 2, 3, 4, 6):
        m = ok & (r["ratio"] <= cap)
        a = r["ae"][m]
        print(
            f"  rule r2 >= 0.9 and k <= {cap} T: {len(a):4d} continued: median |error| "
            f"{a.median():.2f}, 90th pct {a.quantile(0.9):.2f}, > 1 decade {np.mean(a > 1):.2f}; "
            f"rounded to a power of 10, > 1 decade "
            f"{np.mean((r['line'][m].round() - r['measured'][m]).abs() > 1):.2f}"
        )
    flip = r[ok & (r["rate"] > 0.01)].drop_duplicates(["cell", "seed", "T"])
    print(
        f"  'exploding' lines (r2 >= 0.9, rate > +0.01): {len(flip)}; the same lags measured "
        f"after 400 - T steps (a settled state) fitted a rate > +0.01 in "
        f"{int((flip['settled_rate'] > 0.01).sum())}"
    )
    print(flip[["cell", "seed", "T", "rate", "r2", "settled_rate"]].round(3).to_string())
    by = r[ok].groupby(["cell", "ratio"])["ae"].median().unstack().round(2)
    print("  median |error| by cell and k/T (r2 >= 0.9):")
    print(by.to_string())


def _error_line(name: str, errors: pd.Series) -> None:
    """One row of a rule's table: how many lines ``name`` holds and how far off they were."""
    print(
        f"  {name:28s} {len(errors):4d} lines: |error| > 0.3 decades "
        f"{np.mean(errors > 0.3):.2f}, > 1 decade {np.mean(errors > 1):.2f}, "
        f"median {errors.median():.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", choices=("window", "fresh", "reach", "settle"), help="one of the studies"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", None)
    if args.only in (None, "window"):
        d = window()
        d = d[d["k"] <= 300]  # the page's table continues a line to lag 300 at most
        d["ae"] = d["err"].abs()
        low = (d["r2"] < POOR_FIT_R2).to_numpy()
        print(f"window: {len(d)} continued lines (k <= 300), {low.sum()} of r2 < {POOR_FIT_R2}")
        z = (d["ae"] / d["se"])[low]
        print(f"  |error| / SE, r2 < 0.9: median {z.median():.1f}, 90th pct {z.quantile(0.9):.1f}")
        print(f"  residuals' lag-1 autocorrelation: median {d['rho'].median():.2f}")
        bad = (d["ae"] > 0.3).to_numpy()  # off by more than a factor 2
        for name, m in (("all", np.ones(len(d), bool)), ("r2 < 0.9", low)):
            print(
                f"  AUC for |error| > 0.3 decades, {name}: 1 - r2 "
                f"{_auc(1 - d['r2'].to_numpy()[m], bad[m]):.2f}, SE "
                f"{_auc(d['se'].to_numpy()[m], bad[m]):.2f}"
            )
        for name, m in (
            ("r2 >= 0.9 (continued today)", ~low),
            ("r2 < 0.9 (refused today)", low),
            *[(f"r2 < 0.9 and SE < {b}", low & (d["se"] < b).to_numpy()) for b in (0.05, 0.1, 0.3)],
        ):
            _error_line(name, d["ae"][m])
        worst = d[low & (d["se"] < 0.1).to_numpy()].nlargest(3, "ae")
        print(worst[["cell", "seed", "L", "k", "rate", "r2", "rel", "se", "rho", "err"]].round(3))
    if args.only in (None, "reach"):
        _report_reach(reach())
    if args.only in (None, "settle"):
        _report_settle(settle())
    if args.only in (None, "fresh"):
        print("fresh: a line fitted at T = 50, 100, 200, at lag 300, against the same network")
        print("measured at T = 400 (err: line - the median of the three measured, decades)")
        f = fresh()
        f["ae"] = f["err"].abs()
        low = f["r2"] < POOR_FIT_R2
        for name, m in (
            ("r2 >= 0.9 (continued today)", ~low),
            ("r2 < 0.9 (refused today)", low),
            *[(f"r2 < 0.9 and SE < {b}", low & (f["se300"] < b)) for b in (0.05, 0.1, 0.2, 0.3)],
        ):
            _error_line(name, f["ae"][m])
        print(f.drop(columns="ae").round(3).to_string())


if __name__ == "__main__":
    main()
