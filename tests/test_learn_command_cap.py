"""The test of learning's caption where its T is capped: what it says of testing the verdict's
own length (vanishlab/report/sections/learn_command.py)."""

from __future__ import annotations

from vanishlab.report.sections.learn_command import MAX_LEARN_LAG, learn_code


def test_only_a_length_past_the_cap_is_told_its_own_seq_len():
    """A verdict of 150 steps trains at dependencies of 50, 100 and 200 (T up to 400), which lie
    around it; the caption still said "To test 150 steps all the same, give --seq-len 300, at
    that cost", a T below the command's own 400. Only a length past the cap is told it."""
    near = learn_code("lstm", False, 1, 16, 150)
    assert f"--seq-len 100,200,{2 * MAX_LEARN_LAG} " in near.text
    assert "To test 150 steps" not in near.caption and "--seq-len 300" not in near.caption
    far = learn_code("lstm", False, 1, 16, 700)
    assert "To test 700 steps all the same, give --seq-len 1400, at that cost." in far.caption
