"""The report's theory: dashed predicted slopes on the decay curves and the "Theory vs
measurement" section, present where theory applies and absent where nothing does."""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import vanishlab as vl
from vanishlab.report import build_report, render_html
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.model import KeyValues, LineGrid, Table

STAMP = "2024-01-01T00:00:00Z"


def report_of(run: Path, sections: list[str] | None = None):
    """The report of ``run`` at STAMP (``sections``: of those alone, where a test reads
    sections whose words depend on no other: theory reads none)."""
    return build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp=STAMP,
        sections=sections,
    )  # fmt: skip


def section(report, key: str):
    return next(s for s in report.sections if s.key == key)


@pytest.fixture(scope="module")
def full(report_run, tmp_path_factory, full_report_data, full_report):
    """The full gain-sweep run (private copy), its report data and its HTML (at STAMP: the
    session's, built and rendered once for test_report and test_report_defects too)."""
    run = Path(shutil.copytree(report_run("full"), tmp_path_factory.mktemp("t") / "run"))
    return run, full_report_data, full_report.read_text(encoding="utf-8")


def test_theory_section_of_a_gain_sweep(full):
    run, report, html = full
    keys = [s.key for s in report.sections]
    assert keys.index("theory") == keys.index("gain") + 1  # after the figures, before anomalies
    assert '<section id="theory">' in html and '<a href="#theory">' in html
    theory = section(report, "theory")
    kinds = [type(b) for b in theory.blocks]
    assert kinds[0] is LineGrid and kinds[-1] is Table and KeyValues in kinds
    # The phase diagram: measured points and dashed predictions, the line rate = 0, and the
    # relu edge of chaos sqrt(2) (inside the swept gains 0.5..1.5) as a vertical dotted line
    # (dashed, like the predictions, it had the same legend symbol as they).
    (phase,) = [b for b in theory.blocks if isinstance(b, LineGrid)]
    assert phase.zero_line and phase.markers
    curves = [c for p in phase.panels for c in p.curves]
    measured = [c for c in curves if not c.reference]
    predicted = [c for c in curves if c.reference and c.label.startswith("predicted")]
    edges = [c for c in curves if c.reference and "critical gain" in c.label]
    assert measured and predicted and edges
    relu = [p for p in phase.panels if p.title.startswith("relu")]
    relu_edges = [c for p in relu for c in p.curves if "critical gain" in c.label]
    assert relu_edges and all(c.x == pytest.approx([math.sqrt(2)] * 2) for c in relu_edges)
    # normal and orthogonal share relu's √2: one grey line, not one colour under another
    assert all(len([c for c in p.curves if "critical gain" in c.label]) == 1 for p in relu)
    assert all(c.style is None for c in relu_edges)
    assert all(c.dotted for c in edges) and not any(c.dotted for c in predicted)
    assert "a vertical dotted line marks the mean-field critical gain" in phase.caption
    with pinned():
        fig = draw(phase)
        (legend,) = fig.legends
        ticks = {
            tuple(t.get_text() for t in ax.get_xticklabels()) for ax in fig.axes if ax.get_visible()
        }
    # Ticks at the measured gains in every panel (a predicted curve's dense x put them
    # elsewhere, and not where a panel without predictions had them), and at gain 1, the
    # edge of chaos of an orthogonal W_hh, between them (relu's √2, drawn, lies too near the
    # measured 1.5 for a label of its own)
    gains = sorted({float(v) for c in measured for v in c.x} | {1.0})
    assert ticks == {tuple(f"{g:g}" for g in gains)}
    style = {
        t.get_text(): h._dash_pattern  # get_linestyle() says "--" of any dashes
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    assert style["mean-field critical gain (χ₁ = 1)"] != style[predicted[0].label]
    # The table lists every setting, flags and all (H = 8, T = 24: narrow and short wherever
    # a prediction is made; the rest say why there is none).
    table = theory.blocks[-1]
    assert table.title == "Theory vs measurement by setting"
    s = vl.summarize(run)
    settings = [c for c in vl.sweep.config.AXES if c != "seed"]
    assert len(table.rows) == len(s.groupby(settings))
    flags, by = table.columns.index("flags"), table.columns.index("theory")
    for row in table.rows:
        if row[by] == "—":  # why: under the row, or once in the caption where rows share it
            assert "no-theory" in row[flags]
            assert row[-1].startswith("No prediction") or (
                "diverges" in row[flags] and " A lower layer diverges (relu" in table.caption
            )
        else:
            assert "narrow" in row[flags] and "short" in row[flags]
    agreement = next(b for b in theory.blocks if isinstance(b, KeyValues))
    # H = 8 flags every cell narrow: the row says they are all of them, not some
    assert "|measured − predicted|, flagged cells (all of them)" in dict(agreement.items)
    assert dict(agreement.items)["Pascanu bound"].startswith("holds at every lag")
    assert "What the flags mean" in html and "Theory vs measurement by setting" in html


@pytest.mark.parametrize(
    ("activations", "said", "unsaid"),
    [
        (("tanh",), "(the edge of chaos)", "relu"),
        (("relu",), "for relu no edge of chaos", "(the edge of chaos)"),
        (("tanh", "relu"), "tanh's edge of chaos; relu has no chaotic phase", "for relu no"),
    ],
)
def test_relu_s_critical_gain_is_not_called_the_edge_of_chaos(tmp_path, activations, said, unsaid):
    """The dotted line at χ₁ = 1 was "the edge of chaos" for every activation: relu's mean
    field has no chaotic phase (χ₁ = g²/2 whatever q*; past √2 for normal weights q* has no
    fixed point and the activity diverges). tanh's critical gain keeps the name."""
    grid = vl.Sweep(
        activation=activations, init="normal", gain=(1.0, 2.0), hidden_size=4, input_size=2,
        seq_len=8, batch=2,
    )  # fmt: skip
    run = tmp_path / "run"
    vl.run_sweep(grid, run, workers=1, progress=False)
    theory = section(report_of(run, ["theory"]), "theory")
    (phase,) = [b for b in theory.blocks if isinstance(b, LineGrid)]
    # tanh's critical gain (about 1.86 with this drive) and relu's (√2) both lie in 1..2
    titles = {p.title.split(",")[0] for p in phase.panels if any(c.dotted for c in p.curves)}
    assert len(titles) == len(activations)
    assert said in phase.caption and unsaid not in phase.caption


def _lyapunov_cells(table: Table) -> list[str]:
    at = table.columns.index(next(c for c in table.columns if c.startswith("Lyapunov")))
    return [row[at] for row in table.rows]


def test_a_lyapunov_exponent_of_minus_inf_is_explained_where_it_is_shown(full, tmp_path):
    """A relu seed's Lyapunov exponent read −∞ (often beside a finite rate of the same seed)
    with no word on why: the one followed direction, mapped exactly to zero by a step with
    its relu units off, in the discarded first quarter too, stays zero. The caption says so
    wherever the column shows a −∞, and only there."""
    grid = vl.Sweep(
        activation="relu", init="normal", gain=(0.5, 1.0), hidden_size=4, input_size=2,
        seq_len=8, batch=2, input_std=0.0, bias=False,
    )  # fmt: skip
    run = tmp_path / "run"
    vl.run_sweep(grid, run, workers=1, progress=False)  # at the origin: every unit off
    for report in (report_of(run, ["theory"]), full[1]):
        table = section(report, "theory").blocks[-1]
        shown = any("−∞" in cell for cell in _lyapunov_cells(table))
        assert shown == ("mapped the followed direction exactly to zero" in table.caption)
    assert "−∞" in _lyapunov_cells(section(report_of(run, ["theory"]), "theory").blocks[-1])


def test_a_tanh_run_s_minus_inf_lyapunov_exponent_is_not_put_down_to_relu(tmp_path):
    """A tanh run's Lyapunov exponent is −∞ at gain 0 (W_hh = 0 maps every direction to zero
    in one step): the note under the table said "(relu units off)", in a run with no relu."""
    grid = vl.Sweep(
        activation="tanh", init="normal", gain=(0.0, 1.0), hidden_size=4, input_size=2,
        seq_len=8, batch=2,
    )  # fmt: skip
    run = tmp_path / "run"
    vl.run_sweep(grid, run, workers=1, progress=False)
    table = section(report_of(run, ["theory"]), "theory").blocks[-1]
    gain = table.columns.index("gain")
    cells = zip(table.rows, _lyapunov_cells(table), strict=True)
    minus_inf = {row[gain] for row, cell in cells if "−∞" in cell}
    assert minus_inf == {"0.0"}
    assert "mapped the followed direction exactly to zero" in table.caption
    assert "W_hh = 0 at gain 0" in table.caption


def test_decay_curves_carry_the_predicted_slope(full):
    run, report, html = full
    (fig,) = section(report, "decay").blocks
    s = vl.summarize(run)
    panel = next(p for p in fig.panels if p.title == "tanh, 1 layer, gain = 0.5")
    curve = next(c for c in panel.curves if c.label == "normal" and not c.reference)
    (ref,) = [c for c in panel.curves if c.reference and c.style == curve.style]
    cells = s[
        (s["activation"] == "tanh")
        & (s["num_layers"] == 1)
        & (s["gain"] == 0.5)
        & (s["init"] == "normal")
    ]
    # Over the fit window, from the measured line at its first lag, at the predicted rate.
    assert list(ref.x) == [cells["lag_start"].min(), cells["lag_end"].max()]
    slope = (ref.y[1] - ref.y[0]) / (ref.x[1] - ref.x[0]) * math.log(10)
    assert slope == pytest.approx(cells["predicted_rate"].mean())
    assert ref.y[0] == pytest.approx(np.interp(ref.x[0], curve.x, curve.y))
    assert "Dashed: the predicted slope" in fig.caption
    assert html.count("stroke-dasharray") > 0


def test_no_theory_section_where_nothing_applies(report_run, tmp_path):
    import _report_run as runs

    # Identity weights with input are not random and not at the origin: no prediction, so no
    # section and no dashed lines; the rates are still measured and reported.
    run = runs.make_run(tmp_path / "identity", runs.SINGLE.replace(init="identity"))
    report = report_of(run)
    keys = [s.key for s in report.sections]
    assert "theory" not in keys and "rates" in keys
    (fig,) = section(report, "decay").blocks
    assert not any(c.reference for p in fig.panels for c in p.curves)
    assert "Dashed" not in fig.caption
    assert '<section id="theory">' not in render_html(report)
    # Every cell failed (relu overflow): nothing measured, no section either.
    failed = runs.make_run(
        tmp_path / "failed", runs.SINGLE.replace(activation="relu", gain=12.0, seq_len=60)
    )
    assert "theory" not in [s.key for s in report_of(failed).sections]


def test_flagged_reasons_are_shown_and_escaped(tmp_path):
    import _report_run as runs

    run = runs.make_run(tmp_path / "run", runs.SINGLE)
    runs.add_failed_cell(
        run, "<script>alert(1)</script> overflow", hidden_size=8, input_size=4, seed=7
    )
    report = report_of(run)
    table = section(report, "theory").blocks[-1]
    notes = table.columns.index("notes")
    assert any("Failed: <script>alert(1)</script> overflow." in r[notes] for r in table.rows)
    html = render_html(report)
    assert "<script" not in html
    assert "Failed: &lt;script&gt;alert(1)&lt;/script&gt; overflow." in html
    assert re.search(r"<td>[^<]*failed[^<]*</td>", html)  # the flag column says so


# In the slow tier: ~3 s of CPU.
@pytest.mark.slow
def test_a_run_of_an_init_registered_elsewhere_is_reported(tmp_path):
    """A report made where the run's custom init is not registered (`vanishlab report`, a new
    process) raised "unknown init" from the theory section: a traceback, exit status 1. Its
    predicted line is now the cells' stored predictions at their gains."""
    import subprocess
    import sys

    from vanishlab.sweep.inits import INITS

    normal = INITS["normal"]
    mine = vl.Init(
        "mynormal_elsewhere", "normal, under another name", normal.apply, normal.variances, "iid"
    )
    vl.register_init(mine)
    try:
        grid = vl.Sweep(
            init="mynormal_elsewhere", gain=(0.5, 1.0, 2.0), input_std=1.0, hidden_size=8,
            input_size=4, seq_len=12, batch=2, bias=False,
        )  # fmt: skip
        run = tmp_path / "run"
        vl.run_sweep(grid, run, workers=1, progress=False)
    finally:
        INITS.pop("mynormal_elsewhere", None)
    out = tmp_path / "r.html"
    done = subprocess.run(
        [sys.executable, "-m", "vanishlab", "report", str(run), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    summary = vl.summarize(run)  # the cells' stored rows, as the command reads them
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), summary=summary
    )
    (grid_,) = [b for b in section(report, "theory").blocks if isinstance(b, LineGrid)]
    (line,) = [c for p in grid_.panels for c in p.curves if c.label.startswith("predicted")]
    assert line.x.tolist() == [0.5, 1.0, 2.0]
    np.testing.assert_allclose(line.y, summary.sort_values("gain")["predicted_rate"], rtol=1e-12)


@pytest.mark.parametrize(
    "inits",
    [("mynormal_upgraded", "normal"), pytest.param(("mynormal_upgraded",), marks=pytest.mark.slow)],
)
def test_a_custom_init_without_its_theory_after_an_upgrade_is_said_in_the_captions(
    tmp_path, monkeypatch, inits
):
    """A custom init's cells keep their summary rows; after an upgrade (other summary code)
    those rows are computed again where the report is made, which loads no experiment file:
    the init is not registered there, and its mean-field lines were missing from the decay
    and theory figures with no word why. Both captions now say it, naming the init and what
    to do; with the stored rows, or with the init registered again, they say nothing."""
    import vanishlab.sweep.summary as summary_module
    from vanishlab.sweep.inits import INITS
    from vanishlab.sweep.prediction import unregistered_reason

    normal = INITS["normal"]
    mine = vl.Init("mynormal_upgraded", "normal, renamed", normal.apply, normal.variances, "iid")
    run = tmp_path / "run"
    vl.register_init(mine)
    try:
        grid = vl.Sweep(
            init=inits, gain=(0.5, 2.0), input_std=1.0, hidden_size=8,
            input_size=4, seq_len=12, batch=2, bias=False,
        )  # fmt: skip
        vl.run_sweep(grid, run, workers=1, progress=False)
    finally:
        INITS.pop("mynormal_upgraded", None)

    def captions(summary) -> tuple[str, str, int, list[str]]:
        report = build_report(
            vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), summary=summary,
            sections=["decay", "theory"],  # the decay caption reads that theory is shown
        )  # fmt: skip
        decay = section(report, "decay").blocks[0]
        if "theory" not in [s.key for s in report.sections]:  # no prediction at all
            return decay.caption, "", 0, []
        (theory,) = [b for b in section(report, "theory").blocks if isinstance(b, LineGrid)]
        lines = [c for p in theory.panels for c in p.curves if c.label.startswith("predicted")]
        (table,) = [b for b in section(report, "theory").blocks if isinstance(b, Table)]
        notes = table.columns.index("notes")
        init = table.columns.index("init") if "init" in table.columns else None  # else one
        mine = [r[notes] for r in table.rows if init is None or r[init] == "mynormal_upgraded"]
        return decay.caption, theory.caption, len(lines), mine

    said = "No dashed line for init mynormal_upgraded: its cells' theory was computed again"
    stored = captions(vl.summarize(run, cache=False))  # the rows kept with the cells
    assert said not in stored[0] and said not in stored[1] and stored[2] == len(inits)
    monkeypatch.setattr(summary_module, "code_digest", lambda: "a later vanishlab")
    upgraded = captions(vl.summarize(run, cache=False))
    assert said in upgraded[0] and "import the module that registers it, then" in upgraded[0]
    assert upgraded[2] == len(inits) - 1
    assert said in upgraded[1] or len(inits) == 1  # a run of it alone has no theory section
    # The theory table's rows of that init say the same, in the same words (they said "unknown
    # init ... (choose from ...; see `vanishlab inits`)": it was known where the run was made).
    whole = unregistered_reason(["mynormal_upgraded"])
    # (the sentence on the lines drawn wider may follow it: gain_layout.gain_grid)
    assert f" No dashed line for {whole}." in upgraded[1] or len(inits) == 1
    assert upgraded[3] == [f"No theory for {whole}."] * (2 if len(inits) > 1 else 0)
    assert not any(stored[3])
    vl.register_init(mine)
    try:
        registered = captions(vl.summarize(run, cache=False))
    finally:
        INITS.pop("mynormal_upgraded", None)
    assert said not in registered[0] and said not in registered[1]
    assert registered[2] == len(inits)


