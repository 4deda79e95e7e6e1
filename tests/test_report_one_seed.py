"""A run of one seed (a smoke run: ``vanishlab sweep gated --smoke``) is not said to be a mean
or a median over seeds: its captions said "mean over seeds" of one seed."""

from __future__ import annotations

import html
import re

import pytest

import vanishlab as vl
from vanishlab.sweep.config import Sweep

# the sections that said it: models side by side, curves, theory, heatmaps, rates, depth
GRID = {"hidden_size": 4, "input_size": 2, "seq_len": 4, "batch": 2, "num_layers": 2}
GRID |= {"model": ("rnn", "lstm"), "gain": (0.5, 1.0)}


def _captions(tmp_path, seeds):
    out = tmp_path / f"run{len(seeds)}"
    vl.run_sweep(Sweep(seed=seeds, **GRID), out, workers=1, progress=False)
    page = vl.render_report(out, tmp_path / f"r{len(seeds)}.html").read_text()
    page = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    return " ".join(
        html.unescape(re.sub(r"<[^>]+>", "", c))  # each caption whole, its spans' text in it
        for _, c in re.findall(r"<(figcaption|p)\b[^>]*>(.*?)</\1>", page, flags=re.S)
    )


def test_a_run_of_one_seed_is_no_mean_over_seeds(tmp_path):
    one = _captions(tmp_path, (0,))
    for words in (
        "mean over seeds",
        "median over seeds",
        "mean over the seeds",
        "standard deviation over seeds",
        "mean over the measured seeds",
        # the exact zeros' notes of the rates tables (models, rates): as if there were others
        "some seed's",
        "counted apart",
        "out of the mean",
        "A seed whose",
        "no seed has",  # the rates table's '—'
    ):
        assert words not in one, words
    assert "one seed" in one
    assert "'(exact 0)' when the Jacobian is exactly zero there" in one
    assert "Where the Jacobian becomes exactly zero inside the window, the rate is the one " in one


# slow: about 4 s of CPU (a sweep of 8 cells and its report); the words of several seeds are
# kept by the sections' own tests
@pytest.mark.slow
def test_a_run_of_two_seeds_keeps_its_words(tmp_path):
    two = _captions(tmp_path, (0, 1))
    assert "mean over seeds" in two and "median over seeds" in two
    assert "one seed" not in two
    assert "— where no seed has a finite rate" in two
    assert "'(exact 0)' when some seed's Jacobian is exactly zero there" in two
    assert "has a rate of −∞ and is counted apart, out of the mean. " in two
