"""Stage two of a report: draw the figures and fill the jinja2 template into one HTML file.

The page is self-contained: CSS and SVG are inline, nothing is fetched (a Content Security
Policy of ``default-src 'none'`` tells the browser so, and blocks scripts outright). The
jinja2 environment is created per call, with ``autoescape=True`` and ``StrictUndefined``:
every string of the page data is escaped; only the SVG drawn by :mod:`.figures` is marked
safe, and it holds no user text (matplotlib writes labels as glyph paths, the text itself
only inside escaped XML comments).

Matplotlib is imported only when a page is drawn, and quietly: where its config or cache
folder cannot be written (a read-only or missing home, or an ``MPLCONFIGDIR`` that cannot be
made or written), it falls back to a temporary folder and says so in two lines on stderr;
:func:`quiet_matplotlib_dirs` makes the same fallback first, without the noise (one note line
for an ``MPLCONFIGDIR`` the user chose; :mod:`.matplotlib_dirs`, which :mod:`.text_metrics`
calls too, as it may import matplotlib first).
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from .matplotlib_dirs import quiet_matplotlib_dirs
from .model import Block, HeatmapGrid, LineGrid, Report
from .page import COLUMN_PX, GUTTER_PX, MIN_FIGURE_SCALE, TALL_TABLE_ROWS
from .progress import ReportProgress

__all__ = [
    "aligned",
    "aside",
    "cell",
    "environment",
    "prose",
    "render_html",
    "shell_words",
]

# One word of a command as a shell reads it: quoted parts ('...', "...", $'...') and escaped
# characters keep their spaces inside the word. Between words: spaces, tabs, newlines.
_WORD = r"""(?:\$'(?:[^'\\]|\\.)*'|'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^ \t\n'"\\])+"""
_PARTS = re.compile(rf"{_WORD}|[ \t\n]+", re.DOTALL)
# A command's word named in prose: an option (--seq-len, --out=DIR), and the value after one
# where the browser could break it (a path, runs/try-learn-lstm-1x8; no closing punctuation).
_OPTION = r"(?<![\w-])--[A-Za-z0-9][\w-]*(?:=[^\s]*[^\s.,;:)])?"
_PROSE_WORD = re.compile(rf"({_OPTION})(?:( )((?!--)[^\s]*[-/][^\s]*?)(?=[.,;:)]*(?:\s|$)))?")
# A short comparison in prose: a sign between spaces with the words either side ("h > n",
# "H < 64", "rate ≥ 1,"), or a sign led by a quote or nothing ("'> n'", a cell's "> 100"); a
# chain of them whole ("0.95 < g < 1.41": its "< 1.41" began a line of its own).
_COMPARISON = re.compile(
    r"(?<!\S)(?:[^\s<>≤≥]+ (?=[<>≤≥] )|[^\s\w<>≤≥]*)[<>≤≥] [^\s<>≤≥]+(?: [<>≤≥] [^\s<>≤≥]+)*"
)
# A word of letters joined by hyphens ("no-theory", "non-iid", "near-critical"), kept whole
# in a table's cell: the theory table of `vanishlab sweep gated` broke every gated row's flag
# as "no-" / "theory" in its narrow flags column.
_HYPHENATED = re.compile(r"(?<![\w-])[^\W\d_]+(?:-[^\W\d_]+)+(?![\w-])")
_IN_A_CELL = re.compile(f"{_COMPARISON.pattern}|{_HYPHENATED.pattern}")


@dataclass(frozen=True)
class ShownBlock:
    """A block as the template sees it: the data, its figure number and its SVG (if any).

    The parts of one figure (:attr:`.model.HeatmapGrid.part`) share its number: the heading
    says "Figure 3 (part 2 of 2)", and ``anchor`` ("3-2") tells the parts' ids apart.
    """

    block: Block
    number: int  # figure number (0 for tables and lists)
    svg: Markup | None
    part: tuple[int, int] | None = None  # (n, of): part n of figure ``number``

    @property
    def label(self) -> str:
        """The figure's name after "Figure": its number, and which part where it is one."""
        if self.part is None:
            return str(self.number)
        return f"{self.number} (part {self.part[0]} of {self.part[1]})"

    @property
    def anchor(self) -> str:
        """The figure's own piece of its HTML ids: ``figure-{anchor}``."""
        return str(self.number) if self.part is None else f"{self.number}-{self.part[0]}"


def shell_words(text: str) -> list[str]:
    """``text`` (command lines) cut into its shell words and the spaces between them, which
    joined give ``text`` again. The page shows each word in a box of its own, so that a long
    command wraps between words, never at a hyphen inside one (``--input-`` / ``std``).
    Text a shell would not read (an unclosed quote) is cut at its spaces alone."""
    parts = _PARTS.findall(text)
    if "".join(parts) != text:
        parts = [p for p in re.split(r"([ \t\n]+)", text) if p]
    return parts


def prose(text: object, whole: re.Pattern[str] = _COMPARISON) -> object:
    """``text`` of a caption, an intro, a note or a table's cell, escaped, with each option
    it names (``--seq-len``) and a value that follows one (``--out runs/x-y``) in a box of its
    own (``span.w``, as a command's words are): the browser wrapped "--seq-len" as "-" /
    "-seq-len" or "--seq-" / "len"; and each short comparison ("'h > n'") on one line
    (:func:`_compared`; ``whole``: what else is kept on one line, :func:`cell`). A value other
    than text is left as it is."""
    if not isinstance(text, str):
        return text
    out = []
    end = 0
    for match in _PROSE_WORD.finditer(text):
        out.append(_compared(text[end : match.start()], whole))
        out.append(Markup('<span class="w">%s</span>') % match.group(1))
        if match.group(3):
            out.append(Markup(' <span class="w">%s</span>') % match.group(3))
        end = match.end()
    out.append(_compared(text[end:], whole))
    return Markup("").join(out)


