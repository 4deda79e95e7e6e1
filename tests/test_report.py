"""The HTML report: its page data (stage one) and its HTML (stage two), on real small runs."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.report import (
    REPORT_STEM_BYTES,
    build_report,
    default_report_path,
    render_html,
    section_keys,
    unknown_sections,
)
from vanishlab.report.format import MAX_POINTS, format_value
from vanishlab.report.model import HeatmapGrid, LineGrid, Table
from vanishlab.report.view import RunView

STAMP = "2024-01-01T00:00:00Z"


def load(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    return vl.load_results(run_dir), vl.load_cells(run_dir), vl.load_manifest(run_dir)


def report_of(run_dir: Path, **kw):
    return build_report(*load(run_dir), timestamp=STAMP, **kw)


def figures(report) -> list:
    return [b for s in report.sections for b in s.blocks if isinstance(b, LineGrid | HeatmapGrid)]


@pytest.fixture(scope="module")
def full(full_report_data, full_report) -> tuple[object, str, Path]:
    """The full run: its report data, its HTML text and the file's path (timestamp STAMP)."""
    return full_report_data, full_report.read_text(encoding="utf-8"), full_report


# --------------------------------------------------------------------------- page data


def test_a_single_cell_run_has_its_figures_under_pandas_2s_itertuples(report_run, monkeypatch):
    """pandas 2's itertuples(index=False) of a frame of no columns yields no row (pandas 3's
    yields one empty tuple a row): a figure of no figure axis was planned as none, and a
    one-cell run's page had no decay and no input section, under any pandas 2."""
    real = pd.DataFrame.itertuples

    def pandas_2(self, index=True, name="Pandas"):
        if not index and not len(self.columns):
            return iter(())
        return real(self, index=index, name=name)

    monkeypatch.setattr(pd.DataFrame, "itertuples", pandas_2)
    assert list(pd.DataFrame(index=range(2)).itertuples(index=False)) == []  # as in pandas 2
    report = report_of(report_run("single"))
    assert [s.key for s in report.sections] == ["overview", "decay", "input", "rates", "theory"]


def test_sections_of_a_full_run(full):
    report, html, _ = full
    keys = [s.key for s in report.sections]
    # (relu cells of H = 8 may switch every unit off: exact zeros, listed as anomalies.)
    expected = ["overview", "decay", "input", "depth", "rates", "gain", "theory", "anomalies"]
    assert [k for k in expected if k != "anomalies" or k in keys] == keys
    assert set(keys) <= set(section_keys())
    # Every section is linked from the table of contents, and its anchor exists.
    for key in keys:
        assert f'<a href="#{key}">' in html
        assert f'<section id="{key}">' in html


def test_sections_of_a_single_cell_run(report_run):
    report = report_of(report_run("single"))
    # One layer (no depth map), no gain sweep (no phase diagram), nothing went wrong; the
    # default init is random, so the mean field predicts its rate.
    assert [s.key for s in report.sections] == ["overview", "decay", "input", "rates", "theory"]
    rates = next(s for s in report.sections if s.key == "rates")
    # Nothing varies: no heatmap, only the table with its one row.
    assert [type(b) for b in rates.blocks] == [Table]
    assert len(rates.blocks[0].rows) == 1
    decay = next(s for s in report.sections if s.key == "decay")
    (fig,) = decay.blocks
    assert fig.legend == () and len(fig.panels) == 1
    assert [c.reference for c in fig.panels[0].curves] == [False, True]  # measured, predicted


def test_the_decay_caption_points_to_the_theory_section_only_when_it_is_shown(report_run):
    """Experiments whose SECTIONS leave out "theory" kept the dashed predicted lines, and the
    caption still said "(see Theory vs measurement)", a section the page did not have."""
    results, cells, manifest = load(report_run("single"))

    def caption(sections):
        report = build_report(results, cells, {**manifest, "sections": sections}, timestamp=STAMP)
        (fig,) = next(s for s in report.sections if s.key == "decay").blocks
        return fig.caption

    assert "(see Theory vs measurement)" in caption(["decay", "theory"])
    without = caption(["decay"])
    assert "Dashed: the predicted slope" in without and "Theory vs" not in without


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_manifest_chooses_sections(report_run):
    results, cells, manifest = load(report_run("full"))
    report = build_report(results, cells, {**manifest, "sections": ["gain"]}, timestamp=STAMP)
    # Overview and anomalies are always shown; otherwise only what the manifest asks for.
    assert [s.key for s in report.sections] == ["overview", "gain", "anomalies"]
    # A name this version does not know, in the run's own list (a typo in an experiment's
    # SECTIONS made a run that no report could read): left out; named as an argument: refused.
    odd = {**manifest, "sections": ["gain", "nope"]}
    report = build_report(results, cells, odd, timestamp=STAMP)
    assert [s.key for s in report.sections] == ["overview", "gain", "anomalies"]
    assert unknown_sections(odd) == (["nope"], ["gain"])
    with pytest.raises(
        vl.VanishlabError, match="unknown report section 'nope' \\(report sections are: overview, "
    ):
        build_report(results, cells, manifest, sections=["nope"])


