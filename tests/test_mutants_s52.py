"""Mutation review of the changes of session 52 (f7e30ef..edf6ad24): each test here failed on
a small plausible change of the code it names (a comparison, a constant, an argument or a
branch changed or dropped) that passed the tests of that code, and passes on the code as it
is.

Mutants tried / killed by the tests before / killed with these (2026-12-06; each run against
the test files of its code, ``pytest -x -p no:randomly -m "not slow"``; tests/test_report.py by
``-k`` for heatmaps (heatmap, contrast, square), palette (colour, palette, line), zeros (zero,
anomal)):
  preflight (+ runner's call)     13 /  7 / 11   heatmaps.text_color, luminance 11 /  7 /  8
  figures.palette, CVD_SAFE        5 /  3 /  4   data.build_report key check    3 /  3 /  3
  scoring_text (+ TASK_CHANCE)    13 /  6 / 12   trainability._efold_text       6 /  3 /  5
  trainability._agreement (+ use)  4 /  3 /  4   what_to_try _TANH_NOT_ENOUGH   3 /  2 /  3
  anomalies, exact-zeros note      8 /  7 /  8   tensor_checks.TOKEN_IDS        4 /  4 /  4
  report.css print rules           7 /  6 /  7   template scope="col"           2 /  2 /  2
  __init__ del annotations         1 /  1 /  1
In all 80 / 54 / 72. The 8 left are equivalent, or change nothing a user sees: ``if`` for
``while`` over a functools.partial (a partial of a partial, subclasses too, is flattened when
made: one level is all there is); ``path.startswith("<")`` alone for a pseudo-file's "<...>"
(a main file whose path begins with "<" and does not end with ">" is no program anyone runs);
``channels < 0.04045`` for ``<=`` (sRGB's two branches meet there); ``>`` for ``>=`` in
``text_color`` (a tie: white and black contrast alike, 4.58:1); a dark channel linearised by
12.0 for 12.92 (the luminance moves at most 0.0002: only a colour that close to the crossing
flips, where both read 4.58:1, none of RdBu_r's or viridis' 2001 shades tested); Okabe & Ito's
blue and orange swapped (the same six colours, any two 16+ apart under each dichromacy: their
order is a choice); ``scoring_text``'s words for an unknown task changed (a sweep's task is
one of config.TASK_NAMES, whose two trained ones TASK_CHANCE both words); ``efold >= reach``
for ``>`` (a lag of exactly n, "n.00" or "> n", at one rate of measure zero)."""

from __future__ import annotations

import sys
import types
from types import SimpleNamespace

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

import vanishlab as vl
from vanishlab.sweep.inits import INITS, Init
from vanishlab.sweep.preflight import check_importable

# --- sweep/sendable.py (preflight re-exports it): check_importable, _main_reruns ---


def _notebook(monkeypatch: pytest.MonkeyPatch, **attrs: object) -> types.ModuleType:
    """A ``__main__`` as an IPython kernel's (no ``__file__``, no ``__spec__``), with ``attrs``."""
    main = types.ModuleType("__main__")
    for name, value in attrs.items():
        setattr(main, name, value)
    monkeypatch.setitem(sys.modules, "__main__", main)
    return main


def _of_main(fn, qualname: str):
    fn.__module__, fn.__qualname__ = "__main__", qualname
    return fn


def _apply(rnn, gain, generator):
    INITS["default"].apply(rnn, gain, generator)


def test_a_notebook_cell_s_variances_function_is_refused_as_its_apply_is(monkeypatch):
    """An init's ``variances`` is pickled by name as its ``apply`` is: one a notebook's cell
    defined killed every worker the same way. Only ``apply`` had a test (checking it alone
    passed), and the message names the cell's function, not the field ("its apply (apply)"
    was all any test read: a message naming the field twice passed)."""

    def xavier_in_a_cell(hidden, inputs, gain):
        return gain**2 / hidden, 1.0 / inputs, 0.0

    variances = _of_main(xavier_in_a_cell, "xavier_in_a_cell")
    _notebook(monkeypatch, xavier_in_a_cell=variances)
    init = Init("variances_test", "a cell's variances", _apply, variances=variances)
    with pytest.raises(vl.VanishlabError) as err:
        check_importable([init])
    assert str(err.value).startswith(
        "init 'variances_test' cannot be sent to worker processes: its variances "
        "(xavier_in_a_cell) is defined in this interactive session (a notebook's cell)"
    )


