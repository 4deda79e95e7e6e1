"""The report of an unfinished run (a sweep stopped by Ctrl-C, or read while it runs): the
combinations of its grid that are not measured yet are said to be so, not "not swept"."""

from __future__ import annotations

import pandas as pd
import pytest

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.model import HeatmapGrid, LineGrid

STAMP = "2024-01-01T00:00:00Z"
GRID = vl.Sweep(
    init=("normal", "orthogonal"), gain=(0.5, 1.0), hidden_size=4, input_size=2, seq_len=6,
    batch=2,
)  # fmt: skip


def _swept(tmp_path_factory, grid: vl.Sweep):
    out = tmp_path_factory.mktemp("partial") / "run"
    vl.run_sweep(grid, out, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return _swept(tmp_path_factory, GRID)


def _section(run, without: dict[str, object], finished: bool, key: str):
    """Section ``key`` of the report of ``run`` without its one cell of the settings
    ``without``: not measured yet, or (``finished``) a run whose grid never had it."""
    results, cells, manifest = vl.load_results(run), vl.load_cells(run), vl.load_manifest(run)
    chosen = pd.concat([cells[k] == v for k, v in without.items()], axis=1).all(axis=1)
    gone = cells.loc[chosen, "cell_id"]
    assert len(gone) == 1
    cells = cells[~cells["cell_id"].isin(gone)]
    results = results[~results["cell_id"].isin(gone)]
    if finished:  # as if the grid had one cell fewer: that one was never swept
        manifest = {**manifest, "n_cells": len(cells), "grids": None}
    report = build_report(results, cells, manifest, timestamp=STAMP)
    return next(s for s in report.sections if s.key == key)


def _rate_map(run, finished: bool) -> HeatmapGrid:
    """The "Rate by init and gain" figure of ``run`` without its (orthogonal, gain 1) cell."""
    rates = _section(run, {"init": "orthogonal", "gain": 1.0}, finished, "rates")
    (figure,) = [
        b for b in rates.blocks if isinstance(b, HeatmapGrid) and b.title == "Rate by init and gain"
    ]
    return figure


def test_an_unfinished_runs_unmeasured_squares_are_not_called_not_swept(run):
    """A report of a sweep stopped after 15 of its 216 cells hatched every combination not yet
    measured as "not in the run", and its caption said "a combination the run has no cell of
    (not swept)", while the overview said the report was partial: the settings were swept, their
    cells still to come. The caption and the legend now say so."""
    figure = _rate_map(run, finished=False)
    (panel,) = figure.panels
    assert panel.absent.tolist() == [[False, False], [False, True]]
    assert "Hatched: a combination the run has no cell of (not measured yet: the run is " in (
        figure.caption
    )
    assert "not swept" not in figure.caption
    assert "not in the run (yet)" in _legend(figure)


def test_a_finished_runs_missing_squares_are_still_not_swept(run):
    figure = _rate_map(run, finished=True)
    (panel,) = figure.panels
    assert panel.absent.tolist() == [[False, False], [False, True]]
    assert "Hatched: a combination the run has no cell of (not swept), not a failed" in (
        figure.caption
    )
    assert "not measured yet" not in figure.caption
    legend = _legend(figure)
    assert "not in the run" in legend and "not in the run (yet)" not in legend


def _legend(figure: HeatmapGrid) -> list[str]:
    """The texts of the drawn figure's legend."""
    from vanishlab.report.heatmaps import draw_heatmaps

    return [t.get_text() for leg in draw_heatmaps(figure).legends for t in leg.get_texts()]


MIXED = vl.Sweep(
    model=("rnn", "lstm"), activation="tanh", gain=(0.5, 1.0), hidden_size=4, input_size=2,
    seq_len=6, batch=2,
)  # fmt: skip


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    return _swept(tmp_path_factory, MIXED)


def _models_caption(run, finished: bool) -> str:
    """The models figure's caption of ``run`` without its (lstm, gain 1) cell."""
    models = _section(run, {"model": "lstm", "gain": 1.0}, finished, "models")
    (figure,) = [b for b in models.blocks if isinstance(b, LineGrid)]
    return figure.caption


def test_an_unfinished_runs_missing_model_line_is_not_called_not_swept(mixed_run):
    """The models figure's caption, as the rate maps' did (fcfe9f8), called a line of an
    unfinished run's grid "not swept"; it is in the grid, its cell not measured yet."""
    caption = _models_caption(mixed_run, finished=False)
    assert "(not measured yet: the run is unfinished)" in caption, caption
    assert "not swept" not in caption
    assert "(not swept)" in _models_caption(mixed_run, finished=True)


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_the_command_says_a_report_is_partial_where_the_page_does(tmp_path):
    """A report of a run short of cells (shards deleted after the sweep, or an unfinished
    sweep) exited 0 with nothing on stderr: only the page's overview said "this report is
    partial". The command now says it too, in one note, and nothing for a whole run."""
    from typer.testing import CliRunner

    from vanishlab.cli import app

    runner = CliRunner()
    run_dir = tmp_path / "run"
    grid = vl.Sweep(hidden_size=2, input_size=2, seq_len=4, batch=1, gain=(0.5, 1.0, 2.0))
    vl.run_sweep(grid, run_dir, workers=1, progress=False)
    whole = runner.invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "a.html")])
    assert whole.exit_code == 0, whole.stderr
    assert "partial" not in whole.stderr
    next((run_dir / "cells").glob("*.parquet")).unlink()
    short = runner.invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "b.html")])
    assert short.exit_code == 0, short.stderr
    assert short.stderr.strip() == (
        "note: the report is partial: 2 of the 3 planned cells are measured; run the same "
        "sweep again to measure the rest"
    )