def test_report_says_which_of_the_runs_sections_it_left_out(report_run, tmp_path):
    import shutil

    from vanishlab.sweep import store

    run = Path(shutil.copytree(report_run("single"), tmp_path / "run"))
    manifest = store.load_manifest(run)
    # as vanishlab writes it (a hand edit would be said too: test_manifest_digest)
    store.write_manifest(run, {**manifest, "sections": ["decay", "nope"]})
    result = CliRunner().invoke(app, ["report", str(run), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "note: the run names report sections this version does not have, not shown: nope\n"
    )


def test_experiment_sections_are_known():
    for name, *_ in vl.list_experiments():
        exp = vl.load_experiment(name)
        assert set(exp.sections or ()) <= set(section_keys()), name


def test_overview_says_what_was_run(full, report_run):
    report, html, _ = full
    overview = report.sections[0]
    facts = dict(overview.blocks[0].items)
    assert facts["run name"] == "full run"
    assert facts["cells"] == "32 (32 ok, 0 failed)"
    swept = next(b for b in overview.blocks if isinstance(b, Table))
    assert [r[0] for r in swept.rows] == ["activation", "num_layers", "init", "gain", "seed"]
    import _report_run as runs

    manifest = vl.load_manifest(report_run("full"))
    assert runs.reproduce_text(html) == manifest["command"]
    assert f"Generated {STAMP}" in html


def test_a_command_is_cut_into_shell_words_that_rejoin_to_it(full):
    """The Reproduce block shows each shell word in a box of its own (so that a long command
    wraps between words, not at a flag's hyphens); the words and the spaces between them
    rejoin to the very text, quoted words with their spaces whole."""
    from vanishlab.report.render import shell_words

    words = ["vanishlab", "sweep", "--input-std", "1.0", "--out", "'my run'"]
    words += ["$'a\\'b c'", '"x \\" y"', "a\\ b"]
    assert shell_words(" ".join(words)) == [p for w in words for p in (w, " ")][:-1]
    for text in ["a  b\nc\td ", "cd 'unclosed && ls", "trailing \\", "", "\n"]:
        assert "".join(shell_words(text)) == text
    assert shell_words("cd 'a b") == ["cd", " ", "'a", " ", "b"]  # no shell's: cut at spaces
    _, html, _ = full
    assert '<span class="w">--seed</span> <span class="w">0,1</span>' in html


def test_several_command_lines_are_cut_into_words_between_their_lines_too():
    """The Reproduce block of a run extended with --force holds one command a line: quoted words
    stay whole across the newlines and a line continued with a backslash; text no shell reads
    is cut at newlines as at spaces. Mutation review: each of the three passed every test."""
    from vanishlab.report.render import shell_words

    assert shell_words("vanishlab sweep --name 'my run'\nvanishlab report 'a b'") == [
        "vanishlab", " ", "sweep", " ", "--name", " ", "'my run'", "\n",
        "vanishlab", " ", "report", " ", "'a b'",
    ]  # fmt: skip
    assert shell_words("vanishlab \\\n  --name 'my run'") == [
        "vanishlab", " ", "\\\n", "  ", "--name", " ", "'my run'",
    ]  # fmt: skip
    assert shell_words("cd 'a\nls") == ["cd", " ", "'a", "\n", "ls"]


def test_a_comparison_in_prose_stays_on_one_line():
    """A caption broke the median horizon "'h > n'" as "'h" / "> n'", and "'> n'" after its
    sign: the prose filter puts each short comparison (a sign between spaces, with the word
    either side, or led by a quote) in a span that never breaks, its text as it was."""
    from markupsafe import escape

    from vanishlab.report.render import prose
    from vanishlab.report.sections.rate_cells import horizon_median_note

    def kept(text: str) -> str:
        return f'<span class="nowrap">{escape(text)}</span>'

    for reads, seeds in itertools.product(["'h > n'", "'> n'"], (1, 2)):  # one seed: no median
        note = horizon_median_note(reads, seeds)
        assert prose(note) == str(escape(note)).replace(str(escape(reads)), kept(reads))
    assert prose("> 100") == kept("> 100")  # a table's horizon cell
    assert prose("narrow: H < 64, or fewer") == f"narrow: {kept('H < 64,')} or fewer"
    assert prose("(stable, |rate| ≤ 0.01, drawn") == f"(stable, {kept('|rate| ≤ 0.01,')} drawn"
    assert prose("set --gain > 2 a") == f'set <span class="w">--gain</span> {kept("> 2")} a'
    # a chain is one comparison: "0.95 < g" / "< 1.41" could break before its second sign
    assert prose("tanh: 0.95 < g < 1.41 here") == f"tanh: {kept('0.95 < g < 1.41')} here"
    assert prose("(> 1 > 0)") == kept("(> 1 > 0)")
    for text in ["a <b> c", "x->y", "n>1", "a >", ">"]:  # no sign between spaces, or no word
        assert prose(text) == escape(text)


def test_a_hyphenated_flag_in_a_table_cell_stays_on_one_line():
    """`vanishlab sweep gated`'s theory table broke every gated row's flag "no-theory" as "no-"
    / "theory" in its narrow flags column (36 rows of the README's gates run two lines tall): a
    table's cell keeps each word of letters joined by hyphens whole; prose elsewhere (a
    caption's "non-i.i.d.") is as it was."""
    from markupsafe import escape

    from vanishlab.report.model import Report, Section
    from vanishlab.report.render import aside, cell, prose

    def kept(text: str) -> str:
        return f'<span class="nowrap">{escape(text)}</span>'

    assert cell("no-theory") == kept("no-theory")
    assert cell("non-iid, narrow, short") == f"{kept('non-iid')}, narrow, short"
    assert cell("near-critical") == kept("near-critical")
    assert cell("> 12") == kept("> 12")  # a comparison, as prose keeps it
    for text in ["runs/try-gates-lstm-2x32", "float32", "−0.457", "2026-12-06", "a - b", "x-"]:
        assert cell(text) == escape(text), text  # digits, paths and lone hyphens: as they were
    assert aside("−0.1 (no-theory)") == f'−0.1 <span class="aside">({kept("no-theory")})</span>'
    caption = "non-i.i.d. weights, a no-theory cell"
    assert prose(caption) == escape(caption)
    table = Table("t", caption, ("flags",), (("no-theory",),), (False,))
    html = render_html(Report("p", "p", "2024-01-01", "0", (Section("s", "S", caption, (table,)),)))
    assert f"<td>{kept('no-theory')}</td>" in html
    assert f'<p class="caption">{escape(caption)}</p>' in html


def test_an_option_in_prose_is_one_box_and_the_rest_stays_as_it_was():
    """A caption's "--seq-len" wrapped at its hyphens ("-" / "-seq-len"): the template's prose
    filter puts each option, and a value after one that could break (a path), in a box of its
    own (span.w), and escapes the rest as before; a sentence without one is unchanged."""
    from markupsafe import escape

    from vanishlab.report.render import prose

    w = '<span class="w">{}</span>'.format
    assert prose("set --seq-len to T (--dry-run first).") == (
        f"set {w('--seq-len')} to T ({w('--dry-run')} first)."
    )
    assert prose("with --out runs/try-learn-lstm-1x8, a <b>") == (
        f"with {w('--out')} {w('runs/try-learn-lstm-1x8')}, a &lt;b&gt;"
    )
    assert prose("with --out naming --out=runs/a-b; --gain 1") == (
        f"with {w('--out')} naming {w('--out=runs/a-b')}; {w('--gain')} 1"
    )
    for text in ["non-finite -- a dash, x--y, ln ρ -0.5 & <i>", ""]:
        assert prose(text) == escape(text)
    assert prose(0.5) == 0.5


def test_decay_curves_average_seeds_and_span_them(report_run, full_report_data):
    results, _, _ = load(report_run("full"))
    report = full_report_data  # build_report of these rows, at STAMP
    decay = next(s for s in report.sections if s.key == "decay")
    (fig,) = decay.blocks
    # One panel per activation x depth x gain, one line per init.
    assert len(fig.panels) == 2 * 2 * 2 and fig.legend == ("orthogonal", "normal")
    panel = next(p for p in fig.panels if p.title == "tanh, 2 layers, gain = 0.5")
    curve = next(c for c in panel.curves if c.label == "normal")
    rows = results[
        (results["activation"] == "tanh")
        & (results["num_layers"] == 2)
        & (results["gain"] == 0.5)
        & (results["init"] == "normal")
        & (results["source"] == "state")
        & (results["layer"] == 1)
    ]
    by_lag = rows.groupby("lag")["log10_fro_mean"]
    np.testing.assert_allclose(curve.y, by_lag.mean().to_numpy())
    np.testing.assert_allclose(curve.lo, by_lag.min().to_numpy())
    np.testing.assert_allclose(curve.hi, by_lag.max().to_numpy())
    assert fig.note == ""


def test_single_seed_band_is_the_sample_spread(report_run):
    results, cells, manifest = load(report_run("single"))
    report = build_report(results, cells, manifest, timestamp=STAMP)
    curve, _predicted = report.sections[1].blocks[0].panels[0].curves
    state = results[results["source"] == "state"].sort_values("lag")
    np.testing.assert_allclose(curve.hi - curve.y, state["log10_fro_std"].to_numpy())
    assert "standard deviation" in report.sections[1].blocks[0].caption


def test_exact_zeros_overflow_and_failures(report_run):
    run = report_run("zeros")
    report = report_of(run)
    keys = [s.key for s in report.sections]
    assert "anomalies" in keys and "depth" not in keys
    anomalies = next(s for s in report.sections if s.key == "anomalies")
    tables = {b.title: b for b in anomalies.blocks}
    assert set(tables) == {"Failed cells", "Exact zeros", "Norms beyond float32"}
    (failed,) = tables["Failed cells"].rows
    assert failed[2] == "overflow" and "became inf" in failed[3] and "float32" in failed[1]
    assert all("input std = 0.0" in r[1] for r in tables["Exact zeros"].rows)
    beyond = tables["Norms beyond float32"].rows
    assert beyond and all("float64" in r[1] and float(r[2]) > 38.5 for r in beyond)
    # Its float32 is no statement of the cells' dtype (a teacher's float64 run read so).
    assert (
        "These cells ran in float64, whose plain backward pass holds norms up to log10 308.25."
        in (tables["Norms beyond float32"].caption)
    )
    # Figures drawn from the measured cells say that failed ones are not in them.
    captions = [
        getattr(b, "caption", "") for s in report.sections if s.key != "anomalies" for b in s.blocks
    ]
    said = [c for c in captions if "1 failed cell (listed under Anomalies) has no measurement" in c]
    assert len(said) >= 2
    rates = next(s for s in report.sections if s.key == "rates").blocks[-1]
    assert "a setting with no seed measured has no row" in rates.caption  # a table's words
    single = report_of(report_run("single"))
    assert not any(
        "listed under Anomalies" in getattr(b, "caption", "")
        for s in single.sections
        for b in s.blocks
    )

    # Zero input, no bias, relu: past lag 0 every Jacobian is exactly zero. The curve keeps
    # its finite lag-0 point, breaks after it, and marks every later lag on the floor.
    decay = next(s for s in report.sections if s.key == "decay")
    panels = [p for f in decay.blocks for p in f.panels if "input std = 0.0" in p.title]
    assert len(panels) == 2  # float32 and float64
    for panel in panels:
        assert len(panel.curves) == 2  # gain 1 and 12
        for curve in panel.curves:
            assert np.isfinite(curve.y[0]) and np.isnan(curve.y[1:]).all()
            np.testing.assert_array_equal(curve.floor_x, np.arange(1, 61))
    rates = next(s for s in report.sections if s.key == "rates")
    table = next(b for b in rates.blocks if isinstance(b, Table))
    zero_rows = [r for r in table.rows if r[table.columns.index("input std")] == "0.0"]
    assert zero_rows and all(r[table.columns.index("rate (ln/step)")] == "−∞" for r in zero_rows)


def test_user_failure_reason_is_listed(tmp_path):
    import _report_run as runs

    run = runs.make_run(tmp_path / "run", runs.SINGLE)
    config = {"hidden_size": 8, "input_size": 4, "seq_len": 16, "batch": 2, "seed": 5}
    cell = runs.add_failed_cell(tmp_path / "run", "worker <lost> & gone", **config)
    report = report_of(run)
    anomalies = report.sections[-1]
    table, outside = anomalies.blocks  # the cell added by hand is in none of the run's grids
    assert table.rows == ((cell, "seed = 5", "error", "worker <lost> & gone"),)
    assert outside.title == "Cells outside the run's grids" and outside.rows[0][0] == cell
    assert dict(report.sections[0].blocks[0].items)["cells"] == "2 (1 ok, 1 failed)"
    html = render_html(report)
    assert "worker &lt;lost&gt; &amp; gone" in html


def test_long_curves_are_thinned():
    # A synthetic frame: one cell, T = 5000 (rendering must not draw 5000 points per line).
    lags = np.arange(5001)
    results = pd.DataFrame(
        {
            "activation": "tanh",
            "num_layers": 1,
            "seed": 0,
            "cell_id": "c0",
            "source": "state",
            "layer": pd.array(np.zeros(lags.size, dtype=np.int64), dtype="Int64"),
            "lag": lags,
            "log10_fro_mean": -0.01 * lags,
            "log10_fro_std": 0.1,
            "n_zero": 0,
        }
    )
    cells = pd.DataFrame(
        {"activation": ["tanh"], "num_layers": [1], "seed": [0], "cell_id": ["c0"]}
        | {"status": ["ok"], "reason": [None], "elapsed_s": [1.0]}
    )
    report = build_report(results, cells, {"name": "long"}, timestamp=STAMP)
    (curve,) = report.sections[1].blocks[0].panels[0].curves
    assert len(curve.x) <= MAX_POINTS and curve.x[0] == 0 and curve.x[-1] == 5000
    rates = next(s for s in report.sections if s.key == "rates")
    table = rates.blocks[-1]
    assert table.rows[0][table.columns.index("rate (ln/step)")] == "−0.023"  # -0.01 ln 10
    assert table.rows[0][table.columns.index("horizon")] == "300"  # 3 decades at 0.01/step


def synthetic(rates: dict[tuple[str, int], float], *, lags: int = 40) -> tuple:
    """Frames of one-layer cells (init, seed) whose log10 norm falls at ``rate`` per step.

    A rate of -inf makes the curve exactly zero from lag 1 on; a rate given as ``("cut",
    r)`` falls at ``r`` and is exactly zero in the second half.
    """
    parts, cells = [], []
    for (init, seed), rate in rates.items():
        cell = f"{init}-{seed}"
        k = np.arange(lags + 1)
        if isinstance(rate, tuple):
            y = np.where(k > lags // 2, -np.inf, rate[1] * k)
        else:
            y = np.where(k > 0, -np.inf, 0.0) if rate == -np.inf else rate * k
        parts.append(
            pd.DataFrame(
                {
                    "activation": "tanh",
                    "init": init,
                    "seed": seed,
                    "num_layers": 1,
                    "cell_id": cell,
                    "source": "state",
                    "layer": pd.array(np.zeros(k.size, dtype=np.int64), dtype="Int64"),
                    "lag": k,
                    "log10_fro_mean": y,
                    "log10_fro_std": 0.0,
                    "n_zero": np.isneginf(y).astype(np.int64),
                }
            )
        )
        cells.append(
            {"activation": "tanh", "init": init, "seed": seed, "num_layers": 1, "cell_id": cell}
        )
    cells = pd.DataFrame(cells).assign(status="ok", reason=None, elapsed_s=0.1)
    return pd.concat(parts, ignore_index=True), cells


def test_rates_of_seeds_cut_to_exact_zero_are_fitted_before_the_zero():
    results, cells = synthetic({("a", 0): -0.1, ("a", 1): ("cut", -0.3), ("b", 0): -0.2})
    report = build_report(results, cells, {"name": "cut"}, sections=["rates"], timestamp=STAMP)
    rates = next(s for s in report.sections if s.key == "rates")
    table = rates.blocks[-1]
    rate = {row[0]: row[table.columns.index("rate (ln/step)")] for row in table.rows}
    ln10 = math.log(10)
    spread = np.std([0.1 * ln10, 0.3 * ln10], ddof=1)  # 0.33: two decimals, the mean's too
    assert (
        rate["a"]
        == f"−{0.2 * ln10:.2f}\u00a0±\u00a0{spread:.2f} (1 of 2 seeds exactly 0 from lag 21)"
    )


def test_the_cut_lag_named_is_that_of_the_cut_seeds_not_of_a_seed_at_minus_inf():
    """A setting with one seed cut to an exact zero from lag 21 (its rate fitted before it)
    and one at -inf (exactly zero from lag 1) read "(1 of 2 seeds exactly 0 from lag 1)": the
    lag of the -inf seed, which the rate cell already counts apart."""
    results, cells = synthetic({("a", 0): ("cut", -0.1), ("a", 1): -np.inf, ("b", 0): -0.2})
    report = build_report(results, cells, {"name": "cut"}, sections=["rates"], timestamp=STAMP)
    table = next(s for s in report.sections if s.key == "rates").blocks[-1]
    rate = {row[0]: row[table.columns.index("rate (ln/step)")] for row in table.rows}
    # one parenthesis: "(1 of 2 seeds −∞) (1 of 2 seeds exactly 0 from lag 21)" read as two
    expected = f"−{0.1 * math.log(10):.3f} (1 of 2 seeds −∞; 1 of 2 seeds exactly 0 from lag 21)"
    assert rate["a"] == expected


def test_a_horizon_made_by_exact_zeros_is_marked_and_the_fit_lags_end_before_them():
    """A curve that fell 0.2 decades by lag 20 and is exactly 0 (some samples' Jacobians) from
    lag 21: its horizon 21 read like a 1000x decay, and "fit lags" named the window's end,
    though the rate was fitted before the zero."""
    results, cells = synthetic({("a", 0): ("cut", -0.01), ("a", 1): ("cut", -0.01), ("b", 0): -0.2})
    report = build_report(results, cells, {"name": "cut"}, timestamp=STAMP)
    table = next(s for s in report.sections if s.key == "rates").blocks[-1]
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert rows["a"]["horizon"] == "21 (exact 0)" and rows["a"]["fit lags"] == "10\u2060–\u206020"
    assert rows["b"]["horizon"] == "15" and rows["b"]["fit lags"] == "10\u2060–\u206040"
    assert "'(exact 0)' when some seed's Jacobian is exactly zero there" in table.caption
    # "21 (exact 0)" broke after its number in the narrow column: never broken now
    assert table.nowrap == (table.columns.index("horizon"),)
    assert '<td class="num nowrap">21 (exact 0)</td>' in render_html(report)


def test_fit_lags_are_those_of_the_seeds_with_a_finite_rate():
    """A seed at -inf (exactly 0 from lag 1: nothing fitted, out of the mean) gave the window's
    end to the setting's "fit lags": "10–40" for a rate fitted, by its one other seed, on lags
    10–20 only. A window of one lag (T = 1: no seed has a rate) read "1–1", not "—"."""
    results, cells = synthetic({("a", 0): ("cut", -0.1), ("a", 1): -np.inf, ("b", 0): -0.2})
    report = build_report(results, cells, {"name": "cut"}, sections=["rates"], timestamp=STAMP)
    table = next(s for s in report.sections if s.key == "rates").blocks[-1]
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert rows["a"]["fit lags"] == "10\u2060–\u206020"
    assert rows["b"]["fit lags"] == "10\u2060–\u206040"
    results, cells = synthetic({("a", 0): -0.1, ("a", 1): -0.2, ("b", 0): -0.2}, lags=1)
    report = build_report(results, cells, {"name": "one lag"}, sections=["rates"], timestamp=STAMP)
    table = next(s for s in report.sections if s.key == "rates").blocks[-1]
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert rows["a"]["rate (ln/step)"] == "—" and rows["a"]["fit lags"] == "—"


def test_the_input_rate_counts_its_seeds_at_minus_inf():
    """The input rate is a mean over the seeds whose input rate is finite, like the rate beside
    it, but it did not say that it left some out: "−0.230" for a setting whose other seed's
    input Jacobian is exactly 0 from lag 1 on (rate −∞), where the state rate reads
    "(1 of 2 seeds −∞)"."""
    results, cells = synthetic({("a", 0): -0.1, ("a", 1): -0.2, ("b", 0): -0.2})
    k = np.arange(40)
    inputs = []
    for cell, y in (("a-0", -0.1 * k), ("a-1", np.where(k > 0, -np.inf, 0.0)), ("b-0", -0.2 * k)):
        first = results[results["cell_id"] == cell].iloc[0]
        inputs.append(
            pd.DataFrame(
                {
                    **{c: first[c] for c in ("activation", "init", "seed", "num_layers")},
                    "cell_id": cell,
                    "source": "input",
                    "layer": pd.array([pd.NA] * k.size, dtype="Int64"),
                    "lag": k,
                    "log10_fro_mean": y,
                    "log10_fro_std": 0.0,
                    "n_zero": np.isneginf(y).astype(np.int64),
                }
            )
        )
    results = pd.concat([results, *inputs], ignore_index=True)
    report = build_report(results, cells, {"name": "inputs"}, sections=["rates"], timestamp=STAMP)
    table = next(s for s in report.sections if s.key == "rates").blocks[-1]
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert rows["a"]["input rate"] == f"−{0.1 * math.log(10):.3f} (1 of 2 seeds −∞)"
    assert rows["b"]["input rate"] == f"−{0.2 * math.log(10):.3f}"


def test_rates_leave_out_seeds_with_exact_zeros():
    results, cells = synthetic(
        {("a", 0): -0.1, ("a", 1): -np.inf, ("a", 2): -0.3, ("b", 0): -np.inf, ("b", 1): -np.inf}
    )
    report = build_report(results, cells, {"name": "zeros"}, sections=["rates"], timestamp=STAMP)
    rates = next(s for s in report.sections if s.key == "rates")
    table = rates.blocks[-1]
    rate = {row[0]: row[table.columns.index("rate (ln/step)")] for row in table.rows}
    ln10 = math.log(10)
    assert (
        rate["a"]
        == f"−{0.2 * ln10:.2f}\u00a0±\u00a0{0.2 * ln10 / math.sqrt(2):.2f} (1 of 3 seeds −∞)"
    )
    assert rate["b"] == "−∞"
    (heat,) = [b for b in rates.blocks if isinstance(b, HeatmapGrid)]
    (panel,) = heat.panels
    assert panel.row_labels == ("a", "b") and "†" in panel.text[0][0]
    assert panel.values[1, 0] == -np.inf


def test_columns_take_the_axis_that_fits():
    # The decay grid puts the axis with the most values (that fit) in columns.
    results, cells = synthetic({(i, s): -0.1 for i in ("a", "b") for s in range(3)})
    results = pd.concat([results.assign(gain=g) for g in (0.5, 1.0, 2.0)])
    results = pd.concat([results.assign(seq_len=t) for t in (40, 41)])
    results["cell_id"] = (
        results["cell_id"] + results["gain"].astype(str) + results["seq_len"].astype(str)
    )
    cells = results.drop_duplicates("cell_id")[
        ["activation", "init", "seed", "num_layers", "gain", "seq_len", "cell_id"]
    ]
    cells = cells.assign(status="ok", reason=None, elapsed_s=0.1)
    report = build_report(results, cells, {"name": "cols"}, timestamp=STAMP)
    decay = next(s for s in report.sections if s.key == "decay")
    assert [f.ncols for f in decay.blocks] == [3, 3]  # gain in columns, one figure per T
    assert [f.title for f in decay.blocks] == [
        "Decay of the state Jacobian (T = 40)",
        "Decay of the state Jacobian (T = 41)",
    ]


def test_runs_with_nothing_to_plot(report_run, tmp_path):
    import json

    import _report_run as runs

    # Every cell failed (relu at gain 12 overflows its forward pass): overview and anomalies.
    run = runs.make_run(
        tmp_path / "failed", runs.SINGLE.replace(activation="relu", gain=12.0, seq_len=60)
    )
    report = report_of(run)
    assert [s.key for s in report.sections] == ["overview", "anomalies"]
    assert "overflow" in render_html(report)
    # Nothing measured yet: the overview alone, saying so.
    empty = tmp_path / "empty"
    empty.mkdir()
    manifest = {**vl.load_manifest(run), "name": "empty", "n_cells": 1}
    (empty / "manifest.json").write_text(json.dumps(manifest))
    report = report_of(empty)
    assert [s.key for s in report.sections] == ["overview"]
    assert "0 of 1 planned" in dict(report.sections[0].blocks[0].items)["cells"]
    render_html(report)


def test_reference_curves_are_drawn_dashed():
    # The extension point for theory overlays: a Curve marked as a reference.
    from vanishlab.report.figures import figure_svg
    from vanishlab.report.model import Curve, LineGrid, LinePanel

    x = np.arange(10.0)
    measured = Curve("orthogonal", 0, x, -0.1 * x, -0.1 * x - 0.1, -0.1 * x + 0.1)
    theory = Curve("mean field", 0, x, -0.11 * x, reference=True)
    grid = LineGrid(
        "t",
        "c",
        1,
        1,
        (LinePanel(0, 0, "p", (measured, theory)),),
        "k",
        "y",
        "init",
        ("orthogonal",),
    )
    svg = figure_svg(grid, "x")
    assert "stroke-dasharray" in svg and "<!-- mean field -->" in svg


def test_format_value():
    assert format_value(1.0) == "1.0" and format_value(12.0) == "12"
    assert format_value(0.25) == "0.25" and format_value(1e-7) == "1e-07"
    assert format_value(True) == "true" and format_value(np.int64(3)) == "3"
    assert format_value(-math.inf) == "−∞" and format_value(math.nan) == "—"
    assert format_value(None) == "—" and format_value(pd.NA) == "—"


def test_axis_order_follows_the_manifest(report_run):
    results, cells, manifest = load(report_run("full"))
    manifest = {**manifest, "axes": {**manifest["axes"], "init": ["normal", "orthogonal"]}}
    view = RunView(results, cells, manifest)
    assert view.values("init") == ["normal", "orthogonal"]
    assert view.values("gain") == [0.5, 1.5]
    assert view.line_axis == "init"
    assert set(view.varying) == {"activation", "num_layers", "init", "gain", "seed"}


# --------------------------------------------------------------------------- HTML


def test_figure_count_and_numbering(full):
    report, html, _ = full
    figs = figures(report)
    assert html.count('<svg class="fig"') == len(figs) > 0
    numbers = [int(n) for n in re.findall(r'<figure id="figure-(\d+)">', html)]
    assert numbers == list(range(1, len(figs) + 1))
    # Every figure has its caption, and its drawing is named by its title and caption for a
    # screen reader (it was an unnamed image).
    assert html.count("<figcaption id=") == len(figs)
    for n in numbers:
        names = f'aria-labelledby="figure-{n}-title figure-{n}-caption"'
        assert html.count(names) == 1
        assert (
            f'<h3 id="figure-{n}-title">' in html
            and f'<figcaption id="figure-{n}-caption">' in html
        )


def test_every_scroll_box_is_a_named_region_the_keyboard_reaches(full):
    """A figure's or a table's box scrolls where the window is narrower than it (or a tall
    table's, always), and Safari and Firefox give a scrolling box that holds nothing focusable
    no tab stop: a keyboard user could not scroll it. Each box is a tab stop (tabindex="0"),
    a region named by its figure's or table's title, and shows an outline when focused."""
    report, html, _ = full
    boxes = re.findall(r'<div class="scroll[^"]*"[^>]*>', html)
    tables = [b for s in report.sections for b in s.blocks if b.kind == "table"]
    assert len(boxes) == len(figures(report)) + len(tables) > len(figures(report))
    titles = dict(re.findall(r'<h3 id="([^"]+)">([^<]*)</h3>', html))
    named = []
    for box in boxes:
        assert ' role="region"' in box and ' tabindex="0"' in box, box
        (label,) = re.findall(r'aria-labelledby="([^"]+)"', box)
        named.append(titles[label])
    assert [n for n in named if not n.startswith("Figure ")] == [t.title for t in tables]
    assert ".scroll:focus-visible { outline: 2px solid" in html


def test_ids_are_unique(full):
    _, html, _ = full
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []
    # Every in-page reference points at an id of the page.
    refs = set(re.findall(r'href="#([^"]+)"', html)) | set(re.findall(r"url\(#([^)]+)\)", html))
    assert refs <= set(ids)


def test_self_contained(full):
    _, html, _ = full
    assert "<script" not in html.lower()
    assert '<link rel="stylesheet"' not in html and "@import" not in html
    # Nothing to fetch: every src/href is in-page or a data: URI.
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attr.startswith(("#", "data:")), attr
    assert "default-src 'none'" in html  # the browser is told so too


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_deterministic(full, report_run, tmp_path):
    _, html, path = full
    again = vl.render_report(report_run("full"), tmp_path / "again.html", timestamp=STAMP)
    assert again.read_bytes() == path.read_bytes()
    assert "Date" not in html and "uuid" not in html.lower()


def test_hostile_strings_are_escaped(report_run, tmp_path):
    results, cells, manifest = load(report_run("single"))
    evil = "<script>alert(1)</script>"
    manifest = {
        **manifest,
        "name": evil,
        "description": '"><img src=x onerror=alert(2)>',
        "experiment": "$\\frac{a}{$ & co",
        "command": "vanishlab sweep --out '</code><script>alert(3)</script>'",
        "versions": {"<b>torch</b>": "<i>2</i>"},
    }
    # Config values a custom registry could hold, in tables and in figure text (legends,
    # where "$" would start mathtext): the one cell again under a second, hostile init.
    hostile_init = "<img src=x onerror=alert(4)>$\\oops$"
    results = pd.concat([results, results.assign(init=hostile_init, cell_id="evil")])
    cells = pd.concat([cells, cells.assign(init=hostile_init, cell_id="evil")])
    manifest["axes"] = {**manifest["axes"], "init": ["default", hostile_init]}
    html = render_html(build_report(results, cells, manifest, timestamp=STAMP))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(4)&gt;" in html
    # The title and the heading show the name as text.
    assert "<title>vanishlab report: &lt;script&gt;alert(1)&lt;/script&gt;</title>" in html


def test_render_report_default_path(report_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    run = report_run("bare")
    assert default_report_path(run) == Path("reports/single_run.html")
    out = vl.render_report(run)
    assert out == Path("reports/single_run.html") and out.is_file()
    assert "Generated 1970-01-01T00:00:00Z" in out.read_text(encoding="utf-8")


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_docs_cli_says_how_a_run_name_becomes_its_report_file(report_run, tmp_path):
    # The README said the file "keeps its letters, digits, -, _ and ." and no more: a name
    # "_x_." gave reports/x.html, the `.` and `_` at its ends dropped. Its example now runs
    # (the rule moved to docs/cli.md, "Naming a run").
    import json
    import shutil

    docs = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    text = " ".join(docs.split())  # the sentence wraps
    (match,) = re.finditer(r'`--name "([^"]*)"` -> `(reports/[^`]*)`', text)
    name, want = match.groups()
    assert name[0] in "._" and name[-1] not in "._-" and " " in name  # shows every rule
    run = tmp_path / "run"
    shutil.copytree(report_run("single"), run)
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "name": name}))
    assert default_report_path(run) == Path(want)
    assert f"longer than {REPORT_STEM_BYTES}" in text


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_report_file_name_keeps_only_letters_the_file_system_can_write(
    report_run, tmp_path, monkeypatch
):
    """Under an ASCII locale without Python's UTF-8 mode (LC_ALL=C PYTHONUTF8=0), `vanishlab
    report` of a run named "café" ended in a UnicodeEncodeError traceback: the é was kept in
    the file name, which the file system's encoding cannot write."""
    import json
    import shutil
    import sys

    run = tmp_path / "run"
    shutil.copytree(report_run("single"), run)
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "name": "café crème"}))
    assert default_report_path(run) == Path("reports/café_crème.html")
    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: "ascii")
    assert default_report_path(run) == Path("reports/caf__cr_me.html")


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
@pytest.mark.parametrize("name", ["x" * 300, "名" * 200, "a/b" * 90, "🔥" * 300, "!!"])
def test_a_long_run_name_gets_a_report_file_it_can_have(report_run, tmp_path, name):
    # `analyze --name` took 300 characters; `report` then failed "File name too long" (the
    # sweep's 200-character limit counts characters, and 200 CJK characters are 600 bytes).
    import json
    import shutil

    paths = []
    for i, label in enumerate((name, name + "!")):
        run = tmp_path / f"run{i}"
        shutil.copytree(report_run("single"), run)
        manifest = json.loads((run / "manifest.json").read_text())
        (run / "manifest.json").write_text(json.dumps({**manifest, "name": label}))
        paths.append(default_report_path(run))
    path = paths[0]
    assert path.parent == Path("reports") and len(path.stem.encode()) <= REPORT_STEM_BYTES
    (tmp_path / path.name).write_text("")  # the file system takes it
    assert paths[1] != path  # the digest keeps names apart


