"""Mutation review of session 45's code: each test here failed on a small plausible change of
the code it names (a cutoff moved, a branch dropped, an argument swapped) that passed every
other test, and passes on the code as it is."""

from __future__ import annotations

import math

import pytest

import vanishlab as vl

SIZES = {"hidden_size": 16, "input_size": 1, "init": "normal"}


# --- the mean field's misspelt keys (sweep.prediction._refuse_misspelt_keys) ---


def test_a_misspelt_key_is_named_down_to_the_cutoff_of_three_quarters() -> None:
    # 'nlayers' is 0.82 from 'num_layers' and 'gian' 0.75 from 'gain': a cutoff of 0.85, or 0.8,
    # took 'nlayers' for a frame's own column and measured one layer in silence
    # (critical_gain reads no gain, but a misspelt one is named all the same)
    for key, near in (("nlayers", "num_layers"), ("gian", "gain"), ("gains", "gain")):
        with pytest.raises(ValueError, match=rf"^unknown key '{key}' in the cell: did you mean "):
            vl.critical_gain({**SIZES, key: 2})
        with pytest.raises(ValueError, match=rf"did you mean '{near}'\? "):
            vl.cell_mean_field({**SIZES, key: 2})


def test_a_key_that_is_no_string_is_ignored_as_a_frame_s_own_column() -> None:
    # a row of a frame whose columns include an integer (0): difflib was handed the int
    assert vl.critical_gain({**SIZES, 0: "x", 1.5: 2}) == vl.critical_gain(SIZES)
    assert math.isfinite(vl.critical_gain(SIZES))
