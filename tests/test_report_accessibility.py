"""The report read by eyes and devices that differ: a phone's narrow window, a browser zoomed to
200 % (a 1280 px window is then 640 CSS px wide), in headless Chromium (``tests/_cdp.py``)."""

from __future__ import annotations

import pytest
from _cdp import Browser, find_chromium

pytestmark = pytest.mark.browser
CHROMIUM = find_chromium()

#: The longest key of the demo page's key-value blocks (its theory summary), 380 px wide.
LONG_KEY = "|measured − predicted|, flagged cells (all of them)"

_KV_JS = """(() => {
  const line = parseFloat(getComputedStyle(document.body).lineHeight);
  return {overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          blocks: [...document.querySelectorAll('dl.kv')].map(dl => ({
            width: dl.getBoundingClientRect().width,
            values: [...dl.querySelectorAll('dd')].map(d => d.getBoundingClientRect().width),
            keyLines: [...dl.querySelectorAll('dt')].map(
              d => Math.round(d.getBoundingClientRect().height / line))}))};
})()"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [390, 640])
def test_a_long_key_leaves_its_value_room_in_a_narrow_window(tmp_path, width):
    """A key-value block's keys took the width of its longest key (``max-content``): in a
    390 px window the demo page's theory summary's key above took 380 px of the column's 342,
    its values were drawn a letter a line in 15 px (that block 6464 px tall, against 317 at
    1280 px) and the page was 437 px wide, scrolling sideways (an analysed model's Lyapunov
    block: 13 px, 1538 px tall). A key now takes at most half the block's width, wrapping past
    it; in a 1280 px window each key still stands on one line."""
    from vanishlab.report.model import KeyValues, Report, Section
    from vanishlab.report.render import render_html

    items = (
        ("measured cells with a prediction", "68 of 96 (0 linear regime, 68 mean field)"),
        (LONG_KEY, "median 0.035, largest 0.152 per step (68 cells)"),
        ("Pascanu bound", "holds at every lag of all 96 measured cells"),
    )
    section = Section("s", "Theory", "Intro.", (KeyValues("Summary", items),))
    page = tmp_path / "kv.html"
    page.write_text(render_html(Report("p", "p", "2024-01-01", "0", (section,))), "utf-8")
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.open(page, width=width, height=900)
        narrow = browser.evaluate(_KV_JS)
    with Browser(CHROMIUM) as browser:
        browser.open(page, width=1280, height=900)
        wide = browser.evaluate(_KV_JS)
    assert narrow["overflow"] <= 0, narrow
    for block in narrow["blocks"]:
        assert min(block["values"]) >= 0.4 * block["width"], block
    assert wide["overflow"] <= 0
    assert [b["keyLines"] for b in wide["blocks"]] == [[1, 1, 1]], wide


_DARK_FLAGS = ("--enable-features=WebContentsForceDark", "--force-dark-mode")


def _figure_ink(page, tmp_path, flags: tuple[str, ...]) -> tuple[float, float]:
    """The fraction of dark pixels (luminance < 100) in ``page``'s first figure, and the mean
    luminance of its first screen, in Chromium started with ``flags`` too."""
    import _cdp
    import numpy as np
    from matplotlib.image import imread

    assert CHROMIUM is not None
    base = _cdp.FLAGS
    _cdp.FLAGS = (*base, *flags)
    try:
        with Browser(CHROMIUM) as browser:
            browser.open(page, width=1280, height=900)
            box = browser.evaluate(
                "(() => { const r = document.querySelector('svg.fig').getBoundingClientRect();"
                " return {x: r.x, y: r.y + scrollY, width: r.width, height: r.height}; })()"
            )
            figure = browser.screenshot(tmp_path / f"figure{len(flags)}.png", clip=box)
            screen = browser.screenshot(tmp_path / f"screen{len(flags)}.png")
    finally:
        _cdp.FLAGS = base

    def grey(path):
        rgb = imread(path)[..., :3] * 255.0
        return rgb @ np.array([0.299, 0.587, 0.114])

    return float((grey(figure) < 100).mean()), float(grey(screen).mean())


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_browser_that_darkens_pages_leaves_the_figures_readable(full_report, tmp_path):
    """Chrome darkens a page for a reader who prefers dark where the page does not say it is
    drawn for light only ("darken websites"; --enable-features=WebContentsForceDark): each
    figure's white ground stayed white and its black text and axes were turned white on it,
    every tick label, axis label, panel title and legend entry gone (no dark pixel left in the
    figure). The page now says ``color-scheme: only light``: it is shown as drawn."""
    ink, light = _figure_ink(full_report, tmp_path, ())
    dark_ink, dark_light = _figure_ink(full_report, tmp_path, _DARK_FLAGS)
    assert ink > 0.005 and light > 200  # black ink on a white page, as drawn
    assert dark_ink == pytest.approx(ink, rel=0.05), (ink, dark_ink)
    assert dark_light == pytest.approx(light, abs=5.0), (light, dark_light)


_NAV_JS = """(() => {
  const ctx = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll('nav li')].map((li, i) => {
    ctx.font = getComputedStyle(li).font;
    const range = document.createRange(); range.selectNodeContents(li);
    const rects = [...range.getClientRects()];
    return {left: li.getBoundingClientRect().left, marker: ctx.measureText((i + 1) + '. ').width,
            right: Math.max(...rects.map(r => r.right)), lefts: rects.map(r => r.left)};
  });
})()"""


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_contents_second_column_numbers_clear_the_first_column_words(tmp_path):
    """The contents list's two columns: the list's padding indented the first column only, so
    the second column's numbers stood in the 1em gap between them, and on a 390 px phone an
    analysed model's "What this means for long dependencies" ran 4 px into "6.". Each item now
    holds its number's room and stays whole in one column."""
    from vanishlab.report.model import Report, Section
    from vanishlab.report.render import render_html

    titles = ["Model", "What this means for long dependencies", "Decay curves",
              "Decay rates and horizons", "Lyapunov exponent", "Theory",
              "Reproduce and versions"]  # fmt: skip
    sections = tuple(Section(f"s{i}", t, "Intro.", ()) for i, t in enumerate(titles))
    page = tmp_path / "nav.html"
    page.write_text(render_html(Report("p", "p", "2024-01-01", "0", sections)), "utf-8")
    assert CHROMIUM is not None
    for width in (390, 1280):
        with Browser(CHROMIUM) as browser:
            browser.open(page, width=width, height=900)
            items = browser.evaluate(_NAV_JS)
        first = min(item["left"] for item in items)
        second = [item for item in items if item["left"] > first + 50]
        assert second, items  # two columns
        words = max(item["right"] for item in items if item["left"] <= first + 1)
        for item in second:
            assert item["left"] - item["marker"] - words >= 4, (width, item, words)
        for item in items:  # an item's lines all in its own column
            assert all(left >= item["left"] - 1 for left in item["lefts"]), (width, item)
