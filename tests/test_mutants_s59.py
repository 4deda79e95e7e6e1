"""Mutation review of the package changes of 2026-12-07 (9c76e2ea..71ff201a): each test here
failed on a small plausible change of the code it names that passed the tests of that code,
and passes on the code as it is.

Mutants tried / killed by the tests before / killed with these (2026-12-07; each run against
the test files of its code, ``pytest -x -p no:randomly -m "not slow"``; after: this file):
  sweep/memory (the nn.RNN's norm count and measure_bytes' use of it)              8 /  8 /  8
  cli/params (refuse_option_shaped, single, path_option, merged), cli/analyze's
  --inputs, cli/sweep_flags (axis_texts, axis_overrides), cli/sweep's command     27 / 22 / 27
  cli/command_errors._working_directory                                            5 /  3 /  3
  sweep/experiment_search._is_name, sweep/files.fs_name, cli/sweep's use of it    11 /  9 / 10
  report/sections/trainability_panels (drawn_gains, one_gain) and its figures     14 / 11 / 13
In all 65 / 53 / 61. The four left are equivalent: _working_directory catching OSError for
FileNotFoundError (os.getcwd fails with ENOENT alone where the directory was removed) or
called inside the ``try`` (fail's typer.Exit, a RuntimeError, is raised again unchanged);
fs_name encoding as "strict" for "surrogatepass" (only a name holding both a character the
file system's encoding lacks and a lone surrogate gets there, and a run's name holds no lone
surrogate: files.name_text makes each U+FFFD); one_gain's ``len(every) > 1`` as
``> len(gains)`` (``gains`` holds one gain there).
"""

from __future__ import annotations

import string
import sys
from types import SimpleNamespace

import pandas as pd
import pytest
from _cli_lines import one_error_line
from test_trainability_past_12_panels import _table, _view
from typer.testing import CliRunner

from vanishlab.cli import app
from vanishlab.report.sections.trainability import _figure, _horizon_figure
from vanishlab.report.sections.trainability_outcomes import outcome_figure
from vanishlab.report.sections.trainability_panels import MAX_PANELS, one_gain
from vanishlab.sweep.files import fs_name

runner = CliRunner()

# --- cli/params.py: values shaped like options ---


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--workers", "1", "--workers", "--help"], "--workers --help looks like an option"),
        (["--out", "a", "--out", "-h"], "--out -h looks like an option, not a directory"),
    ],
)
def test_a_repeat_whose_value_looks_like_an_option_is_refused_as_an_option(
    tmp_path, monkeypatch, args, said
):
    """Every value is looked at before the count (single's comment): "--workers 1 --workers
    --help" meant the help, not a second --workers. Looking at the first value alone, or at the
    one value after the count, said "--workers given 2 times (1, --help)"."""
    monkeypatch.chdir(tmp_path)
    one_error_line(runner.invoke(app, ["sweep", *args, "--dry-run"]), said)


def test_a_list_option_s_later_value_that_looks_like_an_option_is_refused(tmp_path, monkeypatch):
    """merged looks at each value: looking at the first alone, "--gain 1 --gain --help" said
    "--gain: '--help' is not a number", a value's words."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sweep", "--gain", "1", "--gain", "--help", "--dry-run"])
    one_error_line(result, "error: --gain --help looks like an option, not a value")


def test_a_lone_double_dash_is_refused_as_an_option(tmp_path, monkeypatch):
    """``--``, what ends a command line's options, is no name or folder: taken as a value where
    it is ``--`` alone, ``sweep --name -- --dry-run`` printed the plan of a run named "--"."""
    monkeypatch.chdir(tmp_path)
    one_error_line(
        runner.invoke(app, ["sweep", "--name", "--", "--dry-run"]),
        "error: --name -- looks like an option, not a value",
    )
    one_error_line(
        runner.invoke(app, ["sweep", "--out", "--", "--dry-run"]),
        "error: --out -- looks like an option, not a directory; give a directory (./-- for",
    )
    assert list(tmp_path.iterdir()) == []


def test_seeds_shaped_like_an_option_are_refused_before_the_experiment_loads(tmp_path, monkeypatch):
    """``--seeds`` is read with the axis flags, before the experiment: read after it,
    ``sweep nosuch --seeds -q`` said "no experiment named 'nosuch'", where -q, taken as --seeds'
    value, was what went wrong."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sweep", "nosuch", "--seeds", "-q", "--dry-run"])
    one_error_line(result, "error: --seeds -q looks like an option, not a value")


# --- sweep/files.py: fs_name ---


def test_a_name_the_file_system_can_write_is_its_own_folder(monkeypatch):
    """A name the file system's encoding carries with its error handler (Python's escaped
    bytes under an ASCII locale) is kept as it is, not encoded again."""
    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: "ascii")
    monkeypatch.setattr(sys, "getfilesystemencodeerrors", lambda: "surrogateescape")
    escaped = "m\udcc3\udca9"  # mé's bytes, as sys.argv or os.listdir give them there
    assert fs_name(escaped) == escaped


# --- report/sections/trainability_panels.py: the gains drawn ---


def _with_gain_2_in(panel: int):
    """test_trainability_past_12_panels' table and one more cell, at gain 2, in ``panel``."""
    cells = _table()
    init = string.ascii_lowercase[panel]
    extra = cells[cells["init"] == init].iloc[[0]].assign(gain=2.0, cell_id="gain2")
    return pd.concat([cells, extra], ignore_index=True)


def test_a_gain_of_any_panel_drawn_is_in_every_legend():
    """The gains drawn are those of every panel drawn, not the first's: a gain-2 cell in the
    second panel was left out of each figure's legend (its lines drawn in gain 1's style)."""
    assert MAX_PANELS > 2
    cells = _with_gain_2_in(1)
    for figure in (_figure, _horizon_figure, outcome_figure):
        assert figure(cells, _view()).legend == ("1.0", "2.0"), figure.__name__


def test_no_gain_says_nothing():
    view = SimpleNamespace(varying=("gain",))
    assert one_gain([], view) == "" and one_gain([], view, [1.0, 2.0]) == ""
