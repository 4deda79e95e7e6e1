"""The decay and input figures say what their band spans by what they draw.

Their captions said "the band spans the N seeds" by the most seeds any setting of the run has
(``view.seeds``), over a setting whose other seed failed (its band ±1 standard deviation
across one seed's samples) and lags where one seed alone had a finite norm (a band of no
height): :func:`.sections.curves.band_words`, as the phase diagrams' bars go by ``n_finite``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from _report_run import report_with_a_failed_seed

from vanishlab.report.model import LineGrid
from vanishlab.report.sections.curves import band_words


def _drawn(n: list[int], n_finite: list[int]) -> pd.DataFrame:
    y = [np.nan if k == 0 else -1.0 for k in n_finite]  # no finite seed: no point
    return pd.DataFrame({"y": y, "n": n, "n_finite": n_finite})


def test_the_band_is_said_by_the_seeds_each_drawn_point_has():
    three = SimpleNamespace(seeds=3, one_sample=False)
    assert band_words(three, _drawn([3, 3], [3, 3])) == "the band spans the 3 seeds."
    assert band_words(three, _drawn([3, 3, 3], [3, 2, 0])) == (
        "the band spans the seeds of a finite norm (2 to 3 of the 3)."
    )
    assert band_words(three, _drawn([2, 2], [2, 1])) == (
        "the band spans the seeds of a finite norm (2 of the 3); a lag where one seed's norm "
        "alone is finite has no band (it closes on the line)."
    )
    assert band_words(SimpleNamespace(seeds=2, one_sample=True), _drawn([1], [1])) == (
        "a setting of which one seed was measured has no band."
    )


def test_a_setting_whose_other_seed_failed_is_said(tmp_path):
    report = report_with_a_failed_seed(tmp_path / "run", (0.5, 2.0), model="rnn")
    for key in ("decay", "input"):
        (section,) = [s for s in report.sections if s.key == key]
        (grid,) = [b for b in section.blocks if isinstance(b, LineGrid)]
        said = (
            "mean over seeds; the band spans the 2 seeds; a setting of which one seed was "
            "measured has a band of ±1 standard deviation across its samples."
        )
        assert said in grid.caption, (key, grid.caption)
