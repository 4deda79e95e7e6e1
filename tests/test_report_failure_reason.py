"""A failed cell's reason is stored with both names of an option ("--batch (batch=)"), and the
report, read by people who ran the command line, says it as the command line does."""

from __future__ import annotations

import pandas as pd

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.sweep.store import read_cells

REFUSED = (
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
    "you tried to allocate 137438953472 bytes. Error code 12 (Cannot allocate memory)"
)


def _refuse(*args, **kwargs):
    raise RuntimeError(REFUSED)


def test_the_failed_cells_table_says_a_memory_reason_by_its_flags(monkeypatch, tmp_path):
    """It said "sweep a smaller --batch (batch=), --seq-len (seq_len=), ...", the stored words."""
    monkeypatch.setattr("vanishlab.core.engine._backward_norms", _refuse)
    run = tmp_path / "run"
    vl.run_sweep(vl.Sweep(hidden_size=4, input_size=2, seq_len=5, batch=3), run, progress=False)
    cells = read_cells(run)
    assert "--batch (batch=)" in cells["reason"].iloc[0]  # stored with both names
    page = build_report(
        vl.load_results(run), cells, vl.load_manifest(run), sections=[], timestamp="2024-01-01"
    )
    anomalies = next(s for s in page.sections if s.key == "anomalies")
    table = next(b for b in anomalies.blocks if b.title == "Failed cells")
    (row,) = table.rows
    assert row[3] == (
        "MemoryRefusedError: the cell needs more memory than this machine could give (128.0 GiB "
        "at once): sweep a smaller --batch, --seq-len, --hidden-size or --num-layers"
    )


def test_load_cells_says_a_failed_cell_s_reason_in_python_s_words(monkeypatch, tmp_path):
    """vl.load_cells gave the stored words, both names of each option: "sweep a smaller --batch
    (batch=), --seq-len (seq_len=), ...", where every other answer of the Python API names the
    argument alone. The report, from the same run, still says the flags."""
    monkeypatch.setattr("vanishlab.core.engine._backward_norms", _refuse)
    run = tmp_path / "run"
    vl.run_sweep(
        vl.Sweep(hidden_size=4, input_size=2, seq_len=5, batch=3, seed=(0, 1)),
        run,
        workers=1,
        progress=False,
    )
    cells = vl.load_cells(run)
    want = (
        "MemoryRefusedError: the cell needs more memory than this machine could give (128.0 "
        "GiB at once): sweep a smaller batch=, seq_len=, hidden_size= or num_layers="
    )
    assert list(cells["reason"]) == [want] * 2
    # vl.summarize's note too (it gave "--batch (batch=)"), cached or not
    for cache in (False, True, True):
        notes = vl.summarize(run, cache=cache)["note"]
        assert all("smaller batch=, seq_len=" in n and "--" not in n for n in notes), notes
    html = tmp_path / "r.html"
    vl.render_report(run, html, progress=False, timestamp="2024-01-01")
    page = html.read_text()
    assert page.count('sweep a smaller <span class="w">--batch</span>, ') == 2  # its flags
    assert "batch=" not in page


def test_load_cells_keeps_a_run_without_failures_reasons_null_and_text(tmp_path):
    """Mapping the reasons into Python's words made the column of a run where no cell failed
    float64 (all NaN), which then refused a reason set into it (pandas: "Invalid value 'an
    error' for dtype 'float64'"); summarize's notes likewise."""
    run = tmp_path / "run"
    vl.run_sweep(vl.Sweep(hidden_size=4, input_size=2, seq_len=5, batch=3), run, progress=False)
    stored = vl.load_cells(run)
    for frame, column in ((stored, "reason"), (vl.summarize(run), "note")):
        assert not pd.api.types.is_numeric_dtype(frame[column]), (column, frame[column].dtype)
    assert stored["reason"].isna().all()
    stored.loc[stored.index[-1], "reason"] = "an error"  # as a test or a user may