def _settings_of(rates: dict[float, list[tuple]]):
    """:func:`by_setting` of a synthetic summary: per gain, its seeds' (status, rate), or
    (status, rate, Pascanu slope)."""
    import pandas as pd

    from vanishlab.report.predicted import by_setting
    from vanishlab.report.view import RunView

    cells, summary, results = [], [], []
    for gain, seeds in rates.items():
        for seed, (status, rate, *slope) in enumerate(seeds):
            cell = {"gain": gain, "seed": seed, "cell_id": f"{gain}-{seed}"}
            cells.append(cell | {"status": status, "reason": None, "elapsed_s": 0.1})
            summary.append(
                {
                    **cell,
                    "status": status,
                    "rate": rate,
                    "delta_rate": math.nan,
                    "lag_start": 1,
                    "lag_end": 5,
                    "lyapunov": math.nan,
                    "predicted_rate": math.nan,
                    "predicted_by": "none",
                    "mf_validity": "none",
                    "pascanu_slope": slope[0] if slope else math.nan,
                    "mf_critical_gain": math.nan,
                    "flag": "",
                    "note": "",
                }
            )
            results.append(cell | {"source": "state", "layer": 0, "lag": 0, "log10_fro_mean": 0.0})
    frames = [pd.DataFrame(f) for f in (results, cells, summary)]
    view = RunView(frames[0], frames[1], {"axes": {"gain": list(rates)}}, summary=frames[2])
    return by_setting(view).set_index("gain")