def cell(text: object) -> object:
    """A table cell's ``text`` as :func:`prose` writes it, each word of letters joined by
    hyphens ("no-theory") kept on one line too: a narrow column broke it at its hyphen. Only in
    cells: in a caption such a break is an ordinary line's, and "non-i.i.d." is no such word."""
    return prose(text, _IN_A_CELL)


def _compared(text: str, whole: re.Pattern[str] = _COMPARISON) -> Markup:
    """``text`` escaped, each short comparison in it (``_COMPARISON``: "'h > n'", "> 100"), or
    each match of ``whole``, in a span that never breaks (``span.nowrap``): a caption broke
    "'h > n'" as "'h" / "> n'", and "> n'" after its sign. Copied, the text is as it is (plain
    spaces)."""
    out = []
    end = 0
    for match in whole.finditer(text):
        out.append(escape(text[end : match.start()]))
        out.append(Markup('<span class="nowrap">%s</span>') % match.group(0))
        end = match.end()
    out.append(escape(text[end:]))
    return Markup("").join(out)


def aside(text: object) -> object:
    """A table cell's ``text`` as :func:`cell` writes it, its remark after the number (from
    the first " (" to the closing ")" at its end) in a box of its own (``span.aside``, of a
    narrow width: :attr:`.model.Table.asides`)."""
    if not isinstance(text, str) or " (" not in text or not text.endswith(")"):
        return cell(text)
    number, remark = text.split(" (", 1)
    return Markup('%s <span class="aside">%s</span>') % (cell(number), cell(f"({remark}"))


def environment() -> Environment:
    """A fresh jinja2 environment for the report templates (autoescaping, strict)."""
    env = Environment(
        loader=PackageLoader("vanishlab.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["shell_words"] = shell_words
    env.filters["prose"] = prose
    env.filters["aside"] = aside
    env.filters["cell"] = cell
    return env


def render_html(report: Report, progress: ReportProgress | None = None) -> str:
    """The report page as HTML text (deterministic: the same data gives the same text).

    ``progress`` counts one step per figure drawn (see :mod:`.progress`).
    """
    quiet_matplotlib_dirs()
    from .figures import figure_svg, left_margin  # matplotlib: only when a page is drawn

    if progress is not None:
        figures = sum(
            isinstance(b, LineGrid | HeatmapGrid) for s in report.sections for b in s.blocks
        )
        progress.stage("figures", figures)
    sections = []
    number = 0
    with _figures_collected() as collect:
        for s_index, section in enumerate(report.sections):
            shown = []
            for b_index, block in enumerate(aligned(section.blocks, left_margin)):
                if isinstance(block, LineGrid | HeatmapGrid):
                    part = block.part if isinstance(block, HeatmapGrid) else None
                    # A figure's later parts keep its number (a new one numbered "Figure 4"
                    # read as another figure, and put every later figure's number off by one).
                    if part is None or part[0] == 1:
                        number += 1
                    item = ShownBlock(block, number, None, part)
                    # Named by its title and caption (ids given in the template).
                    names = f"figure-{item.anchor}-title figure-{item.anchor}-caption"
                    svg = Markup(figure_svg(block, f"f{s_index}-{b_index}", names))
                    collect()  # the figure's objects, garbage now
                    if progress is not None:
                        progress.step(section.key)
                    shown.append(replace(item, svg=svg))
                else:
                    shown.append(ShownBlock(block, 0, None))
            sections.append((section, shown))
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        sections=sections,
        column_px=COLUMN_PX,
        gutter_px=GUTTER_PX,
        min_figure_scale=MIN_FIGURE_SCALE,
        tall_rows=TALL_TABLE_ROWS,
    )


@contextlib.contextmanager
def _figures_collected() -> Iterator[Callable[[], None]]:
    """Python's automatic garbage collection paused while the figures are drawn, and a function
    that collects the youngest generation, called after each figure: the objects made since the
    last call, a drawn figure's among them (matplotlib's artists refer to one another, and only
    the collector frees them). Each of the automatic full collections that a figure's ~100,000
    objects set off went through every object of the process (the run's rows and the imported
    modules' too): 8 of them in a 1,000-cell report, 1.3-1.5 s of its ~10 s. It is paused for
    the whole process (its other threads too) while the figures are drawn, then given back as it
    was: where the caller had turned it off, it stays off and nothing is collected here."""
    if not gc.isenabled():
        yield lambda: None
        return
    gc.disable()
    try:
        yield lambda: gc.collect(0)
    finally:
        gc.enable()


def aligned(blocks: Sequence[object], margin: Callable[[LineGrid], float]) -> list[object]:
    """``blocks`` with each line figure of a non-empty :attr:`.model.LineGrid.align` given the
    widest left margin (``margin``: a figure's, in inches) of the figures that share it."""
    grids = [b for b in blocks if isinstance(b, LineGrid) and b.align]
    lefts: dict[str, float] = {}
    for grid in grids:
        lefts[grid.align] = max(lefts.get(grid.align, 0.0), margin(grid))
    return [
        replace(b, min_left=lefts[b.align]) if isinstance(b, LineGrid) and b.align else b
        for b in blocks
    ]
