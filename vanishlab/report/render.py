"""Stage two of a report: draw the figures and fill the jinja2 template into one HTML file.

The page is self-contained: CSS and SVG are inline, nothing is fetched (a Content Security
Policy of ``default-src 'none'`` tells the browser so, and blocks scripts outright). The
jinja2 environment is created per call, with ``autoescape=True`` and ``StrictUndefined``:
every string of the page data is escaped; only the SVG drawn by :mod:`.figures` is marked
safe, and it holds no user text (matplotlib writes labels as glyph paths, the text itself
only inside escaped XML comments).
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .model import Block, HeatmapGrid, LineGrid, Report
from .progress import ReportProgress

__all__ = ["environment", "render_html"]


@dataclass(frozen=True)
class ShownBlock:
    """A block as the template sees it: the data, its figure number and its SVG (if any)."""

    block: Block
    number: int  # figure number (0 for tables and lists)
    svg: Markup | None


def environment() -> Environment:
    """A fresh jinja2 environment for the report templates (autoescaping, strict)."""
    return Environment(
        loader=PackageLoader("vanishlab.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(report: Report, progress: ReportProgress | None = None) -> str:
    """The report page as HTML text (deterministic: the same data gives the same text).

    ``progress`` counts one step per figure drawn (see :mod:`.progress`).
    """
    from .figures import figure_svg  # matplotlib is imported only when a page is drawn

    if progress is not None:
        figures = sum(
            isinstance(b, LineGrid | HeatmapGrid) for s in report.sections for b in s.blocks
        )
        progress.stage("figures", figures)
    sections = []
    number = 0
    for s_index, section in enumerate(report.sections):
        shown = []
        for b_index, block in enumerate(section.blocks):
            if isinstance(block, LineGrid | HeatmapGrid):
                number += 1
                svg = Markup(figure_svg(block, f"f{s_index}-{b_index}"))
                if progress is not None:
                    progress.step(section.key)
                shown.append(ShownBlock(block, number, svg))
            else:
                shown.append(ShownBlock(block, 0, None))
        sections.append((section, shown))
    template = environment().get_template("report.html.j2")
    return template.render(report=report, sections=sections)