def test_cli(report_run, tmp_path):
    runner = CliRunner()
    out = tmp_path / "sub" / "r.html"
    result = runner.invoke(
        app, ["report", str(report_run("bare")), "-o", str(out), "--timestamp", STAMP]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out) and out.is_file()
    bad = runner.invoke(app, ["report", str(tmp_path / "missing")])
    assert bad.exit_code == 2
    assert "not a vanishlab run directory" in bad.output
    assert "Traceback" not in bad.output


@pytest.mark.slow
def test_deterministic_across_processes(report_run, tmp_path):
    # Another interpreter, another hash seed: the same bytes (no set order, no ids from memory).
    import os
    import subprocess
    import sys

    run = report_run("full")
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"r{seed}.html"
        args = ["report", str(run), "-o", str(out), "--timestamp", STAMP]
        subprocess.run(
            [sys.executable, "-c", "from vanishlab.__main__ import main; main()", *args],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


@pytest.mark.parametrize(
    ("stamp", "error"),
    [("yesterday", vl.VanishlabError), ("", vl.VanishlabError), (5, TypeError), (1.5, TypeError)],
)
def test_render_report_refuses_a_timestamp_that_is_not_a_time(report_run, tmp_path, stamp, error):
    # The API printed "yesterday" as the page's time and failed deep inside on 5 (the CLI
    # refused both): one check now serves both.
    out = tmp_path / "r.html"
    with pytest.raises(error, match="timestamp"):
        vl.render_report(report_run("single"), out, timestamp=stamp)
    assert not out.exists()


@pytest.mark.parametrize("stamp", ["garbage", "", "01/02/2024", "yesterday"])
def test_cli_refuses_a_timestamp_that_is_not_a_time(report_run, tmp_path, stamp):
    # The page would show the text as its "generated" time: a typo is refused, not printed.
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        app, ["report", str(report_run("single")), "-o", str(out), "--timestamp", stamp]
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --timestamp"), result.stderr
    assert "is not an ISO 8601 time" in lines[0] and "2024-01-01T00:00:00Z" in lines[0]
    assert not out.exists()


def test_cli_pins_the_page_to_a_timestamp(report_run, tmp_path):
    out = tmp_path / "r.html"
    for fine in ("2024-01-01", "2024-01-01T12:00:00+02:00"):
        result = CliRunner().invoke(
            app, ["report", str(report_run("bare")), "-o", str(out), "--timestamp", fine]
        )
        assert result.exit_code == 0, result.stderr
        assert f"Generated {fine}" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc", "is not a number of seconds since 1970"),
        ("", "is not a number of seconds since 1970"),  # it read as unset: "now"
        ("-5", "is not a number of seconds since 1970"),
        ("1.5", "is not a number of seconds since 1970"),
        (" 12", "is not a number of seconds since 1970"),
        ("1_000", "is not a number of seconds since 1970"),
        ("99999999999999999", "is out of the range of dates"),
    ],
)
def test_cli_refuses_a_malformed_source_date_epoch(
    report_run, tmp_path, monkeypatch, value, problem
):
    # The reproducible-builds convention: a malformed value is an error, never silently "now".
    out = tmp_path / "r.html"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    result = CliRunner().invoke(app, ["report", str(report_run("single")), "-o", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: SOURCE_DATE_EPOCH={value!r} {problem}")
    assert "fix or unset it" in lines[0], lines[0]
    assert not out.exists()
    with pytest.raises(vl.VanishlabError, match="SOURCE_DATE_EPOCH"):
        vl.render_report(report_run("single"), out)


def test_a_timestamp_takes_precedence_over_source_date_epoch(report_run, tmp_path, monkeypatch):
    # --timestamp takes precedence over a malformed value; a sound value pins the page.
    out = tmp_path / "r.html"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "abc")
    args = ["report", str(report_run("bare")), "-o", str(out)]
    assert CliRunner().invoke(app, [*args, "--timestamp", "2024-01-01"]).exit_code == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    assert CliRunner().invoke(app, args).exit_code == 0
    assert "Generated 2024-01-01T00:00:00Z" in out.read_text(encoding="utf-8")


# In the slow tier: ~2 s of CPU; make test keeps the in-process
# test_matplotlib_keeps_its_own_folders_where_it_can_write_them below.
@pytest.mark.slow
def test_report_is_quiet_where_matplotlib_cannot_write_its_folders(report_run, tmp_path):
    # A home matplotlib cannot write (here: below a regular file) made it print two warnings
    # ("mkdir -p failed ...", "Matplotlib created a temporary cache directory ..."). Same
    # fallback now, quietly; the temporary folder is removed at exit.
    import os
    import subprocess
    import sys

    blocker = tmp_path / "file"
    blocker.write_text("")
    temp = tmp_path / "tmp"
    temp.mkdir()
    unset = ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(HOME=str(blocker / "home"), TMPDIR=str(temp))
    out = tmp_path / "r.html"
    done = subprocess.run(
        [sys.executable, "-c", "from vanishlab.__main__ import main; main()",
         "report", str(report_run("single")), "-o", str(out)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.strip() == str(out) and out.is_file()
    assert list(temp.iterdir()) == []


def test_matplotlib_keeps_its_own_folders_where_it_can_write_them(tmp_path, monkeypatch):
    import os
    import sys

    from vanishlab.report.matplotlib_dirs import quiet_matplotlib_dirs

    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)  # as before its first import
    for name in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # writable: nothing changes
    quiet_matplotlib_dirs()
    assert "MPLCONFIGDIR" not in os.environ and list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path / "file" / "home"))  # not writable: a private one
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    (tmp_path / "tmp").mkdir()
    quiet_matplotlib_dirs()
    folder = os.environ.pop("MPLCONFIGDIR")
    assert os.path.dirname(folder) == str(tmp_path / "tmp") and os.path.isdir(folder)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="Linux /proc only")
