"""The Trainability section past its 12 panels (trainability_panels.MAX_PANELS): the figures
draw the panels of 12 settings and a note names the ones left out, but the outcome figure's
caption counted its missed predictions among the points drawn while it said a diverged cell
and the cells exactly 0 at lag 0 of the whole table, cells of panels not drawn among them
("(a diverged one too)" and "1 cell whose gradient is exactly 0 at lag 0 ... is not drawn"
beside "none of the 12 here"): each count of it now speaks of the panels drawn, and says so.
The horizon figure's caption said exact zeros and gaps of cells left out, and the section's
agreement sentence named as the outcome figure's lowest open point a fall in a panel left out.
The solved-fraction figure's caption counts nothing.
"""

from __future__ import annotations

import math
import string
from types import SimpleNamespace
from typing import Any

import pandas as pd

from vanishlab.report.sections.trainability import _figure, _horizon_figure
from vanishlab.report.sections.trainability_agreement import agreement
from vanishlab.report.sections.trainability_outcomes import outcome_figure
from vanishlab.report.sections.trainability_panels import (
    MAX_PANELS,
    OUTCOME_TITLE,
    setting_panels,
)

#: (drop at required, solved, final loss, horizon, exact zero at the horizon) of the cells of
#: the 13th init, whose panel is not drawn: exactly 0 at lag 0 (no fall), a diverged cell
#: predicted to fail and a prediction that missed (below the cut, not solved).
LEFT_OUT = [
    (math.nan, False, 0.01, math.nan, False),
    (4.0, False, math.nan, 3.0, True),
    (2.0, False, 0.01, 6.0, False),
]
#: One cell of each of the 13 inits: below the cut and solved (a right call).
DRAWN = (1.0, True, 0.01, 8.0, False)


def _table(at: int = MAX_PANELS) -> pd.DataFrame:
    """Trained cells of 13 inits (one panel each, the 13th left out) at T = 10, gain 1, seed 0,
    made by hand: one :data:`DRAWN` of each, and the cells of :data:`LEFT_OUT` in the ``at``-th
    (by default the one left out)."""
    inits = string.ascii_lowercase[: MAX_PANELS + 1]
    rows = [(init, *DRAWN) for init in inits] + [(inits[at], *r) for r in LEFT_OUT]
    frame = pd.DataFrame(
        rows,
        columns=["init", "drop_at_required", "solved", "final_loss", "horizon_1000", "at_zero"],
    )
    return frame.rename(columns={"at_zero": "horizon_at_zero"}).assign(
        gain=1.0,
        seq_len=10,
        seed=0,
        task="adding",
        required_lag=5,
        zero_at_lag0=frame["drop_at_required"].isna(),
        predicted=frame["drop_at_required"].fillna(0.0) < 3,
        chance_loss=1 / 6,
        cell_id=[f"c{i}" for i in range(len(frame))],
    )


def _view() -> Any:
    """What the figures read of a run: init, gain, T and seed vary; panels in table order."""
    return SimpleNamespace(
        varying=("init", "gain", "seq_len", "seed"),
        seeds=1,
        setting_order=lambda frame, keys: frame,
        over_seeds=lambda stat="mean": "one seed",
    )


def test_the_outcome_caption_counts_the_cells_of_the_panels_drawn_alone() -> None:
    grid = outcome_figure(_table(), _view())
    assert len(grid.panels) == MAX_PANELS and "1 more combination of init is not drawn" in grid.note
    # the 12 points drawn, all right; the diverged cell and the one exactly 0 at lag 0 are in
    # the panel left out, so neither is said of the points or counted as not drawn among them
    assert "none of the 12 in the 12 panels drawn." in grid.caption
    assert "diverged" not in grid.caption and "exactly 0 at lag 0" not in grid.caption
    # the same cells in a panel drawn: counted, and said to be of the panels drawn
    caption = outcome_figure(_table(at=0), _view()).caption
    assert "open where it did not (a diverged one too)" in caption
    assert "1 of the 14 in the 12 panels drawn." in caption
    assert " 1 cell of these panels whose gradient is exactly 0 at lag 0 " in caption


def test_the_horizon_caption_speaks_of_the_lags_drawn() -> None:
    """Its words on lags at an exact zero and on the gaps of cells exactly 0 at lag 0 went by
    the whole table: both were said of a figure that drew neither."""
    left_out = _horizon_figure(_table(), _view()).caption
    assert "Jacobian is exactly zero" not in left_out and "have no horizon" not in left_out
    drawn = _horizon_figure(_table(at=0), _view()).caption
    assert "Jacobian is exactly zero" in drawn and "have no horizon (a gap)." in drawn