def test_a_program_run_from_a_folder_or_zip_has_its_cell_functions_refused(monkeypatch):
    """``python app/`` or ``python app.pyz`` runs the folder's or archive's ``__main__.py`` as
    ``__main__`` with ``__spec__.name == "__main__"``: multiprocessing re-runs no main module
    of that name (``_fixup_main_from_name``), so the workers cannot import its functions.
    Only a package's ``pkg.__main__`` had a test: taking "__main__" for a re-run main passed."""
    import importlib.machinery

    def scaled(rnn, gain, generator):
        _apply(rnn, gain, generator)

    apply = _of_main(scaled, "scaled")
    main = _notebook(monkeypatch, scaled=apply, __file__="/srv/app.pyz/__main__.py")
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    with pytest.raises(vl.VanishlabError, match=r"its apply \(scaled\) is defined in this"):
        check_importable([Init("zipapp_test", "a zipapp's", apply)])


def test_a_main_whose_file_is_a_pseudo_file_name_is_not_taken_for_a_re_run_one(monkeypatch):
    """A ``__main__`` whose ``__file__`` is a pseudo-file name in angle brackets (an embedded
    interpreter's "<input>", as ``<stdin>`` of ``python -``) has no file for the workers to
    re-run: its functions are refused too. Only a ``__main__`` without ``__file__`` had a
    test: any string taken for a file passed."""

    def scaled(rnn, gain, generator):
        _apply(rnn, gain, generator)

    apply = _of_main(scaled, "scaled")
    _notebook(monkeypatch, scaled=apply, __file__="<input>")
    with pytest.raises(vl.VanishlabError, match=r"its apply \(scaled\) is defined in this"):
        check_importable([Init("pseudo_test", "an embedded interpreter's", apply)])


# --- report/heat_scale.py (heatmaps re-exports it): text_color, _relative_luminance ---


def _contrast(a: object, b: object) -> float:
    """WCAG 2's contrast ratio of two colours, computed here from its definition."""

    def luminance(colour: object) -> float:
        c = np.asarray(mpl.colors.to_rgb(colour))
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    low, high = sorted([luminance(a), luminance(b)])
    return (high + 0.05) / (low + 0.05)


def test_a_square_s_text_is_the_one_of_white_and_black_that_contrasts_more():
    """``text_color`` says "whichever contrasts more"; its test asked only for 4.5:1, which
    both reach near the crossing (a luminance of 0.179, 4.58:1 either way), so a crossing moved
    to 0.174 (white's ratio taken as 1.0 / (L + 0.05)) or a dark channel linearised by 12.0 for
    12.92 passed. Here on 2001 shades of RdBu_r and of viridis, and on greys around the
    crossing, the one chosen contrasts at least as much as the other."""
    from vanishlab.report.heatmaps import CMAP, ZERO_COLOR, text_color

    greys = [(g, g, g) for g in np.linspace(0.40, 0.55, 301)]
    maps = [mpl.colormaps[m](v)[:3] for m in (CMAP, "viridis") for v in np.linspace(0, 1, 2001)]
    worse = []
    for shade in [*maps, *greys, ZERO_COLOR]:
        chosen = text_color(shade)
        other = "black" if chosen == "white" else "white"
        if _contrast(shade, chosen) < _contrast(shade, other) - 1e-12:
            worse.append((shade, chosen))
    assert worse == []


# --- report/figures.py: palette, CVD_SAFE ---


def test_a_figure_of_fewer_lines_draws_them_in_the_first_colours_of_one_with_more():
    """A figure's lines take ``palette(n)``'s colours in its legend's order: a figure of 3
    inits and one of 4 gave the first three the same colours (tab10's prefix). The test of
    CVD_SAFE asked only that the colours differ: its last ``n`` taken for its first passed, so
    the demo's `normal` changed colour between figures of 3 and 4 lines."""
    from vanishlab.report.figures import CVD_SAFE, palette

    assert palette(6) == list(CVD_SAFE)
    for n in range(1, 7):
        assert palette(n) == palette(6)[:n], n


# --- report/sections/trainability_scoring.py: scoring_text ---


