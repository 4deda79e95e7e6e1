"""The page's main column, in CSS pixels, and the inches a figure may be wide to fit it.

The template's style sheet (``templates/report.css``) writes :data:`COLUMN_PX` and
:data:`GUTTER_PX` as the main column's ``max-width`` and side padding (with ``box-sizing:
border-box``, the padding inside the width); a figure's SVG is sized in points, which a browser
draws at CSS's 96 pixels to the inch. So the column holds a figure of

    PAGE_W = (COLUMN_PX - 2 * GUTTER_PX) / 96 inches

at its own size; a wider one is drawn smaller (``max-width: 100%``), its text with it. The
figures are laid out to :data:`PAGE_W` (:mod:`.figures`, :mod:`.heatmaps`). On a screen a
figure is drawn no smaller than :data:`MIN_FIGURE_SCALE` of its own size: in a narrower window
it scrolls sideways in its own box, its text readable (printed, it still shrinks to the paper).
"""

from __future__ import annotations

__all__ = [
    "COLUMN_PX",
    "CSS_PX_PER_IN",
    "GUTTER_PX",
    "MIN_FIGURE_SCALE",
    "PAGE_W",
    "TALL_TABLE_ROWS",
]

COLUMN_PX = 1180  # the main column's max-width, padding included
GUTTER_PX = 24  # its padding on either side
CSS_PX_PER_IN = 96  # CSS pixels to the inch (an SVG sized in pt: 72 to the inch)
PAGE_W = (COLUMN_PX - 2 * GUTTER_PX) / CSS_PX_PER_IN  # 11.79 in
#: The least fraction of its own size a figure is drawn at on a screen (``svg.fig``'s
#: ``min-width``, of its width ``--fig-w``): a 3-column figure of the page's width in a 700 px
#: window was drawn at 58 %, its 7.5 pt tick labels 5.8 px tall; at 0.8 they are 8 px and it
#: scrolls. A window of the column's width or more draws every figure as before.
MIN_FIGURE_SCALE = 0.8

#: A table of more rows than this scrolls in a box of its own (``.scroll.tall``, 34em high);
#: one of this many or fewer is shown whole. The box's fold cuts whatever row it falls on (rows
#: wrap, so their heights are not known before a browser draws them, and the page runs no
#: script): with 25 as the limit, the default run's theory table (48 settings, 2436 px tall in a
#: 1280 px window) showed 8 rows whole and 53 of the ninth's 69 px at its fold, its rates table
#: 15 and 25 of the next one's 28 px. Up to 60 rows a table is a few screens of the page.
TALL_TABLE_ROWS = 60