def test_the_agreement_names_the_figure_s_points_only_where_they_are_drawn() -> None:
    """The smallest fall among failed cells (2.0, a miss) is in the panel left out: "the
    lowest open one of the figure" named a point the figure does not draw."""
    cells = _table()
    text = agreement(cells, pd.concat([r for _, r in setting_panels(cells, _view())[0]]))
    assert "the smallest among failed ones 2.0 decades" in text
    assert "lowest open one" not in text
    figure = f"of the figure '{OUTCOME_TITLE}')."
    assert f"(the table's 'decades at required'; not in the panels drawn {figure}" in text
    here = _table(at=0)
    text = agreement(here, pd.concat([r for _, r in setting_panels(here, _view())[0]]))
    assert (
        f"(the highest filled point and the lowest open one of the figure '{OUTCOME_TITLE}')."
        in text
    )


def _with_gain_2(panel: int) -> pd.DataFrame:
    """:func:`_table` and one more trained cell, at gain 2, in the init of ``panel`` (12: the
    panel left out)."""
    cells = _table()
    init = string.ascii_lowercase[panel]
    extra = cells[cells["init"] == init].iloc[[0]].assign(gain=2.0, cell_id="gain2")
    return pd.concat([cells, extra], ignore_index=True)


def test_the_figures_gains_are_those_of_the_panels_drawn() -> None:
    """A gain whose cells are all in the panel left out: each figure's legend listed gains 1.0
    and 2.0 over lines of gain 1.0 alone (drawn, a legend of one entry), and the first figure's
    caption said "Where two gains' lines coincide" where it drew one gain, not which."""
    left_out = _with_gain_2(MAX_PANELS)
    for figure in (_figure, _horizon_figure, outcome_figure):
        grid = figure(left_out, _view())
        assert grid.legend == () and grid.legend_title == "", (figure.__name__, grid.legend)
        assert {c.style for p in grid.panels for c in p.curves} <= {0, None}
    caption = _figure(left_out, _view()).caption
    assert caption.endswith(" Every cell drawn is at gain 1.0.") and "two gains" not in caption
    # the same cell in a panel drawn: two gains, as before
    drawn = _with_gain_2(0)
    for figure in (_figure, _horizon_figure, outcome_figure):
        assert figure(drawn, _view()).legend == ("1.0", "2.0"), figure.__name__
    assert "Where two gains' lines coincide" in _figure(drawn, _view()).caption
    # one gain in the whole table: said of every trained cell, as before
    assert _figure(_table(), _view()).caption.endswith(" Every trained cell is at gain 1.0.")


def test_a_note_of_one_thing_left_out_says_it_in_the_singular() -> None:
    """The note of a figure that left out one panel or one combination read "1 more panels are
    not drawn" and "1 more combinations of init are not drawn"."""
    from vanishlab.report.layout import omitted

    assert omitted(1, [], []) == "1 more panel is not drawn (the rates table lists every setting)."
    assert omitted(0, ["init = a"], ["init"]).startswith(
        "1 more combination of init is not drawn: (init = a)"
    )
    assert omitted(2, ["init = a", "init = b"], ["init"]).startswith(
        "2 more panels are not drawn; 2 more combinations of init are not drawn: "
    )


def test_the_section_s_agreement_is_told_the_cells_drawn(monkeypatch) -> None:
    """trainability_section gives agreement the cells of the panels drawn (drawn_cells), not
    the whole table: given the table, its intro named as "the lowest open one of the figure"
    the miss in the panel left out. The section is built from :func:`_table` (the run's
    trainability table, its scoring and its table of cells stubbed: the figures and the
    agreement read the table)."""
    from vanishlab.report.sections import trainability as section

    def built(cells: pd.DataFrame) -> str:
        monkeypatch.setattr(section, "trainability", lambda results, run: cells)
        monkeypatch.setattr(section, "not_trained", lambda run: cells.iloc[:0])
        monkeypatch.setattr(section, "scoring_text", lambda table, view: "")
        monkeypatch.setattr(section, "_table", lambda table, view: None)  # (reads the theory)
        view = SimpleNamespace(**vars(_view()), results=None, cells=None)
        return section.trainability_section(view).intro

    figure = f"of the figure '{OUTCOME_TITLE}')."
    left_out = built(_table())
    assert f"(the table's 'decades at required'; not in the panels drawn {figure}" in left_out
    assert "lowest open one" not in left_out
    drawn = built(_table(at=0))
    assert f"(the highest filled point and the lowest open one {figure}" in drawn
