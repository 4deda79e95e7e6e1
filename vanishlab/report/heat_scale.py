"""The heatmaps' colour scale (:mod:`.heatmaps`): one diverging map fitted to every panel of a
figure (white at 0, blue below, red above; :func:`color_scale`), its colour bar's ticks and
ends (:func:`ticks_with_ends`), and a square's text in white or black, whichever contrasts
more with its colour (:func:`text_color`)."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
from matplotlib.colorbar import Colorbar
from matplotlib.colors import Colormap, ListedColormap, Normalize

__all__ = ["CMAP", "color_scale", "text_color", "ticks_with_ends"]

CMAP = "RdBu_r"  # blue = vanishing (< 0), red = exploding (> 0)


def ticks_with_ends(bar: Colorbar, white_zero: bool = False) -> None:
    """The bar's round ticks and its two ends: the extremes of the values drawn, which the
    caption says the scale spans (a bar down to -66.3 was labelled from -60, -24.5 from -20).
    A round tick closer to an end than 1.25 labels' height (or a tenth of the bar) is dropped,
    to keep the labels apart on a short bar too. ``white_zero``: 0 is the diverging map's white
    point, where the sign changes (blue vanishing, red exploding): inside the bar it is kept as
    the ends are, wherever its label clears theirs (1.25 labels' height; nearer, the ends are
    the values drawn and win), and a round tick is kept only where its label clears 0's too.
    Dropped as a round tick within a tenth of the bar of an end, 0 left a bar from -1.73 to
    0.08 with no mark where white is, its cells of small rates not told apart by sign."""
    lo, hi = float(bar.norm.vmin), float(bar.norm.vmax)
    if not hi > lo:
        return
    size = max((t.get_fontsize() for t in bar.ax.get_yticklabels()), default=10.0)
    bar_in = bar.ax.get_position().height * bar.ax.figure.get_figheight()
    clear = (hi - lo) * 1.25 * size / 72 / bar_in  # a label's room: no two labels overlap
    near = max(0.1 * (hi - lo), clear)
    fixed = [lo, hi]
    if white_zero and lo + clear <= 0.0 <= hi - clear:
        fixed.append(0.0)
    inner = [
        float(t)
        for t in bar.get_ticks()
        if lo + near < t < hi - near and all(abs(t - f) >= clear for f in fixed[2:])
    ]
    digits = max(0, 2 - math.floor(math.log10(hi - lo)))  # ends to ~3 significant digits

    def text(value: float, end: bool) -> str:
        said = f"{value:.{digits}f}" if end and value != round(value) else f"{value:g}"
        return said.replace("-", "\u2212")  # matplotlib's own minus sign on the other ticks

    ticks = sorted({*fixed, *inner})
    bar.set_ticks(ticks, labels=[text(t, t in (lo, hi)) for t in ticks])


def _relative_luminance(color: str | tuple[float, ...]) -> float:
    """WCAG 2's relative luminance of a colour: its sRGB components linearised, then weighted."""
    channels = np.asarray(mpl.colors.to_rgb(color), dtype=np.float64)
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(np.dot([0.2126, 0.7152, 0.0722], linear))


def text_color(background: str | tuple[float, ...]) -> str:
    """White or black, whichever contrasts more with ``background`` (WCAG 2's ratio): at least
    4.5:1 on any colour, where a dark grey (#222222) chosen by the gamma-encoded luma below 0.45
    read 3.7:1 on RdBu's mid blues, and no choice of it or white reaches 4.5 on every colour."""
    lum = _relative_luminance(background)
    return "white" if 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 else "black"


def color_scale(arrays: list[np.ndarray], center_zero: bool) -> tuple[Colormap, Normalize]:
    """Colour map and scale fitted to the finite data: white at 0, blue below, red above.

    The scale spans exactly [min, max] of the data. A value's colour depends on its distance
    from 0 alone (the same shade of blue for -10 as of red for +10): the map is the part of
    the symmetric diverging map that the data reaches, so when nearly every value is negative
    the bar is nearly all blue and no half of it is left empty. ``center_zero=False``: a
    sequential map (viridis) over [min, max].
    """
    finite = np.concatenate([a[np.isfinite(a)].ravel() for a in arrays] or [np.empty(0)])
    lo = float(finite.min()) if finite.size else -1.0
    hi = float(finite.max()) if finite.size else 1.0
    full = mpl.colormaps[CMAP]
    if not center_zero:
        return mpl.colormaps["viridis"], Normalize(lo, hi if hi > lo else lo + 1.0)
    if lo < 0 < hi:
        lim = max(-lo, hi)
        a, b = 0.5 - 0.5 * -lo / lim, 0.5 + 0.5 * hi / lim  # where lo and hi sit on the full map
        return ListedColormap(full(np.linspace(a, b, 256))), Normalize(lo, hi)
    if hi <= 0:
        lo = lo if lo < 0 else -1.0
        return ListedColormap(full(np.linspace(0.0, 0.5, 128))), Normalize(lo, 0.0)
    return ListedColormap(full(np.linspace(0.5, 1.0, 128))), Normalize(0.0, hi)
