"""A rate's remark does not widen its column for every row.

The demo's rates table gave 2 of its 48 settings a remark after the rate ("−0.012 ± 0.001 (2
of 2 seeds exactly 0 from lag 100)"), and the browser made the rate column as wide as that
remark: at 1280 px a band of white about 150 px wide stood between the seeds and the
right-aligned rates of every other row, and "fit lags" and "input rate" broke onto two lines.
The remark is now a box of its own under the number (``Table.asides``), whose width counts for
nothing in the table's layout (CSS size containment): it wraps to the width the numbers make.
"""

from __future__ import annotations

from pathlib import Path

import vanishlab as vl
from vanishlab.report import build_report, render_html
from vanishlab.report.model import Report, Section, Table
from vanishlab.report.render import aside

_REMARK = "(2 of 2 seeds exactly 0 from lag 100)"


def test_a_remark_is_set_in_a_box_of_its_own() -> None:
    table = Table(
        "Decay rates by setting", "", ("init", "rate (ln/step)", "horizon"),
        (("identity", f"−0.012\u00a0±\u00a00.001 {_REMARK}", "100 (exact 0)"),
         ("default", "−0.712\u00a0±\u00a00.030", "10")),
        (False, True, True), asides=(1,),
    )  # fmt: skip
    html = render_html(
        Report("t", "t", "2026-01-01T00:00:00Z", "0", (Section("s", "S", "", (table,)),))
    )
    assert (
        f'<td class="num">−0.012\u00a0±\u00a00.001 <span class="aside">{_REMARK}</span></td>'
        in (html)
    )
    assert '<td class="num">−0.712\u00a0±\u00a00.030</td>' in html  # no remark: as it was
    assert "100 (exact 0)</td>" in html and html.count('class="aside"') == 1  # its column only
    assert ".aside { display: block; contain: inline-size; }" in html
    assert str(aside("<b> (x)")) == '&lt;b&gt; <span class="aside">(x)</span>'  # escaped


def test_the_rate_columns_of_the_rates_and_models_tables_have_asides(tmp_path: Path) -> None:
    run = tmp_path / "run"
    grid = vl.Sweep(model=("rnn", "gru"), hidden_size=4, input_size=2, seq_len=6, batch=2)
    vl.run_sweep(grid, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01",
        sections=["models", "rates"],
    )  # fmt: skip
    tables = {b.title: b for s in report.sections for b in s.blocks if isinstance(b, Table)}
    rates, models = tables["Decay rates by setting"], tables["Rates and horizons by model"]
    assert [rates.columns[i] for i in rates.asides] == ["rate (ln/step)", "input rate"]
    assert [models.columns[i] for i in models.asides] == ["rate (ln/step)"]


def test_the_theory_table_sets_its_counted_seeds_under_their_rates(tmp_path: Path) -> None:
    """The demo's theory table had one Lyapunov exponent "−0.700 (1 of 2 seeds −∞)" in a column
    of bare numbers: its three rate columns that count seeds apart take the remark's box."""
    run = tmp_path / "run"
    grid = vl.Sweep(num_layers=(1, 2), hidden_size=4, input_size=2, seq_len=6, batch=2)
    vl.run_sweep(grid, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01",
        sections=["theory"],
    )  # fmt: skip
    tables = {b.title: b for s in report.sections for b in s.blocks if isinstance(b, Table)}
    theory = tables["Theory vs measurement by setting"]
    assert [theory.columns[i] for i in theory.asides] == [
        "measured rate (top layer)",
        "rate via layer 0",
        "Lyapunov (whole state)",
    ]


def test_a_table_with_a_detail_line_sets_its_remarks_in_their_box_too() -> None:
    """The theory table (a notes line under each row: ``Table.detail``) named its rate columns
    in ``asides``, but the template's detail branch wrote every cell through ``prose``: its
    "−1.409 (1 of 3 seeds −∞)" stayed inline, the number and the remark's first words on one
    line, and the column as wide as before."""
    table = Table(
        "Theory vs measurement by setting", "", ("init", "Lyapunov (whole state)", "notes"),
        (("identity", "−0.700 (1 of 2 seeds −∞)", "a note"), ("default", "−0.712", "")),
        (False, True, False), detail=2, asides=(1,),
    )  # fmt: skip
    html = render_html(
        Report("t", "t", "2026-01-01T00:00:00Z", "0", (Section("s", "S", "", (table,)),))
    )
    assert '<td class="num">−0.700 <span class="aside">(1 of 2 seeds −∞)</span></td>' in html
    assert '<td class="num">−0.712</td>' in html and html.count('class="aside"') == 1
    assert '<span class="label">notes:</span> a note</td>' in html  # the detail line as it was