def test_default_matplotlib_folders_under_proc_get_a_private_folder_silently(
    tmp_path, monkeypatch, capsys
):
    """MPLCONFIGDIR unset, the XDG folders under /proc: as root, os.access said /proc could be
    written, so matplotlib tried and said in two lines that it could not (helper 229 noticed).
    A folder made and removed there says no: the private folder, without a word."""
    import os
    import sys

    from vanishlab.report.matplotlib_dirs import quiet_matplotlib_dirs

    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)  # as before its first import
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/proc/no-such-config")
    monkeypatch.setenv("XDG_CACHE_HOME", "/proc/no-such-cache")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    quiet_matplotlib_dirs()
    folder = os.environ.pop("MPLCONFIGDIR")
    assert os.path.dirname(folder) == str(tmp_path) and capsys.readouterr().err == ""


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_an_mplconfigdir_that_cannot_be_written_gets_one_note_and_a_private_folder(
    where, tmp_path, monkeypatch, capsys
):
    """MPLCONFIGDIR set to a folder that cannot be made: matplotlib said so in two lines
    ("mkdir -p failed ...", "Matplotlib created a temporary cache directory ..."); now one note
    and the same fallback, made before matplotlib is imported. /proc: as root, os.access says
    yes to a folder there that cannot be made."""
    import os
    import sys

    from vanishlab.report.matplotlib_dirs import quiet_matplotlib_dirs

    (tmp_path / "file").write_text("")
    chosen = str(tmp_path / "file" / "mpl") if where == "under-a-file" else "/proc/no-such/mpl"
    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)  # as before its first import
    monkeypatch.setenv("MPLCONFIGDIR", chosen)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    (tmp_path / "tmp").mkdir()
    quiet_matplotlib_dirs()
    folder = os.environ["MPLCONFIGDIR"]
    assert os.path.dirname(folder) == str(tmp_path / "tmp") and os.path.isdir(folder)
    err = capsys.readouterr().err
    assert err == (
        f"note: MPLCONFIGDIR={chosen} cannot be written; matplotlib's cache is in a temporary "
        "folder for this run\n"
    )
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "made" / "mpl"))  # can be made: kept
    quiet_matplotlib_dirs()
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "made" / "mpl")
    assert (tmp_path / "made" / "mpl").is_dir() and capsys.readouterr().err == ""


