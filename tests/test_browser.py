"""The report in a real browser: headless Chromium loads it with no error and no request.

Chromium is driven over the DevTools protocol on a pipe (``tests/_cdp.py``), which reports
console messages, uncaught exceptions, log entries (CSP violations, failed loads) and every
network request. A screenshot of the window is saved under pytest's temporary directory, or,
when ``$VANISHLAB_SCREENSHOT_DIR`` is set, one of the whole page, also copied there to be looked
at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from _cdp import Browser, find_chromium

import vanishlab as vl

pytestmark = pytest.mark.browser
CHROMIUM = find_chromium()


@contextlib.contextmanager
def _printed(page: Path, width: int) -> Iterator[Browser]:
    """A browser showing ``page`` as printed (print media), ``width`` CSS pixels wide."""
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.send("Emulation.setEmulatedMedia", {"media": "print"})
        browser.open(page, width=width, height=1000)
        yield browser


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


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
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
    with _printed(full_report, width=420) as browser:
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
def test_a_printed_tall_table_keeps_every_column(full_report):
    """A table of more than page.TALL_TABLE_ROWS rows sits in a box that scrolls both ways on a
    screen (.scroll.tall, overflow-y: auto). The print style set .scroll's overflow to visible,
    but .scroll.tall's overflow-y (two classes) won over it, and a box whose overflow-y is auto
    computes overflow-x to auto too: printed to PDF, a gated run's "Decay rates by setting" and
    "Theory vs measurement by setting" (1118 px against a 691 px column on Letter) lost their
    last columns and notes at the page's right edge. Such a box is added to the demo page here
    (its tables are short), and on paper it must show all of its table."""
    add = (
        "(() => { const box = document.createElement('div'); box.className = 'scroll tall';"
        " box.innerHTML = '<table><thead><tr>' + '<th>column</th>'.repeat(40)"
        " + '</tr></thead><tbody>' + '<tr><td>1.000</td></tr>'.repeat(80)"
        " + '</tbody></table>'; document.querySelector('main').append(box);"
        " const s = getComputedStyle(box);"
        " return [s.overflowX, s.overflowY, s.maxHeight, box.scrollWidth > box.clientWidth]; })()"
    )
    with _printed(full_report, width=700) as browser:
        overflow_x, overflow_y, max_height, wide = browser.evaluate(add)
    assert wide  # wider than the page: a clipping box would cut it
    assert (overflow_x, overflow_y, max_height) == ("visible", "visible", "none")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_printed_page_is_shrunk_little_for_its_widest_table(full_report):
    """Chromium prints a page wider than the paper shrunk as a whole, to the width of its widest
    table: the demo report's theory table, 1026 px in the screen's table style against a Letter
    page's 739 px (8.5 in less Chromium's 0.4 in margins, at 96 px/in), printed every page at
    72 %, its body text at 10.8 px (8 pt) and its figures' labels smaller still. On paper the
    tables are set smaller and tighter and the column loses its screen gutters (the paper has
    margins), so the page is shrunk by a few per cent, not by a quarter or more."""
    with _printed(full_report, width=739) as browser:
        widths = browser.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    assert widths[0] <= 1.12 * widths[1], widths


# In the slow tier: ~13 s of CPU (a run of 3 models to lay out); make test keeps
# test_report_in_chromium.
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_theory_table_of_a_mixed_run_fits_a_1400px_window(tmp_path):
    """rnn, lstm and gru cells over two inits, depths and lengths, three gains and two seeds: 72
    settings, a tall table in its own scroll box whose vertical scrollbar takes ~15 px of its
    width (a box from 61 rows: page.TALL_TABLE_ROWS; the test's 48 settings got one at 26). Its
    "Theory vs measurement by setting" needed horizontal scrolling in a 1400 px window, the
    flags cut to "fla": the theory column read "mean field (approximate)" (what the non-iid
    flag says) and "—" in every gated row, and a mean ± sd could not wrap."""
    import _report_run as runs

    sweep = vl.Sweep(
        model=("rnn", "lstm", "gru"),
        init=("default", "orthogonal"),
        num_layers=(1, 2),
        seq_len=(6, 12),
        gain=(0.5, 1.0, 2.0),
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


# Per character of the Reproduce block: the top of the line it is drawn on, and the text that
# selecting the whole block gives (what a copy puts on the clipboard).
_REPRODUCE_JS = """(() => {
  const pre = [...document.querySelectorAll('.code-block')].find(
    b => b.querySelector('h3').textContent === 'Reproduce').querySelector('pre');
  const chars = [];
  const walk = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    for (let i = 0; i < n.data.length; i++) {
      const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
      const box = r.getClientRects()[0];
      chars.push([n.data[i], box ? Math.round(box.top) : null]);
    }
  }
  const sel = getSelection(); sel.removeAllRanges();
  const all = document.createRange(); all.selectNodeContents(pre); sel.addRange(all);
  return {chars, copied: sel.toString(), cut: pre.scrollWidth - pre.clientWidth};
})()"""


# In the slow tier: ~2 s of CPU; make test keeps test_report_in_chromium.
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_long_command_wraps_between_its_words_and_copies_whole(tmp_path):
    """Chromium wrapped a long Reproduce command at the hyphens inside its flags: a line
    ended in "--hidden-size 32 -" and the next began "-input-size", or "--input-" / "std",
    so the command shown looked broken. It now wraps between words only (a word wider than
    the line, a long path, still wraps inside itself rather than widen the page), and
    selecting the block still gives exactly the commands, one a line."""
    import _report_run as runs

    path = "/data/experiments/vanishing-gradients-long-run-name/with-hyphens-in-it/runs/x-y-z"
    commands = [
        "vanishlab sweep --activation tanh,relu --num-layers 1,2 --hidden-size 32 "
        "--input-size 16 --seq-len 100 --init default,orthogonal,normal,identity "
        "--gain 0.5,1.0,2.0 --input-std 1.0 --bias true --batch 8 --seed 0,1 "
        "--dtype float32 --out runs/default --name 'a name-with spaces'",
        f"vanishlab sweep --gain 0.5,1.0,2.0,3.0 --input-std 0.5 --force --out {path}",
    ]
    run = runs.make_run(tmp_path / "run", runs.SINGLE, commands=commands, command=commands[-1])
    page = vl.render_report(run, tmp_path / "long.html", timestamp="2024-01-01")
    shown = "\n".join(commands)
    inside_path = range(shown.index(path) + 1, shown.index(path) + len(path))
    assert CHROMIUM is not None
    for width in (420, 700, 1400):
        with Browser(CHROMIUM) as browser:
            browser.open(page, width=width, height=1000)
            got = browser.evaluate(_REPRODUCE_JS)
        assert got["copied"] == shown, width
        assert "".join(c for c, _ in got["chars"]) == shown
        tops = [top for _, top in got["chars"]]
        # Where a line wraps: the first character drawn lower than the one before it (a
        # space or newline at a line's end may have no box of its own).
        breaks = [
            i
            for i in range(1, len(tops))
            if tops[i] is not None
            and max((t for t in tops[:i] if t is not None), default=tops[i]) < tops[i]
        ]
        assert len(breaks) >= (3 if width < 1000 else 1), (width, breaks)
        for i in breaks:
            assert shown[i - 1] in " \n" or i in inside_path, (width, shown[i - 8 : i + 8])
        assert got["cut"] <= 0, width  # the long path wraps: no scrolling sideways


# In the slow tier: ~5 s of CPU; make test keeps test_report_in_chromium.
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_table_of_up_to_sixty_rows_is_shown_whole_not_cut_at_a_fold(tmp_path):
    """A table of more than 25 rows scrolled in a 34em box whose fold cut whatever row it fell
    on: the default run's theory table (48 settings, 1280 px window) showed 8 rows whole and 53
    of the ninth's 69 px. A table of up to page.TALL_TABLE_ROWS rows (here 36) is shown whole."""
    import _report_run as runs

    sweep = vl.Sweep(
        activation=("tanh", "relu"), num_layers=(1, 2), init=("default", "orthogonal", "normal"),
        gain=(0.5, 1.0, 2.0), hidden_size=4, input_size=2, seq_len=8, batch=1,
    )  # fmt: skip
    run = runs.make_run(tmp_path / "run", sweep, name="36 settings")
    page = vl.render_report(run, tmp_path / "36.html", timestamp="2024-01-01")
    assert CHROMIUM is not None
    with Browser(CHROMIUM, hide_scrollbars=False) as browser:
        browser.open(page, width=1280, height=1000)
        boxes = browser.evaluate(
            "[...document.querySelectorAll('.scroll')].map(s => [s.parentElement"
            ".querySelector('h3').textContent, s.querySelectorAll('tbody tr:not(.detail)').length,"
            " s.scrollHeight - s.clientHeight])"
        )
    rows = {title: n for title, n, _ in boxes}
    assert rows["Decay rates by setting"] == rows["Theory vs measurement by setting"] == 36
    assert [b for b in boxes if b[2] > 0] == []  # no box hides a row, or part of one