def _trained(**columns: list[object]) -> pd.DataFrame:
    """Trained cells of the adding problem (2 Adam steps at lr 0.01 unless ``columns`` say)."""
    n = len(next(iter(columns.values())))
    base = {"task": "adding", "chance_loss": 1 / 6, "train_steps": 2, "optimizer": "adam"}
    return pd.DataFrame({**{k: [v] * n for k, v in {**base, "lr": 0.01}.items()}, **columns})


def test_the_scoring_sentence_counts_uneven_seeds_and_names_no_budget_that_varies():
    """A setting whose cells did not all train (a failed seed) leaves settings of 1 and of
    3 runs: "1 to 3 seeds a setting", where taking the fewest for the most ("One seed a
    setting ... single training run"), the most alone ("3 seeds") or the table's rows as one
    setting ("4 seeds") passed, every test's run having as many seeds in each setting. A
    learning rate or budget that differs between cells is not stated as the one: taking the
    first of two passed ("at lr 0.01" of cells at 0.01 and 0.1)."""
    from vanishlab.report.sections.trainability_scoring import scoring_text

    view = SimpleNamespace(setting_columns=["init", "seq_len"])
    init = ["normal", "normal", "normal", "orthogonal"]
    uneven = _trained(init=init, seq_len=[10] * 4, seed=[0, 1, 2, 0])
    text = scoring_text(uneven, view)
    assert text.startswith("Each network was trained 2 Adam steps at lr 0.01 on the adding ")
    assert text.endswith(
        " 1 to 3 seeds a setting: each solved fraction against T is of that many runs."
    )
    varied = _trained(init=init, seq_len=[10] * 4, seed=[0, 1, 2, 0], lr=[0.01, 0.1] * 2)
    varied["train_steps"] = [2, 2, 4, 4]
    assert scoring_text(varied, view).startswith(  # their range (helper 396; it was left out)
        "Each network was trained 2 to 4 Adam steps at lr 0.01 to 0.1 on the adding problem, "
        "whose chance level is an MSE of 0.167"
    )


def test_two_tasks_are_said_in_order_each_with_its_own_chance_level():
    """A run of both tasks says each one's chance level and cut, the adding problem first
    whatever the rows' order (grouped sorted: taken in the rows' order, recall came first).
    Every test's run had one task."""
    from vanishlab.report.sections.trainability_scoring import scoring_text

    both = _trained(init=["normal"] * 2, seq_len=[10] * 2, seed=[0, 0])
    both["task"] = ["recall", "adding"]
    both["chance_loss"] = [np.log(8), 1 / 6]
    text = scoring_text(both, SimpleNamespace(setting_columns=["init", "seq_len", "task"]))
    assert text == (
        "Each network was trained 2 Adam steps at lr 0.01 on the adding problem, whose chance "
        "level is an MSE of 0.167 (always answering 1), solved when the final held-out loss is "
        "below 0.1 × chance (0.0167) and on recall of the first token, whose chance level is a "
        "cross-entropy, in nats, of 2.08 (a uniform guess), solved when the final held-out loss "
        "is below 0.1 × chance (0.208). One seed a setting: each point of the figure of the "
        "solved fraction against T is a single training run, solved (1) or not (0), and the "
        "counts below are of single runs; another seed can end on the other side of the cut "
        "(docs/trainability.md)."
    )


# --- report/sections/trainability.py: _efold_text ---


def test_an_e_folding_lag_is_capped_just_past_the_reach_and_a_flat_fit_has_none():
    """1/|rate| is written "> n" from just past n = reach(last lag) (its test's IRNN was
    68292 steps, past 10 times that too: a cap at 10 reaches passed), and a rate of exactly
    0 (a flat fit) has no e-folding lag, "—" (``rate <= 0`` divided by zero there, and passed)."""
    from vanishlab.report.sections.extrapolation import reach
    from vanishlab.report.sections.trainability import _efold_text

    n = reach(9)
    assert _efold_text(-1 / (n + 1), 9) == f"> {n}"
    assert _efold_text(-1 / (n - 1), 9) == f"{n - 1}.00"
    assert _efold_text(0.0, 9) == "—"
    assert _efold_text(0.5, 9) == "—"