def test_a_run_that_measured_nothing_is_refused_in_one_line(tmp_path):
    """A monitor whose training ended before its first recorded step left a run directory
    with a manifest alone (it now leaves none; a run whose step shards were deleted still
    is one); ``vanishlab report`` on it wrote a page with nothing on it, status 0. So did a
    sweep with no cell (stopped before its first, or its shards deleted: "0 of the 3 planned
    cells are measured") and an analysis whose shard was deleted. Each is now one line,
    status 2, saying what to do; nothing is written."""
    import torch
    from torch import nn
    from typer.testing import CliRunner

    from vanishlab.cli import app

    runner = CliRunner()
    monitor = tmp_path / "monitor"
    with vl.JacobianMonitor(nn.RNN(2, 3), torch.randn(4, 2, 2), out=monitor, every=50) as mon:
        mon.step(50)
    for shard in (monitor / "cells").glob("*.parquet"):
        shard.unlink()
    sweep = tmp_path / "sweep"
    vl.run_sweep(vl.Sweep(hidden_size=2, input_size=2, seq_len=4, batch=1, gain=(0.5, 1.0, 2.0)),
                 sweep, workers=1, progress=False)  # fmt: skip
    for shard in (sweep / "cells").glob("*.parquet"):
        shard.unlink()
    for run_dir, said in (
        (monitor, f"{monitor} holds no measured step: its monitored training recorded none"),
        (sweep, f"{sweep} holds no measured cell of the 3 planned; nothing to report yet: run "
                "the same sweep again to measure them"),
    ):  # fmt: skip
        page = tmp_path / f"{run_dir.name}.html"
        result = runner.invoke(app, ["report", str(run_dir), "-o", str(page)])
        assert result.exit_code == 2, result.stdout
        assert result.stdout == "" and result.stderr.startswith(f"error: {said}"), result.stderr
        assert result.stderr.count("\n") == 1 and not page.exists()
        with pytest.raises(vl.VanishlabError, match="nothing to report"):
            vl.render_report(run_dir, page)
        assert not page.exists()