_PROSE_JS = """(() => {
  const chars = [];
  for (const p of document.querySelectorAll('main p, main td, main dd')) {
    const walk = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      for (let i = 0; i < n.data.length; i++) {
        const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
        const box = r.getClientRects()[0];
        chars.push([n.data[i], box ? Math.round(box.top) : null]);
      }
    }
    chars.push(['\\n', null]);
  }
  return chars;
})()"""


def _broken_words(page: Path, words: Sequence[str]) -> tuple[list[tuple[int, str]], int]:
    """Each of ``words`` on ``page`` shown over two lines at window widths of 420-1000 px (the
    width and the text around it), and how many places of them were looked at."""
    assert CHROMIUM is not None
    broken = []
    checked = 0
    with Browser(CHROMIUM) as browser:
        browser.open(page, width=420, height=2000)
        for width in range(420, 1000, 23):  # the lines wrap at many places
            metrics = {"width": width, "height": 2000, "deviceScaleFactor": 1, "mobile": False}
            browser.send("Emulation.setDeviceMetricsOverride", metrics)
            got = browser.evaluate(_PROSE_JS)
            shown = "".join(c for c, _ in got)
            tops = [top for _, top in got]
            for word in words:
                start = shown.find(word)
                while start >= 0:
                    if len({tops[i] for i in range(start, start + len(word))}) > 1:
                        broken.append((width, shown[start - 10 : start + len(word) + 10]))
                    checked += 1
                    start = shown.find(word, start + 1)
    return broken, checked


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_an_option_named_in_prose_never_wraps_inside_itself(tmp_path):
    """An analysed LSTM's page broke "--seq-len" in its captions as "-" / "-seq-len" or
    "--seq-" / "len": in prose (captions, intros, notes, table cells) an option, and a value
    after one (``--out runs/try-learn-lstm-1x8``), is now one box, as a command's words are."""
    from vanishlab.report.model import Code, KeyValues, Report, Section, Table
    from vanishlab.report.render import render_html

    words = ["--seq-len", "--dry-run", "--out", "runs/try-learn-lstm-1x8", "--input-std"]
    sentence = (
        "The command measures freshly initialised networks of this size at T = 100 (set "
        "--seq-len to the dependency length you need; --dry-run first shows the cells), "
        "with --out runs/try-learn-lstm-1x8 naming a new directory and --input-std 1.0. "
    )
    text = sentence * 3
    section = Section(
        "s",
        "Prose",
        text,
        (
            Code("Try", "vanishlab sweep --seq-len 100", text),
            Table("t", text, ("a", "b"), (("x", text),), (False, False), note=text),
            KeyValues("", (("k", text),)),
        ),
    )
    page = tmp_path / "prose.html"
    page.write_text(render_html(Report("p", "p", "2024-01-01", "0", (section,))), "utf-8")
    broken, checked = _broken_words(page, words)
    assert checked == 26 * 5 * 3 * 6  # widths, words, sentences, places of prose
    assert broken == []


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_printed_figures_stay_whole_and_headings_stay_with_what_follows(full_report):
    """Printed, a figure's title was left at the foot of a page, its drawing and caption on the
    next (the demo page printed at A4/Letter: Figure 4's title on page 4, its heatmaps on page
    5; a section's heading and the first line of its intro at the foot of page 3, the rest and
    its figure on page 4). On paper a figure (title, drawing, caption) is not split, and no
    heading, section intro or table caption is parted from what follows it (a gated run's
    "Norms beyond float32": its title and caption at the foot of one page, its table alone on
    the next)."""
    with _printed(full_report, width=700) as browser:
        styles = browser.evaluate(
            "({figure: [...document.querySelectorAll('figure')].map("
            " f => getComputedStyle(f).breakInside),"
            " after: [...document.querySelectorAll('main h2, main h3, p.intro,"
            " .table-block > p.caption')].map("
            " e => getComputedStyle(e).breakAfter),"
            " intro: [...document.querySelectorAll('p.intro, .table-block > p.caption')].map("
            " e => getComputedStyle(e).breakInside)})"
        )
    assert styles["figure"] and set(styles["figure"]) == {"avoid"}
    assert styles["after"] and set(styles["after"]) == {"avoid"}
    assert styles["intro"] and set(styles["intro"]) == {"avoid"}


