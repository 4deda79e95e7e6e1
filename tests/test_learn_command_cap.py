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


def test_a_grus_test_of_learning_is_told_its_own_time():
    """docs/trainability.md's table: a GRU's 300 steps took 4.1 s at T = 50 (about 14 s for the
    command's 1000; the sweep estimates 14.5 s at T = 56), where a GRU's page read "2 to 10 s a
    network at hidden size 32 and T <= 80" alone; and --dry-run prints the time too."""
    gru, lstm = learn_code("gru", False, 1, 32, 14), learn_code("lstm", False, 1, 32, 14)
    said = "2 to 10 s a network at hidden size 32 and T ≤ 80 on one CPU core"
    assert f"{said}, a GRU about twice that, and the time grows" in gru.caption, gru.caption
    assert f"{said}, and the time grows" in lstm.caption, lstm.caption
    for code in (gru, lstm):
        assert code.caption.endswith(
            "--dry-run first shows the cells, the memory each needs and the time they take."
        )