@pytest.mark.parametrize("stderr", ["full", "closed"])
def test_the_mplconfigdir_note_passes_over_a_stderr_that_cannot_take_it(
    stderr, tmp_path, monkeypatch
):
    """The note was a plain print to stderr: with 2>/dev/full it raised OSError out of the
    report (a refusal, status 2, for a page that could be drawn), with 2>&- it went to stdout
    (print(file=None)). It takes the path of every other stderr line (helper 272's list)."""
    import io
    import os
    import sys

    from vanishlab.report.matplotlib_dirs import quiet_matplotlib_dirs

    class Full(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")

    (tmp_path / "file").write_text("")
    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "file" / "mpl"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    (tmp_path / "tmp").mkdir()
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", Full() if stderr == "full" else None)
    quiet_matplotlib_dirs()
    assert os.path.dirname(os.environ["MPLCONFIGDIR"]) == str(tmp_path / "tmp")
    assert out.getvalue() == ""


def test_an_analysis_page_names_the_lags_a_rate_was_fitted_on():
    """The analysis page's "fit lags" named the window's end for a curve cut by an exact zero
    inside it; its rate was fitted before the zero. A rate that fitted nothing (-inf, NaN)
    has no fit lags: "—", as in the sweep report's rates table."""
    from vanishlab.report.sections.single_model_curves import _fit_lags

    fit = {"lag_start": 10, "lag_end": 40}
    assert _fit_lags({**fit, "zero_lag": 21, "rate": -0.3}) == "10–20"
    assert _fit_lags({**fit, "zero_lag": pd.NA, "rate": -0.3}) == "10–40"
    assert _fit_lags({**fit, "zero_lag": 41, "rate": -0.3}) == "10–40"
    assert _fit_lags({**fit, "zero_lag": 2, "rate": -math.inf}) == "—"  # nothing fitted
    assert _fit_lags({**fit, "zero_lag": pd.NA, "rate": math.nan}) == "—"


def test_exact_zeros_count_lags_not_layer_lag_pairs():
    """A two-layer cell with zeros at lags 3-5 in both layers read "6 lags with zeros"."""
    results, cells = synthetic({("a", 0): -0.1})
    upper = results.assign(layer=pd.array([1] * len(results), dtype="Int64"))
    both = pd.concat([results, upper], ignore_index=True)
    zero = both["lag"].between(3, 5).to_numpy()
    both.loc[zero, "n_zero"] = 1
    report = build_report(
        both, cells.assign(num_layers=2), {"name": "z"}, sections=[], timestamp=STAMP
    )
    anomalies = next(s for s in report.sections if s.key == "anomalies")
    table = next(b for b in anomalies.blocks if getattr(b, "title", "") == "Exact zeros")
    (row,) = table.rows
    assert row[table.columns.index("lags with zeros")] == "3"
    assert row[table.columns.index("first lag")] == "3"


def test_the_exact_zeros_table_counts_its_cells_and_settings():
    """A 1,000-cell run's exact-zeros table listed 76 rows (one per cell and source, each
    setting once per seed) and said nowhere how many cells and settings they were; over 200
    rows it shows only the first 200. Its note now counts them: cells of the run's cells,
    and the settings they fall in, the seeds aside, of the run's settings."""
    rates = {("a", 0): -np.inf, ("a", 1): ("cut", -0.3), ("b", 0): -0.2, ("b", 1): -np.inf}
    rates |= {("c", 0): -0.1, ("c", 1): -0.2}
    results, cells = synthetic(rates)
    report = build_report(results, cells, {"name": "z"}, sections=[], timestamp=STAMP)
    anomalies = next(s for s in report.sections if s.key == "anomalies")
    table = next(b for b in anomalies.blocks if getattr(b, "title", "") == "Exact zeros")
    assert len(table.rows) == 3
    assert table.note == "3 of the run's 6 cells, in 2 of its 3 settings (the seeds aside)."
    # without a seed axis that varies, a cell is a setting: the cells alone are counted
    one_seed = {k: v for k, v in rates.items() if k[1] == 1}
    results, cells = synthetic(one_seed)
    report = build_report(results, cells, {"name": "z"}, sections=[], timestamp=STAMP)
    anomalies = next(s for s in report.sections if s.key == "anomalies")
    table = next(b for b in anomalies.blocks if getattr(b, "title", "") == "Exact zeros")
    assert table.note == "2 of the run's 3 cells."


def test_the_models_table_names_the_rates_section_only_when_it_is_shown():
    """Its caption said "as in the rates table" on a page whose sections left it out."""
    results, cells = synthetic({("a", 0): -0.1, ("b", 0): -0.2})
    results, cells = (
        pd.concat([f.assign(model=m, cell_id=f["cell_id"] + m) for m in ("rnn", "gru")])
        for f in (results, cells)
    )

    def caption(sections):
        report = build_report(results, cells, {"name": "m"}, sections=sections, timestamp=STAMP)
        tables = [b for s in report.sections if s.key == "models" for b in s.blocks]
        return next(b for b in tables if isinstance(b, Table)).caption

    assert "as in Decay rates and horizons" in caption(["models", "rates"])
    without = caption(["models"])
    assert "rates table" not in without and "Decay rates and horizons" not in without


def test_the_models_table_reads_a_setting_as_the_rates_table_does():
    """The models table took the mean of every seed's rate, -inf included: a setting with one
    seed of two at an exact zero read "−∞" there and "−0.230 (1 of 2 seeds −∞)" in the rates
    table, and its horizon lacked the "(exact 0)" mark."""
    results, cells = synthetic({("a", 0): -0.1, ("a", 1): -np.inf, ("b", 0): ("cut", -0.01)})
    models = ("rnn", "gru")
    results, cells = (
        pd.concat([f.assign(model=m, cell_id=f["cell_id"] + m) for m in models], ignore_index=True)
        for f in (results, cells)
    )
    report = build_report(results, cells, {"name": "zeros"}, timestamp=STAMP)
    tables = {b.title: b for s in report.sections for b in s.blocks if isinstance(b, Table)}
    by_model, by_setting = tables["Rates and horizons by model"], tables["Decay rates by setting"]

    def cells_of(table: Table) -> set[tuple[str, str]]:
        rate, horizon = table.columns.index("rate (ln/step)"), table.columns.index("horizon")
        return {(row[rate], row[horizon]) for row in table.rows}

    assert f"−{0.1 * math.log(10):.3f} (1 of 2 seeds −∞)" in {r for r, _ in cells_of(by_model)}
    assert any(h.endswith("(exact 0)") for _, h in cells_of(by_model))
    assert cells_of(by_model) == cells_of(by_setting)


def test_the_models_figure_averages_the_seeds_left_where_one_is_exactly_zero():
    """The side-by-side figure averaged every seed's mean log10, -inf included: a line of two
    seeds, one exactly zero from lag 21, stopped there, though the other seed's curve goes on
    and the decay curves (and their caption's rule) average the other seeds."""
    results, cells = synthetic({("a", 0): -0.1, ("a", 1): ("cut", -0.1), ("b", 0): -0.2})
    results, cells = (
        pd.concat([f.assign(model=m, cell_id=f["cell_id"] + m) for m in ("rnn", "gru")])
        for f in (results, cells)
    )
    report = build_report(results, cells, {"name": "m"}, timestamp=STAMP)
    figure = next(b for s in report.sections if s.key == "models" for b in s.blocks)
    panel = next(p for p in figure.panels if p.title == "init = a")
    for curve in panel.curves:
        assert np.allclose(curve.y, -0.1 * curve.x)  # seed 0's line, at every lag
        assert curve.floor_x.min() == 21  # seed 1's zeros, marked on the floor
    assert "the line averages the other seeds" in figure.caption


def _three_models_report():
    """A report of an RNN swept --activation tanh,relu beside a GRU (synthetic rows)."""
    results, cells = synthetic({("a", 0): -0.1, ("b", 0): -0.2})
    lines = (("rnn", "tanh"), ("rnn", "relu"), ("gru", "n/a"))
    results, cells = (
        pd.concat(
            [f.assign(model=m, activation=a, cell_id=f["cell_id"] + m + a) for m, a in lines],
            ignore_index=True,
        )
        for f in (results, cells)
    )
    manifest = {"name": "m", "axes": {"model": ["rnn", "gru"], "activation": ["tanh", "relu"]}}
    return build_report(results, cells, manifest, timestamp=STAMP)


def test_the_models_figure_and_table_keep_the_run_s_activation_order():
    """The side-by-side lines of an RNN were sorted by name, "rnn (relu)" before "rnn (tanh)",
    in a run swept --activation tanh,relu, whose heatmaps and rates table put tanh first: the
    legend, the colours (tanh blue in a tanh-only run, orange here) and the table's rows read
    the other way round."""
    report = _three_models_report()
    figure, table = next(s for s in report.sections if s.key == "models").blocks
    want = ["rnn (tanh)", "rnn (relu)", "gru"]
    assert all([c.label for c in p.curves] == want for p in figure.panels)
    model = table.columns.index("model")
    # a block of rows per line, in the legend's order (RunView.table_order)
    assert [m for m, _ in itertools.groupby(row[model] for row in table.rows)] == want


def test_a_model_s_label_in_the_models_table_is_never_broken_over_two_lines():
    """ "rnn (tanh)" wrapped onto two lines in the models table, beside its wide predicted-rate
    column: its cells keep the label as it is (the legend's, the data's) and the page never
    breaks them (white-space: nowrap on that column alone)."""
    report = _three_models_report()
    _, table = next(s for s in report.sections if s.key == "models").blocks
    model = table.columns.index("model")
    horizon = table.columns.index("horizon")  # never broken either: "21 (exact 0)"
    assert table.nowrap == (model, horizon) and "rnn (tanh)" in {row[model] for row in table.rows}
    html = render_html(report)
    assert re.search(r"\n\.nowrap \{ white-space: nowrap; \}\n", html)
    for label in ("rnn (tanh)", "rnn (relu)", "gru"):
        assert f'<td class="nowrap">{label}</td>' in html
    # the nowrap class is this column's alone: no other table's cell has it
    assert html.count('<td class="nowrap">') == len(table.rows)


def test_a_gated_cell_s_activation_reads_not_applicable_not_missing():
    """The rates table wrote "n/a" under "activation" for a GRU, and a gated panel of a rate
    map had one column labelled "n/a" under the axis "activation": read as a value not
    available (beside "—" for one), where the cell has no activation to choose."""
    report = _three_models_report()
    rates = next(s for s in report.sections if s.key == "rates")
    table = next(b for b in rates.blocks if isinstance(b, Table))
    model, activation = table.columns.index("model"), table.columns.index("activation")
    shown = {row[activation] for row in table.rows if row[model] == "gru"}
    assert shown == {"n/a (gated)"}
    labels = {
        c
        for b in rates.blocks
        if isinstance(b, HeatmapGrid)
        for p in b.panels
        for c in p.col_labels
    }
    assert "n/a (gated)" in labels and "n/a" not in labels


def test_word_axes_are_left_aligned_in_the_rates_table():
    """The 'model' column (rnn, lstm, gru) was right-aligned as a number in the rates and
    theory tables, beside a left-aligned 'activation' and 'init': only activation, init,
    bias and dtype were listed as words."""
    results, cells = synthetic({("a", 0): -0.1, ("b", 0): -0.2})
    results, cells = (
        pd.concat([f.assign(model=m, cell_id=f["cell_id"] + m) for m in ("rnn", "gru")])
        for f in (results, cells)
    )
    report = build_report(results, cells, {"name": "m"}, sections=["rates"], timestamp=STAMP)
    table = next(s for s in report.sections if s.key == "rates").blocks[-1]
    aligned = dict(zip(table.columns, table.numeric, strict=True))
    assert aligned["model"] is False and aligned["init"] is False
    assert aligned["seeds"] is True


def test_number_axes_are_right_aligned_in_the_models_table():
    """The models table left-aligned every setting column, numbers too ('layers', 'gain'),
    where the rates and theory tables right-align them (format.NUMERIC_AXES)."""
    results, cells = synthetic({("a", 0): -0.1, ("b", 0): -0.2})
    results, cells = (
        pd.concat([f.assign(model=m, cell_id=f["cell_id"] + m) for m in ("rnn", "gru")])
        for f in (results, cells)
    )
    results, cells = (
        pd.concat([f.assign(gain=g) for g in (0.5, 1.0)], ignore_index=True)
        for f in (results, cells)
    )
    cells = cells.assign(cell_id=cells["cell_id"] + cells["gain"].astype(str))
    results = results.assign(cell_id=results["cell_id"] + results["gain"].astype(str))
    report = build_report(results, cells, {"name": "m"}, timestamp=STAMP, sections=["models"])
    table = next(b for s in report.sections if s.key == "models" for b in s.blocks[1:])
    aligned = dict(zip(table.columns, table.numeric, strict=True))
    assert aligned["gain"] is True and aligned["init"] is False and aligned["model"] is False


def test_every_table_with_a_model_column_puts_it_first():
    """The models table listed the model after the setting ('init', 'gain', 'model', ...),
    where the rates and theory tables and every figure title (format.setting_text) put it
    first; its unbreakable columns stay the model's and the horizon's."""
    results, cells = synthetic({("a", 0): -0.1, ("b", 0): -0.2})
    results, cells = (
        pd.concat([f.assign(model=m, cell_id=f["cell_id"] + m) for m in ("rnn", "gru")])
        for f in (results, cells)
    )
    report = build_report(results, cells, {"name": "m"}, timestamp=STAMP)
    tables = [b for s in report.sections for b in s.blocks if isinstance(b, Table)]
    with_model = {t.title: t for t in tables if "model" in t.columns}
    assert {"Rates and horizons by model", "Decay rates by setting"} <= set(with_model)
    assert all(t.columns[0] == "model" for t in with_model.values()), with_model
    by_model = with_model["Rates and horizons by model"]
    assert by_model.columns[:2] == ("model", "init")
    assert by_model.nowrap == (0, by_model.columns.index("horizon"))
    models = [row[0] for row in by_model.rows]
    # a block of rows per model, as every table lists them (RunView.table_order); without a
    # manifest's axes, the models in name order
    assert models == ["gru", "gru", "rnn (tanh)", "rnn (tanh)"], models


def test_the_models_table_writes_no_prediction_as_the_theory_table_does(tmp_path):
    """An nn.RNN setting without a prediction (relu, 2 layers, orthogonal, gain 2: a lower layer
    diverges) read a bare 'none' in the models table, where the theory table writes a dash
    and its notes the reason; and relu at the origin, predicted −∞ by the linear regime (as
    the theory table says), read 'none' too."""
    from vanishlab.report.data import build_report as build

    def models_table(sweep):
        run = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        vl.run_sweep(sweep, run, name="m", workers=1, progress=False)
        report = build(
            vl.load_results(run),
            vl.load_cells(run),
            vl.load_manifest(run),
            timestamp=STAMP,
            summary=vl.summarize(run),
            sections=["models"],
        )
        (section,) = [s for s in report.sections if s.key == "models"]
        table = next(b for b in section.blocks if isinstance(b, Table))
        return {row[table.columns.index("model")]: row[-1] for row in table.rows}

    small = {"hidden_size": 8, "input_size": 4, "seq_len": 12, "batch": 2}
    diverging = models_table(
        vl.Sweep(
            model=("rnn", "gru"),
            activation="relu",
            num_layers=2,
            init="orthogonal",
            gain=2.0,
            **small,
        )
    )
    assert diverging["rnn (relu)"] == (
        "— (no prediction: a lower layer diverges (relu with χ₁ = H·Var(W_hh)/2 ≥ 1, which "
        "init 'orthogonal' reaches at gain 1.414), so the layers above have no finite drive)"
    )
    assert diverging["gru"] == "— (no theory for gated cells)"
    origin = models_table(
        vl.Sweep(
            model=("rnn", "gru"),
            activation="relu",
            init="orthogonal",
            gain=0.5,
            input_std=0.0,
            bias=False,
            **small,
        )
    )
    assert origin["rnn (relu)"] == "−∞ (linear)"


def test_the_remaining_switches_that_are_no_bool_are_refused(report_run, tmp_path):
    """summarize(cache="no") read and wrote the cache, run_cell(summary="no") computed the
    summary row, progress="no" showed a progress bar (render_report, run_sweep,
    analyze_checkpoint) and batch_first="no" read an inputs file as (B, T, I): each was read
    by its truth value. Each is now a TypeError naming it, as every other switch."""
    run = report_run("single")
    with pytest.raises(TypeError, match=r"^cache must be True or False, got 'no'"):
        vl.summarize(run, cache="no")
    cell = vl.CellConfig(hidden_size=2, input_size=1, seq_len=2, batch=1)
    with pytest.raises(TypeError, match=r"^summary must be True or False, got 'no'"):
        vl.run_cell(cell, summary="no")
    with pytest.raises(TypeError, match=r"^progress must be True or False, got 'no'"):
        vl.render_report(run, tmp_path / "r.html", timestamp=STAMP, progress="no")
    grid = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2)
    with pytest.raises(TypeError, match=r"^progress must be True or False, got 'no'"):
        vl.run_sweep(grid, tmp_path / "run", progress="no")
    for name in ("progress", "batch_first"):
        with pytest.raises(TypeError, match=f"^{name} must be True or False, got 'no'"):
            vl.analyze_checkpoint(tmp_path / "none.pt", tmp_path / "a", **{name: "no"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert len(vl.summarize(run, cache=np.False_)) >= 1  # a NumPy bool is a bool


@pytest.mark.parametrize("flag", ["no", "False", 0, None])
def test_overwrite_and_the_sweeps_flags_that_are_no_bool_are_refused(report_run, tmp_path, flag):
    """overwrite="no" was true, as every non-empty string is: the report replaced a file that
    was not this run's report. run_sweep's force, retry_failed and smoke read "no" the same
    way (force extended a directory holding another grid). Each is now a TypeError."""
    mine = tmp_path / "notes.html"
    mine.write_text("my notes", encoding="utf-8")
    with pytest.raises(TypeError, match=f"^overwrite must be True or False, got {flag!r}"):
        vl.render_report(report_run("single"), mine, timestamp=STAMP, overwrite=flag)
    assert mine.read_text(encoding="utf-8") == "my notes"
    grid = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2)
    for name in ("force", "retry_failed", "smoke"):
        with pytest.raises(TypeError, match=f"^{name} must be True or False"):
            vl.run_sweep(grid, tmp_path / "run", progress=False, **{name: flag})
    assert not (tmp_path / "run").exists()
    np_false = np.False_ if flag == "no" else False  # a NumPy bool is a bool
    with pytest.raises(vl.VanishlabError, match="not a vanishlab report"):
        vl.render_report(report_run("single"), mine, timestamp=STAMP, overwrite=np_false)


def test_every_table_header_says_it_heads_a_column(full):
    """A screen reader names a cell by its column's header; the header cells had no scope, so
    the association rested on the reader's guess for each of the page's tables (WCAG H63).
    Every table's headers are its first row's column headers: each says scope="col"."""
    html = full[1]
    headers = re.findall(r"<th\b[^>]*>", html)
    assert len(headers) > 20  # the page has tables: overview, rates, theory
    assert [h for h in headers if 'scope="col"' not in h] == []


# Machado, Oliveira & Fernandes (2009): full dichromacy, on linear RGB.
_DICHROMACY = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def _lab(hex_colour: str, seen: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of ``hex_colour`` as the linear-RGB matrix ``seen`` shows it."""
    srgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    xyz_of = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    t = np.array(xyz_of) @ np.clip(seen @ rgb, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_lines_of_a_figure_differ_in_colour_to_a_colour_blind_reader():
    """The measured curves are solid lines told apart by colour alone (dashes are a
    prediction's, dots a marker line's). tab10's first four, the demo's four inits, were 4.6
    apart in CIELAB (orange and green) to a protanope and 7.3 (green and red) to a
    deuteranope, about one just-noticeable step: `normal` read as `orthogonal` or `identity`.
    Any two colours of a figure of up to 6 lines differ by at least 15 under each dichromacy
    (and in normal vision)."""
    from vanishlab.report.figures import palette

    vision = {"normal": np.eye(3), **{k: np.array(m) for k, m in _DICHROMACY.items()}}
    for n in range(2, 7):
        colours = palette(n)
        for name, seen in vision.items():
            labs = [_lab(c, seen) for c in colours]
            least = min(np.linalg.norm(a - b) for a, b in itertools.combinations(labs, 2))
            assert least >= 15, (n, name, least)


def test_the_lines_of_a_figure_of_more_than_six_differ_in_colour_or_in_shape():
    """A figure of 7 to 10 lines took tab10's colours: the built-in activation_init study's 8
    inits read 4.6 apart (orange and green: xavier_uniform, xavier_normal) to a protanope and
    7.3 (green and red: xavier_normal, kaiming_uniform) to a deuteranope, one line to them,
    and colour alone told them apart. Past 6 lines the six colour-blind-safe colours come round
    again, each round's lines marked by a shape of their own (squares, then diamonds), up to
    18: any two legend samples differ by at least 15 in colour under each dichromacy, or in
    shape. Drawn, each line of a colour that comes round carries its shape on a few of its
    points, and its prediction (dashed) the same shape, open."""
    from matplotlib.colors import to_hex

    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LinePanel

    def drawn(n: int):
        x = np.arange(20.0)
        curves = [Curve(f"init {s}", s, x, -0.1 * (s + 1) * x) for s in range(n)]
        curves.append(Curve("predicted", n - 1, x, -0.1 * n * x - 1.0, reference=True))
        panels = (LinePanel(0, 0, "p", tuple(curves)),)
        legend = tuple(f"init {s}" for s in range(n))
        grid = LineGrid("Decay", "", 1, 1, panels, "k", "y", "init", legend)
        with pinned():
            fig = draw(grid)
            handles = fig.legends[0].legend_handles[:n]
            samples = [(to_hex(h.get_color()), h.get_marker()) for h in handles]
            return samples, fig.axes[0].get_lines()

    vision = {"normal": np.eye(3), **{k: np.array(m) for k, m in _DICHROMACY.items()}}
    for n in (7, 8, 10, 12, 13, 18):
        samples = drawn(n)[0]
        for name, seen in vision.items():
            labs = [_lab(c, seen) for c, _ in samples]
            for i, j in itertools.combinations(range(n), 2):
                apart = np.linalg.norm(labs[i] - labs[j])
                assert apart >= 15 or samples[i][1] != samples[j][1], (n, name, i, j, apart)
    samples, lines = drawn(8)
    assert [m for _, m in samples] == ["None"] * 6 + ["s", "s"], samples
    marks = [ln for ln in lines if ln.get_marker() == "s"]
    filled = [ln for ln in marks if to_hex(ln.get_markerfacecolor()) != "#ffffff"]
    assert len(marks) == 3 and len(filled) == 2  # inits 6 and 7, and 7's prediction, open
    assert all(3 <= len(ln.get_xdata()) <= 10 for ln in marks), [ln.get_xdata() for ln in marks]


def test_a_heatmap_square_s_text_contrasts_4_5_to_1_with_its_square():
    """A heatmap square's rate and horizon were written in #222222 or white by the square's
    gamma-encoded luma (below 0.45: white): dark grey on RdBu's mid blues read 3.7:1, under
    WCAG's 4.5:1 for text, which no rule reaches with #222222. White or black, whichever
    contrasts more, reaches it on every colour of both maps and on the exact zeros' grey."""
    import matplotlib as mpl

    from vanishlab.report.heatmaps import CMAP, ZERO_COLOR, text_color

    def luminance(colour) -> float:
        c = np.asarray(mpl.colors.to_rgb(colour))
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    shades = [mpl.colormaps[m](v) for m in (CMAP, "viridis") for v in np.linspace(0, 1, 501)]
    for shade in [*shades, ZERO_COLOR]:
        a, b = sorted([luminance(shade), luminance(text_color(shade))])
        assert (b + 0.05) / (a + 0.05) >= 4.5, (shade, text_color(shade))


def test_a_drawn_heatmap_writes_each_square_s_text_in_the_colour_that_contrasts_4_5_to_1():
    """The rule above, as the figure draws it: each square's text (a rate, a horizon) is
    written on its square's colour (its value's, or the zeros' grey) at 4.5:1 or more; on the
    old rule (#222222 or white by gamma-encoded luma) squares of RdBu's mid blues read 3.7:1.
    ``text_color`` alone was tested, not that the squares' text is drawn with it."""
    import matplotlib as mpl

    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.heatmaps import ZERO_COLOR
    from vanishlab.report.layout import as_parts
    from vanishlab.report.model import HeatPanel

    def luminance(colour) -> float:
        c = np.asarray(mpl.colors.to_rgb(colour))
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    values = np.linspace(-3.0, 1.0, 40).reshape(5, 8)
    values[0, 0] = -np.inf  # an exact zero: grey
    text = tuple(tuple(f"{v:.2f}" for v in row) for row in values)
    panel = HeatPanel("model = rnn", tuple("abcde"), tuple("12345678"), values, text=text)
    (grid,) = as_parts([HeatmapGrid("Rate", "c", (panel,), 1, "gain", "setting", "r")])
    ratios = []
    with pinned():
        figure = draw(grid)
    ax = next(a for a in figure.axes if a.texts)
    (mesh, *_) = ax.collections
    for t in ax.texts:
        x, y = t.get_position()
        v = values[int(y), int(x)]
        square = mesh.to_rgba(v) if math.isfinite(v) else ZERO_COLOR
        a, b = sorted([luminance(square), luminance(t.get_color())])
        ratios.append((b + 0.05) / (a + 0.05))
    assert len(ratios) == values.size
    assert min(ratios) >= 4.5, min(ratios)