_FIGURE_SCALES_JS = (
    "[...document.querySelectorAll('svg.fig')].map(s => {"
    " const own = parseFloat(s.getAttribute('width')) * 96 / 72;"
    " const box = s.parentElement;"
    " return [s.getBoundingClientRect().width / own, own, box.clientWidth,"
    " box.scrollWidth > box.clientWidth, box.classList.contains('scroll')]; })"
)


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_wide_figure_keeps_readable_in_a_narrow_window(full_report):
    """In a 700 px window a figure of the page's width was drawn at 58 % of its size (the gated
    page's three-column decay curves), its 7.5 pt tick labels 5.8 px tall. On a screen it is
    now drawn at least page.MIN_FIGURE_SCALE of its size and scrolls sideways in its own box,
    the page itself no wider than the window; at 1280 px every figure is drawn as before (at
    its own size, or the column's width), and printed it still shrinks to the paper."""
    from vanishlab.report.page import MIN_FIGURE_SCALE

    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.open(full_report, width=700, height=1000)
        narrow = browser.evaluate(_FIGURE_SCALES_JS)
        overflow = browser.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        browser.open(full_report, width=1280, height=1000)
        wide = browser.evaluate(_FIGURE_SCALES_JS)
    assert overflow <= 0
    assert any(own > 700 for _, own, *_ in narrow)  # a figure wider than the window
    for scale, own, box, scrolls, in_scroll in narrow:
        assert in_scroll and scale >= MIN_FIGURE_SCALE - 1e-3, (scale, own)
        assert scrolls == (own * MIN_FIGURE_SCALE > box + 0.5), (scale, own, box)
    for scale, own, box, scrolls, _ in wide:
        assert scale == pytest.approx(min(1.0, box / own), abs=1e-3) and not scrolls
    with _printed(full_report, width=700) as browser:
        printed = browser.evaluate(_FIGURE_SCALES_JS)
    assert all(s * own <= box + 0.5 for s, own, box, *_ in printed), printed