def test_a_settings_rate_is_the_mean_of_its_finite_seeds_and_its_band_their_range():
    # The theory table's rate of a setting is the mean over its measured seeds of the finite
    # rates (a seed at exact zero, rate -inf, is left out of the mean unless all are: then the
    # setting is -inf, not NaN), and rate_lo/rate_hi the least and largest of them. Defects
    # guarded against: -inf seeds counted in the mean's denominator, an all -inf setting shown
    # as NaN, a band of zero width (the largest rate taken for both ends).
    inf = math.inf
    out = _settings_of(
        {
            0.5: [("ok", -inf), ("ok", -inf), ("failed", math.nan)],
            1.0: [("ok", -inf), ("ok", -0.2), ("ok", -0.4)],
            1.5: [("ok", 0.1), ("ok", 0.3), ("ok", 0.8), ("failed", math.nan)],
        }
    )
    assert out.loc[0.5, "rate"] == -inf and out.loc[0.5, "n_zero"] == 2
    assert out.loc[1.0, "rate"] == pytest.approx((-0.2 - 0.4) / 2, abs=1e-12)
    assert out.loc[1.5, "rate"] == pytest.approx((0.1 + 0.3 + 0.8) / 3, abs=1e-12)
    assert (out.loc[1.0, "rate_lo"], out.loc[1.0, "rate_hi"]) == (-0.4, -0.2)
    assert (out.loc[1.5, "rate_lo"], out.loc[1.5, "rate_hi"]) == (0.1, 0.8)


