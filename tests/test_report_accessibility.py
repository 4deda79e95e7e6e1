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
