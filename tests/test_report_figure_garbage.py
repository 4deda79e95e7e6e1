"""The report's figures: drawn with Python's automatic garbage collection paused, each one's
objects collected as soon as it is written (``render._figures_collected``)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

import vanishlab as vl
from vanishlab.report import figures

GRID = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2, gain=(0.5, 1.5), seed=(0, 1))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("garbage") / "run"
    vl.run_sweep(GRID, out, workers=1, progress=False)
    return out


def _watched(monkeypatch: pytest.MonkeyPatch) -> tuple[list[weakref.ref], list[bool]]:
    """Weak references to every figure drawn, and whether the collector ran on its own then."""
    drawn: list[weakref.ref] = []
    automatic: list[bool] = []
    real = figures.draw

    def draw(block):
        automatic.append(gc.isenabled())
        fig = real(block)
        drawn.append(weakref.ref(fig))
        return fig

    monkeypatch.setattr(figures, "draw", draw)
    return drawn, automatic


def test_each_figure_is_freed_once_written_and_the_collector_is_given_back(
    run, tmp_path, monkeypatch
):
    """Each of the automatic full collections a figure's objects set off went through every
    object of the process (1.3-1.5 s of a 1,000-cell report's ~10); a figure's own objects, which
    refer to one another, were left to them."""
    drawn, automatic = _watched(monkeypatch)
    assert gc.isenabled()
    vl.render_report(run, tmp_path / "r.html")
    assert drawn and automatic == [False] * len(drawn)
    assert [ref() for ref in drawn] == [None] * len(drawn)  # freed, no collection asked for
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off(run, tmp_path, monkeypatch):
    drawn, automatic = _watched(monkeypatch)
    gc.disable()
    try:
        vl.render_report(run, tmp_path / "r.html")
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert drawn and automatic == [False] * len(drawn)


def test_the_collector_is_given_back_when_a_figure_fails(run, tmp_path, monkeypatch):
    def fails(block):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(figures, "draw", fails)
    with pytest.raises(RuntimeError, match="drawing failed"):
        vl.render_report(run, tmp_path / "r.html")
    assert gc.isenabled()