def test_a_settings_pascanu_slope_is_that_of_the_seeds_its_rate_is_of():
    # The Pascanu slope (ln ||W_hh||_2) sits beside the measured rate as its bound, so it is the
    # mean over the same cells: the measured ones. A failed cell (an overflow) has weights and
    # a slope but no norm to bound. Defect guarded against: a row of "2 of 4" cells whose rate
    # was the mean of 2 seeds and its slope that of all 4 (relu, 2 layers, normal, gain 6,
    # H = 16, T = 60, seeds 0-3: +2.428 printed beside the measured seeds' +2.474).
    out = _settings_of(
        {
            6.0: [("ok", 1.3, 2.5), ("failed", math.nan, 2.4), ("ok", 1.4, 2.6)],
            6.4: [("failed", math.nan, 2.4), ("failed", math.nan, 2.5)],
        }
    )
    assert out.loc[6.0, "pascanu"] == pytest.approx((2.5 + 2.6) / 2, abs=1e-12)
    assert math.isnan(out.loc[6.4, "pascanu"])  # nothing measured: no bound shown, as no rate


def test_the_gated_rows_note_is_said_once_in_the_caption(tmp_path):
    """A run of nn.RNN and LSTM cells: each LSTM row of the theory table carried the same
    two-line note ('No prediction: no theory for gated cells: ...') under it, up to once per
    setting. It is now said once, in the caption; the rows keep their other notes."""
    import _report_run as runs

    sweep = runs.SINGLE.replace(model=("rnn", "lstm"), init="default", gain=(0.5, 1.0, 2.0))
    table = section(report_of(runs.make_run(tmp_path / "run", sweep), ["theory"]), "theory").blocks[
        -1
    ]
    model, notes = table.columns.index("model"), table.columns.index("notes")
    gated = [r for r in table.rows if r[model] == "lstm"]
    assert len(gated) == 3 and len(table.rows) == 6
    assert all("gated" not in r[notes] and "No prediction" not in r[notes] for r in gated)
    assert table.caption.count("Gilboa") == 1
    assert (
        "'—' where neither applies, with the reason in the row's notes, or here once where "
        "several rows share it: No theory for gated cells: the linear regime and the mean field "
        "here are nn.RNN's, and Gilboa et al. 2019's mean field of gated cells is not covered; "
        "ln ρ and the Pascanu bound are not defined for a gated recurrence here. "
    ) in table.caption
    # A run without gated cells says nothing of them.
    plain = section(report_of(runs.make_run(tmp_path / "rnn", runs.SINGLE), ["theory"]), "theory")
    assert "gated" not in plain.blocks[-1].caption


