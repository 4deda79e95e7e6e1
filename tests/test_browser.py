"""The report in a real browser: headless Chromium loads it with no error and no request.

Chromium is driven over the DevTools protocol on a pipe (``tests/_cdp.py``), which reports
console messages, uncaught exceptions, log entries (CSP violations, failed loads) and every
network request. A screenshot of the window is saved under pytest's temporary directory, or,
when ``$VANISHLAB_SCREENSHOT_DIR`` is set, one of the whole page, also copied there to be looked
at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from _cdp import Browser, find_chromium

import vanishlab as vl

pytestmark = pytest.mark.browser
CHROMIUM = find_chromium()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_report_in_chromium(full_report, tmp_path):
    page = full_report
    html = page.read_text(encoding="utf-8")
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.open(page, width=1400, height=4000)
        n_figures = browser.evaluate("document.querySelectorAll('svg.fig').length")
        sizes = browser.evaluate(
            "[...document.querySelectorAll('svg.fig')].map(s => {"
            " const r = s.getBoundingClientRect(); return [r.width, r.height]; })"
        )
        sections = browser.evaluate("[...document.querySelectorAll('section')].map(s => s.id)")
        overflow = browser.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        # Every table fits the window: no column (the notes) is cut off behind a scrollbar.
        cut = browser.evaluate(
            "[...document.querySelectorAll('.scroll')].map(s => s.scrollWidth - s.clientWidth)"
        )
        title = browser.evaluate("document.title")
        # The whole page (some seconds of painting) only when it is kept to be looked at.
        keep = os.environ.get("VANISHLAB_SCREENSHOT_DIR")
        shot = browser.screenshot(tmp_path / "report.png", full_page=bool(keep))
        problems = browser.problems()
        requests = browser.requests()

    assert problems == []
    assert [u for u in requests if not u.startswith(("data:", page.as_uri()))] == []
    assert n_figures == html.count('<svg class="fig"') > 0
    assert all(w > 200 and h > 100 for w, h in sizes), sizes
    expected = ["overview", "decay", "input", "depth", "rates", "gain", "theory", "anomalies"]
    assert sections == [k for k in expected if k != "anomalies" or k in sections]
    assert overflow <= 0  # nothing wider than the window
    assert cut and all(c <= 0 for c in cut), cut
    assert title == "vanishlab report: full run"
    assert shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report.png")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_hostile_name_stays_text_in_chromium(report_run, tmp_path):
    import _report_run as runs

    run = runs.make_run(tmp_path / "run", runs.SINGLE, name="<script>alert(1)</script>")
    page = vl.render_report(run, tmp_path / "evil.html", timestamp="2024-01-01")
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.open(page, width=1280, height=1000)
        heading = browser.evaluate("document.querySelector('h1').textContent")
        scripts = browser.evaluate("document.scripts.length")
        problems = browser.problems()
    assert heading == "vanishlab report: <script>alert(1)</script>"
    assert scripts == 0 and problems == []


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_printed_tables_keep_every_column(full_report):
    """Printed (a page ~700 px wide), a table wider than the page is shown whole, not clipped:
    the print style freed only the long tables' boxes, so a short wide table (a smoke run's
    rates by setting: its fit lags and input rate) printed without its last columns, cut at
    the scroll box's edge where no scrollbar is on paper. A box left visible is shrunk to the
    page by the browser's print scaling, as the long tables already were."""
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.send("Emulation.setEmulatedMedia", {"media": "print"})
        browser.open(full_report, width=420, height=1000)
        clipped = browser.evaluate(
            "[...document.querySelectorAll('.scroll')].filter(s => s.scrollWidth >"
            " s.clientWidth && getComputedStyle(s).overflowX !== 'visible').length"
        )
        wide = browser.evaluate(
            "[...document.querySelectorAll('.scroll')].filter(s => s.scrollWidth >"
            " s.clientWidth).length"
        )
    assert wide > 0  # the narrow page does make some table wider than it
    assert clipped == 0


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_theory_table_of_a_mixed_run_fits_a_1400px_window(tmp_path):
    """rnn, lstm and gru cells over two inits, depths, lengths, gains and seeds: 48 settings, a
    tall table in its own scroll box whose vertical scrollbar takes ~15 px of its width. Its
    "Theory vs measurement by setting" needed horizontal scrolling in a 1400 px window, the
    flags cut to "fla": the theory column read "mean field (approximate)" (what the non-iid
    flag says) and "—" in every gated row, and a mean ± sd could not wrap."""
    import _report_run as runs

    sweep = vl.Sweep(
        model=("rnn", "lstm", "gru"),
        init=("default", "orthogonal"),
        num_layers=(1, 2),
        seq_len=(6, 12),
        gain=(0.5, 1.0),
        seed=(0, 1),
        hidden_size=8,
        input_size=4,
        batch=2,
    )
    run = runs.make_run(tmp_path / "run", sweep, name="mixed")
    page = vl.render_report(run, tmp_path / "mixed.html", timestamp="2024-01-01")
    assert CHROMIUM is not None
    with Browser(CHROMIUM, hide_scrollbars=False) as browser:
        browser.open(page, width=1400, height=1000)
        boxes = browser.evaluate(
            "[...document.querySelectorAll('.scroll')].map(s => [s.parentElement"
            ".querySelector('h3').textContent, s.classList.contains('tall'),"
            " s.scrollWidth - s.clientWidth])"
        )
    theory = [b for b in boxes if b[0] == "Theory vs measurement by setting"]
    assert theory and theory[0][1]  # the tall box, with its own vertical scrollbar
    assert [b for b in boxes if b[2] > 0] == []