# --- report/sections/what_to_try.py: _TANH_NOT_ENOUGH ---


def test_a_tanh_rnns_advice_names_the_gated_cells_that_learned():
    """The caption's evidence names both gated cells that learned where the tanh network did
    not: its test read the GRUs' sentence up to "300 to 400 steps", so the LSTM with chrono
    (3 of 3 seeds, docs/trainability.md) dropped from it passed."""
    from vanishlab.report.sections.what_to_try import what_to_try

    arch = {"kind": "rnn", "num_layers": 1, "hidden_size": 32, "input_size": 2}
    code = what_to_try({**arch, "nonlinearity": "tanh"}, "vanishing", 200, 18)
    assert code is not None
    assert (
        "GRUs learned T = 200 in 300 to 400 steps, an LSTM with chrono in 3 of 3 seeds. The "
        "GRUs' gradient at init had fallen 18 to 19 decades at lag 100" in code.caption
    )


# --- report/sections/trainability.py: _agreement ---


def test_a_run_of_rnn_and_gated_cells_is_told_the_e40_claim_does_not_hold_for_the_gated():
    """The sentence that the cut is a weaker guide for LSTM and GRU cells, and that the e^-40 one
    does not hold for GRUs (:func:`~vanishlab.report.sections.trainability_scoring.gated_cut_text`),
    is said where any cell is gated: its tests' runs were all rnn or all gru, so saying it only
    where every cell is gated passed."""
    from vanishlab.report.sections.trainability_agreement import agreement as _agreement

    table = pd.DataFrame(
        {
            "model": ["rnn", "gru"],
            "predicted": [True, False],
            "solved": [True, True],
            "zero_at_lag0": [False, False],
            "drop_at_required": [1.0, 18.5],
            "final_loss": [0.001, 0.002],
        }
    )
    text = _agreement(table)
    assert "an nn.RNN's gradient fallen e^-40 (17 decades) over the lag was never learned" in text
    assert "For LSTM and GRU cells the cut is a weaker guide than for nn.RNN" in text
    assert "for GRUs the e^-40 one does not hold" in text
    assert "For LSTM" not in _agreement(table.assign(model="rnn"))


# --- report.css: the print rules ---


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.browser
def test_a_printed_page_drops_the_screen_s_gutters(full_report):
    """On paper the column loses its screen gutters (the paper has margins of its own): the
    demo printed at 91 % with them dropped. The test of the printed page's width allows 12 %
    over the paper, which the gutters kept took it nowhere near: dropping the rule passed.
    Chromium's computed style of the page's header, main and footer, printed, says 0 px."""
    from _cdp import Browser, find_chromium

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with Browser(chromium) as browser:
        browser.send("Emulation.setEmulatedMedia", {"media": "print"})
        browser.open(full_report, width=739, height=1000)
        gutters = browser.evaluate(
            "[...document.querySelectorAll('body > header, body > main, body > footer')].map("
            "e => { const s = getComputedStyle(e); return [s.paddingLeft, s.paddingRight]; })"
        )
    assert len(gutters) == 3 and {tuple(g) for g in gutters} == {("0px", "0px")}, gutters


# --- report/sections/anomalies.py: the exact-zeros table's note ---


def test_the_exact_zeros_note_counts_before_it_says_how_many_rows_are_listed(monkeypatch):
    """The count of cells and settings comes first, then that only the first rows are listed
    (a run of over MAX_ANOMALY_ROWS rows): the note's test had fewer rows, so the two in the
    other order passed."""
    from test_report import STAMP, synthetic

    from vanishlab.report import build_report
    from vanishlab.report.sections import anomalies

    monkeypatch.setattr(anomalies, "MAX_ANOMALY_ROWS", 2)
    rates = {("a", 0): -np.inf, ("a", 1): -np.inf, ("b", 0): -np.inf, ("b", 1): -0.2}
    results, cells = synthetic(rates)
    report = build_report(results, cells, {"name": "z"}, sections=[], timestamp=STAMP)
    section = next(s for s in report.sections if s.key == "anomalies")
    table = next(b for b in section.blocks if getattr(b, "title", "") == "Exact zeros")
    assert table.note == (
        "3 of the run's 4 cells, in 2 of its 2 settings (the seeds aside). "
        "Only the first 2 of 3 are listed."
    )