@pytest.mark.parametrize(
    ("inits", "every"), [(("default", "orthogonal"), "both"), ("default", "the")]
)
def test_the_pascanu_line_counts_one_or_two_rnn_cells_in_words(tmp_path, inits, every):
    """The gated smoke grid at one depth and length (--num-layers 2 --seq-len 12) read
    "holds at every lag of all 2 measured nn.RNN cells"."""
    import _report_run as runs

    sweep = runs.SINGLE.replace(model=("rnn", "lstm"), init=inits)
    theory = section(report_of(runs.make_run(tmp_path / "run", sweep), ["theory"]), "theory")
    agreement = next(b for b in theory.blocks if isinstance(b, KeyValues))
    cells = "cells" if every == "both" else "cell"
    assert dict(agreement.items)["Pascanu bound"] == (
        f"holds at every lag of {every} measured nn.RNN {cells}"
    )


def test_a_reason_for_no_prediction_that_rows_share_is_said_once_in_the_caption(tmp_path):
    """An identity init's rows (off the origin) each carried the same three lines under them,
    "No prediction: identity (Le, Jaitly & Hinton 2015) is deterministic and far from random:
    ...", as the gated rows did before: any reason that several rows share is now said once,
    in the caption, and each row keeps its own sentences ("Fit: exact zero Jacobian from lag
    34 on ..."). A reason only one row gives stays under it."""
    import _report_run as runs

    from vanishlab.sweep.inits import INITS

    sweep = runs.SINGLE.replace(
        activation="relu", init=("identity", "normal"), gain=(0.5, 1.0), seed=(0, 1), seq_len=40
    )
    table = section(report_of(runs.make_run(tmp_path / "run", sweep), ["theory"]), "theory").blocks[
        -1
    ]
    init, notes = table.columns.index("init"), table.columns.index("notes")
    reason = INITS["identity"].validity_reason
    identity = [r for r in table.rows if r[init] == "identity"]
    assert len(identity) == 2 and len(table.rows) == 4
    assert not any("No prediction" in r[notes] or "deterministic" in r[notes] for r in identity)
    assert all(r[notes].startswith("Fit: exact zero Jacobian from lag ") for r in identity)
    assert table.caption.count("deterministic and far from random") == 1
    assert (
        "'—' where neither applies, with the reason in the row's notes, or here once where "
        f"several rows share it: I{reason[1:]}. Measured − predicted: "
    ) in table.caption
    # One identity row: its reason stays under it, and the caption has no such words.
    one = runs.SINGLE.replace(init=("identity", "normal"), gain=1.0)
    table = section(report_of(runs.make_run(tmp_path / "one", one), ["theory"]), "theory").blocks[
        -1
    ]
    (row,) = [r for r in table.rows if r[0] == "identity"]
    assert row[-1] == f"No prediction: {reason}."
    assert "'—' where neither applies. Measured − predicted: " in table.caption


