"""How the lines of a figure are told apart, without matplotlib: which measured curves another
runs on (drawn wide), which points stand alone (drawn as dots), and the dash pattern of a
reference (a prediction dashed, a marker line such as a critical gain dotted)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .model import Curve

__all__ = ["COVERED_LW", "LINE_LW", "alone", "covered_curves", "dashes"]

#: The line width of a measured curve, and of one that a later curve runs on.
LINE_LW = 1.3
COVERED_LW = 3.4


def covered_curves(curves: Sequence[Curve]) -> set[int]:
    """The measured curves that a later one runs on (within 1 % of the panel's y range at 80 %
    of their common points): drawn wide, so that the later line shows inside a rim of their
    colour instead of hiding them (an LSTM under a GRU, two gains solving the same T)."""
    measured = [(i, c) for i, c in enumerate(curves) if not c.reference]
    ys = np.concatenate([c.y for _, c in measured] or [np.empty(0)])
    ys = ys[np.isfinite(ys)]
    if len(measured) < 2 or not len(ys):
        return set()
    tol = 0.01 * max(float(ys.max() - ys.min()), 1e-12)
    out = set()
    for k, (i, a) in enumerate(measured):
        for _, b in measured[k + 1 :]:
            if a.x.shape != b.x.shape or not np.array_equal(a.x, b.x):
                continue
            both = np.isfinite(a.y) & np.isfinite(b.y)
            if both.sum() >= 2 and (np.abs(a.y - b.y)[both] <= tol).mean() >= 0.8:
                out.add(i)
                break
    return out


def alone(y: np.ndarray) -> np.ndarray:
    """Which finite points of ``y`` stand between gaps (or alone): no line reaches them."""
    finite = np.isfinite(y)
    before = np.concatenate([[False], finite[:-1]])
    after = np.concatenate([finite[1:], [False]])
    return finite & ~before & ~after


def dashes(dotted: bool) -> tuple[int, tuple[float, float]]:
    """A reference's line style: dashed (a prediction), or dotted (a marker line)."""
    return (0, (1, 1.6)) if dotted else (0, (4, 2))