def _press(browser: Browser, key: str, code: int) -> None:
    """Press and release ``key`` (its Windows virtual key code ``code``) in the page."""
    for kind in ("rawKeyDown", "keyUp"):
        event = {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}
        browser.send("Input.dispatchKeyEvent", event)


_FOCUSED_JS = """(() => {
  const box = document.activeElement;
  const all = [...document.querySelectorAll('.scroll')];
  if (!all.includes(box)) return null;
  const style = getComputedStyle(box);
  const name = document.getElementById(box.getAttribute('aria-labelledby'));
  return [all.indexOf(box), box.getAttribute('role'), name ? name.textContent : null,
          style.outlineStyle, parseFloat(style.outlineWidth)];
})()"""


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_keyboard_reaches_and_scrolls_every_scroll_box(full_report):
    """In a 700 px window a wide figure scrolls sideways in its own box, and a tall table in
    its own; Safari and Firefox give such a box no tab stop when it holds nothing focusable,
    so a keyboard user could not scroll it. Tab now reaches every figure's and table's box in
    page order, a region named by its title, drawn with an outline while focused; and the
    arrow keys scroll the one that is wider than the window."""
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.open(full_report, width=700, height=1000)
        boxes, stops = browser.evaluate(
            "[document.querySelectorAll('.scroll').length,"
            " document.querySelectorAll('a[href], .scroll').length]"
        )
        reached, scrolled = [], []
        for _ in range(stops):
            _press(browser, "Tab", 9)
            got = browser.evaluate(_FOCUSED_JS)
            if got is None:
                continue
            reached.append(got)
            box = "document.activeElement"
            if not scrolled and browser.evaluate(f"{box}.scrollWidth > {box}.clientWidth"):
                _press(browser, "ArrowRight", 39)  # the first box wider than the window
                for _ in range(50):  # it scrolls smoothly: a few frames
                    if browser.evaluate(f"{box}.scrollLeft") > 0:
                        break
                    time.sleep(0.02)
                scrolled.append(browser.evaluate(f"{box}.scrollLeft"))
    assert [i for i, *_ in reached] == list(range(boxes))
    assert all(role == "region" and name for _, role, name, *_ in reached), reached
    assert all(style == "solid" and width >= 2 for *_, style, width in reached), reached
    assert scrolled and scrolled[0] > 0, scrolled


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_comparison_in_prose_never_wraps_inside_itself(tmp_path):
    """The rate maps' caption broke its median horizon "'h > n'" over two lines ("'h" / "> n'"),
    and the rates table's "'> n'" after its sign: a short comparison in prose is now kept on
    one line (``span.nowrap``), in captions, notes and table cells alike."""
    from vanishlab.report.model import Report, Section, Table
    from vanishlab.report.render import render_html
    from vanishlab.report.sections.rate_cells import horizon_median_note

    words = ["'h > n'", "'> n'", "H < 64,", "> 100"]
    text = (
        f"Each cell gives the horizon h, {horizon_median_note(words[0], 2)}; the table's "
        f"{horizon_median_note(words[1], 2)}. Narrow: {words[2]} or fewer than 17.5 units. "
    ) * 2
    cells = ((words[3], text),)
    section = Section("s", "Prose", text, (Table("t", text, ("h", "b"), cells, (False, False)),))
    page = tmp_path / "prose.html"
    page.write_text(render_html(Report("p", "p", "2024-01-01", "0", (section,))), "utf-8")
    broken, checked = _broken_words(page, words)
    assert checked > 26 * 4 * 3
    assert broken == []


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_hyphenated_flag_in_a_narrow_column_never_wraps_inside_itself(tmp_path):
    """`vanishlab sweep gated`'s theory table, wider than the window, squeezed its flags column
    to the width of "theory": every gated row read "no-" / "theory" on two lines. A table
    cell's hyphenated word is kept whole (``span.nowrap``), its column as wide as it."""
    from vanishlab.report.model import Report, Section, Table
    from vanishlab.report.render import render_html

    words = ["no-theory", "non-iid", "near-critical"]
    wide = "a note wider than the window, " * 8
    rows = tuple((wide, flags) for flags in ("no-theory", "non-iid, narrow", "near-critical"))
    table = Table("t", "Flags.", ("note", "flags"), rows, (False, False))
    page = tmp_path / "flags.html"
    section = Section("s", "S", "", (table,))
    page.write_text(render_html(Report("p", "p", "2024-01-01", "0", (section,))), "utf-8")
    broken, checked = _broken_words(page, words)
    assert checked == 26 * 3  # widths, words
    assert broken == []