def test_the_models_tables_shared_reason_for_no_prediction_is_said_once(tmp_path):
    """The models table wrote "— (no prediction: a lower layer diverges (relu with gain² ≥ 2),
    so the layers above have no finite drive)" in each nn.RNN row where a lower layer
    diverges; the cells now show the dash alone and the caption says the reason once."""
    import _report_run as runs

    sweep = runs.SINGLE.replace(
        model=("rnn", "lstm"), activation="relu", num_layers=2, init="default", gain=(1, 3, 4)
    )
    table = section(report_of(runs.make_run(tmp_path / "run", sweep)), "models").blocks[-1]
    model, predicted = table.columns.index("model"), table.columns.index("predicted rate")
    rnn = [r[predicted] for r in table.rows if r[model].startswith("rnn")]
    assert rnn[0].endswith("(mean field)") and rnn[1:] == ["—", "—"]
    assert table.caption.count("a lower layer diverges") == 0
    assert (
        "('—' where none applies, with the reason, or alone where rows share it, given here "
        "once). A lower layer diverges (relu with χ₁ = H·Var(W_hh)/2 ≥ 1, which init 'default' "
        "reaches at gain 2.449), so the layers above have no finite drive. LSTM rows have no "
        "theory: "
    ) in table.caption


def test_a_custom_init_of_gated_cells_alone_after_an_upgrade_is_not_said_to_lack_its_lines(
    tmp_path, monkeypatch
):
    """Gated cells have no predicted line with any init (no mean field for LSTM, GRU), and the
    decay caption's "No dashed line for init NAME: ... import the module that registers it"
    told a run of LSTM cells alone, recomputed after an upgrade, to register an init that
    would draw nothing more; a mixed run's nn.RNN cells of that init are still named."""
    import vanishlab.sweep.summary as summary_module
    from vanishlab.sweep.inits import INITS

    base = INITS["default"]  # one that applies to every model
    mine = replace(base, name="mynormal_gated", description="default, renamed")
    said = "No dashed line for init mynormal_gated"
    monkeypatch.setattr(summary_module, "code_digest", lambda: "a later vanishlab")
    for models, named in ((("lstm",), False), (("rnn", "lstm"), True)):
        run = tmp_path / "-".join(models)
        vl.register_init(mine)
        try:
            grid = vl.Sweep(
                model=models, init="mynormal_gated", gain=(0.5, 2.0), hidden_size=4,
                input_size=2, seq_len=8, batch=2, bias=False,
            )  # fmt: skip
            vl.run_sweep(grid, run, workers=1, progress=False)
        finally:
            INITS.pop("mynormal_gated", None)
        report = build_report(
            vl.load_results(run), vl.load_cells(run), vl.load_manifest(run),
            summary=vl.summarize(run, cache=False), sections=["decay", "theory"],
        )  # fmt: skip
        decay = section(report, "decay").blocks[0]
        assert (said in decay.caption) == named, decay.caption
