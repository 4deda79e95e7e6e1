"""``vanishlab sweep``, ``inits`` and ``experiments``: typer's CliRunner, plus real processes."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from _cli_lines import one_error_line
from _refused_writes import refuse_writes_in
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.cli.stops import Terminated
from vanishlab.sweep.experiments import builtin_experiments_dir
from vanishlab.sweep.inits import INITS
from vanishlab.sweep.store import RunLock, read_cells

_HOLD_LOCK = (
    "import sys, time\nfrom vanishlab.sweep.store import RunLock\n"
    "lock = RunLock(sys.argv[1])\nlock.__enter__()\nprint('locked', flush=True)\n"
    "time.sleep(60)\n"
)
runner = CliRunner()
SMALL = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "2"]
# A sweep whose test is not of its workers measures in this process: a pool of one worker a
# core, each importing torch, took ~5 s of CPU a sweep; the cells are bit-identical on any
# number of workers (test_sweep's test_workers_are_bit_identical_to_one).
IN_PROCESS = ["--workers", "1"]


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


@pytest.fixture
def run_dir(smoke_run_dir, tmp_path) -> Path:
    """A private copy of a finished run (the default grid's smoke variant)."""
    return Path(shutil.copytree(smoke_run_dir, tmp_path / "run"))


def test_inits_lists_every_init_with_one_line():
    result = runner.invoke(app, ["inits"])
    assert result.exit_code == 0
    table, notes = result.stdout.strip().split("\n\n")
    header, *lines = table.splitlines()
    assert header.split() == ["init", "models", "mean", "field", "description"]
    assert [line.split()[0] for line in lines] == list(INITS)
    assert all(len(line.split(maxsplit=3)) == 4 for line in lines)
    # The models each applies to: what the error for an init on the wrong model points to.
    assert {line.split()[0]: line.split()[1] for line in lines} == {
        name: ",".join(init.models) for name, init in INITS.items()
    }
    assert {line.split()[0]: line.split()[2] for line in lines} == {
        name: init.validity for name, init in INITS.items()
    }
    # What --gain multiplies (Init.gain_on): the docs pointed here, and it was not shown.
    for name, init in INITS.items():
        (rule,) = [n for n in notes.splitlines() if n.startswith("--gain") and f" {name}" in n]
        assert rule.endswith(f": {init.gain_on}."), name


def test_experiments_lists_modules_with_descriptions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "mine.py").write_text('"""Mine."""\n')
    result = runner.invoke(app, ["experiments"])
    assert result.exit_code == 0
    modules, folders = result.stdout.strip().split("\n\n")
    listed = {line.split()[0]: line for line in modules.splitlines()}
    assert {"seq_len", "activation_init", "depth", "gain_phase", "mine"} <= set(listed)
    assert "Gain phase diagram" in listed["gain_phase"]
    # Where they come from, in the order a name is looked up: it said nothing of it.
    here, builtin = Path.cwd() / "experiments", builtin_experiments_dir()
    assert folders.endswith(f": {here} (working directory), {builtin} (built in)"), folders


def test_the_quick_grid_is_named_default_where_users_look(tmp_path, monkeypatch):
    """The quick grid's runs are named default (runs/default, reports/default.html, the dry
    run's first line), yet `vanishlab sweep default` said "no experiment named 'default'" and
    `vanishlab experiments` did not list it: it is now an experiment name, listed, found by
    `vl.load_experiment`, and `sweep default` is `sweep` (the same run, resumed alike)."""
    from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT

    monkeypatch.chdir(tmp_path)
    # the dry runs say the memory available, read afresh by each: another process's use read
    # "20.8 GiB is available" in one, "20.7 GiB" in the other (helper 447); one figure for both
    monkeypatch.setattr("vanishlab.sweep.plan.available_bytes", lambda: 16 * 2**30)
    listed = runner.invoke(app, ["experiments"]).stdout.split("\n\n")[0].splitlines()
    line = next(x for x in listed if x.split()[0] == "default")
    assert "Quick default grid: " in line and line.endswith("runs with no EXPERIMENT")
    assert vl.load_experiment("default") is DEFAULT_EXPERIMENT
    named = runner.invoke(app, ["sweep", "default", "--smoke", "--dry-run"])
    plain = runner.invoke(app, ["sweep", "--smoke", "--dry-run"])
    assert named.exit_code == plain.exit_code == 0 and named.stdout == plain.stdout
    assert named.stdout.startswith("default-smoke: ")
    said = one_error_line(runner.invoke(app, ["sweep", "defualt", "--dry-run"]), "'defualt'")
    assert "(did you mean 'default'?)" in said and ", default, " in said
    # A module of that name comes first, as ./experiments comes before the built-in ones.
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "default.py").write_text(
        '"""Mine."""\nimport vanishlab as vl\nSWEEP = vl.Sweep(hidden_size=4)\n'
    )
    assert vl.load_experiment("default").path == tmp_path / "experiments" / "default.py"
    listed = runner.invoke(app, ["experiments"]).stdout.split("\n\n")[0].splitlines()
    assert [x.split()[1:] for x in listed if x.split()[0] == "default"] == [["Mine."]]


def test_an_experiments_that_is_a_file_is_said_to_be_left_out(tmp_path, monkeypatch):
    """A file ./experiments was left out of the search in silence: the listing and a name not
    found named the built-in folder alone."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").write_text("my notes")
    note = f"{tmp_path / 'experiments'} is not a folder, so it is not searched"
    result = runner.invoke(app, ["experiments"])
    assert result.exit_code == 0 and result.stdout.strip().endswith(f" (built in); {note}")
    result = runner.invoke(app, ["sweep", "nosuch", "--dry-run"])
    one_error_line(result, f"(looked in {builtin_experiments_dir()}; {note})")
    assert (tmp_path / "experiments").read_text() == "my notes"


@pytest.mark.parametrize(
    ("target", "words"),
    [("gone", "is a symbolic link to nothing"), ("experiments", "is a symbolic link that loops")],
)
def test_an_experiments_that_is_a_broken_link_is_said_to_be_one(
    tmp_path, monkeypatch, target, words
):
    """A ./experiments that links to nothing (a moved folder) was said to be "not a folder",
    which sent the user looking for a file there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").symlink_to(tmp_path / target)
    note = f"{tmp_path / 'experiments'} {words}, so it is not searched"
    result = runner.invoke(app, ["experiments"])
    assert result.exit_code == 0 and result.stdout.strip().endswith(f" (built in); {note}")
    result = runner.invoke(app, ["sweep", "nosuch", "--dry-run"])
    one_error_line(result, f"(looked in {builtin_experiments_dir()}; {note})")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda p: p.symlink_to(p.parent / "moved.py"),
            "is a symbolic link to nothing; restore its target (or the experiment module in its "
            "place)",
        ),
        (  # "mend it" was said of a loop, which has no target to restore
            lambda p: p.symlink_to(p),
            "is a symbolic link that loops; a loop has no target to restore: replace it with the "
            "experiment module (or a link to one)",
        ),
        (lambda p: p.mkdir(), "is not a file; mend it"),
    ],
    ids=["to-nothing", "loops", "folder"],
)
def test_a_name_whose_module_is_a_broken_link_is_said_to_be_one(tmp_path, monkeypatch, make, words):
    """./experiments/NAME.py a link to nothing (a moved module) was "no experiment named
    'NAME'", which sent the user looking for a module that is there (helper 368); one of a
    built-in's name let the built-in run in its place. Said in files.link_problem's words."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").mkdir()
    for name in ("mine", "gated"):
        make(module := tmp_path / "experiments" / f"{name}.py")
        result = runner.invoke(app, ["sweep", name, "--dry-run"])
        one_error_line(result, f"experiment '{name}': {module} {words}, or remove it")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiments"]


def test_dry_run_prints_the_grid_and_runs_nothing(tmp_path, monkeypatch):
    # in an empty directory: the README's own `vanishlab sweep gain_phase` may have made
    # runs/gain_phase in the checkout, and a dry run must create no runs/ at all
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "never"
    result = runner.invoke(app, ["sweep", "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "96 cells" in result.stdout and "new run directory" in result.stdout
    assert "init         default, orthogonal, normal, identity" in result.stdout
    result = runner.invoke(
        app, ["sweep", "gain_phase", "--gain", "0.5,1", "--seeds", "2", "--dry-run"]
    )
    assert result.exit_code == 0, result.stderr
    assert "gain         0.5, 1.0" in result.stdout and "seed         0, 1" in result.stdout
    assert "24 cells -> runs/gain_phase-gain=0.5,1.0-seed=0,1 (new run directory)" in result.stdout
    assert not out.exists() and not Path("runs").exists()


def test_dry_run_estimates_the_time_by_each_cells_cost(tmp_path, monkeypatch):
    """--dry-run printed the memory a sweep needs but not its time. It now says the cells' time
    by sweep/cost.py's cell_cost (the sweep's own weight of a cell), summed on one thread and
    shared among the workers the run would start, and the longest cell's."""
    from vanishlab.sweep import cost

    monkeypatch.setattr(cost, "cell_cost", lambda c: 100.0 if c.hidden_size == 8 else 10.0)
    args = ["sweep", *SMALL, "--hidden-size", "8", "--seeds", "3", "--dry-run"]
    args += ["--activation", "tanh", "--num-layers", "1", "--init", "default", "--gain", "1"]
    args += ["--out", str(tmp_path / "run")]
    monkeypatch.setattr(cost, "START_S", 2.0)  # the sweep's start, and its pool's
    monkeypatch.setattr(cost, "WORKER_START_S", 1.0)
    two = runner.invoke(app, [*args, "--workers", "2"])
    assert two.exit_code == 0, two.stderr
    # 3 cells of 100 s and 3 of 10 s: 330 s, 165 s each in 2 workers; then the start
    assert (
        "time: 6 cells to run, about 2 min 48 s in 2 workers (about 5 min 32 s on one CPU "
        "thread), with the sweep's start (about 3.0 s; about 2.0 s on one thread); the longest "
        "cell about 1 min 40 s\n"
    ) in two.stdout
    one = runner.invoke(app, [*args, "--workers", "1"])
    assert (
        "time: 6 cells to run, about 5 min 32 s on one CPU thread, with the sweep's start "
        "(about 2.0 s); the longest cell about "
    ) in one.stdout
    # No worker waits on another for less than the longest cell: 6 workers take 100 s, not 55
    six = runner.invoke(app, [*args, "--workers", "6"])
    assert "about 1 min 43 s in 6 workers (about 5 min 32 s on one CPU thread)" in six.stdout
    # Past the longest time a duration writes, it says so, not "about —"
    monkeypatch.setattr(cost, "cell_cost", lambda c: 1e9)
    absurd = runner.invoke(app, [*args, "--workers", "1"])
    assert "to run, over ten years on one CPU thread, with the sweep's start" in absurd.stdout
    assert "; the longest cell over ten years" in absurd.stdout
    # A cell of a few milliseconds is under 0.1 s, not "about 0.0 s" (no time at all); the
    # command is its start: "under 0.1 s" for a sweep that took 2.2 s of CPU
    monkeypatch.setattr(cost, "cell_cost", lambda c: 0.004)
    tiny = runner.invoke(app, [*args, "--workers", "1"])
    assert "about 0.0 s" not in tiny.stdout
    assert (
        "to run, about 2.0 s on one CPU thread, with the sweep's start (about 2.0 s); the "
        "longest cell under 0.1 s"
    ) in tiny.stdout


def test_dry_run_reports_what_is_done(run_dir):
    result = runner.invoke(app, ["sweep", "--smoke", "--dry-run", "--out", str(run_dir)])
    assert result.exit_code == 0, result.stderr
    assert "8 cells" in result.stdout and "8 already done" in result.stdout
    assert "time: no cell to run\n" in result.stdout  # nothing left to measure
    result = runner.invoke(
        app, ["sweep", "--smoke", "--gain", "3", "--dry-run", "--out", str(run_dir)]
    )
    assert "needs --force" in result.stdout
    # The run refuses another grid without --force: its dry run exited 0 all the same. It now
    # refuses with the run's own line and status, after its plan.
    real = runner.invoke(app, ["sweep", "--smoke", "--gain", "3", "--out", str(run_dir)])
    one_error_line(real, "holds a different grid (gain")
    one_error_line(result, "holds a different grid (gain")
    assert result.stderr == real.stderr
    # Given --force, it said "(needs --force)" all the same.
    result = runner.invoke(
        app, ["sweep", "--smoke", "--gain", "3", "--dry-run", "--force", "--out", str(run_dir)]
    )
    assert result.exit_code == 0, result.stderr
    assert "not in its grid (added by --force)" in result.stdout
    assert "needs --force" not in result.stdout
    assert "time: 8 cells to run, about " in result.stdout  # those of gain 3 alone


def test_the_dry_run_of_a_resumed_run_is_titled_with_the_name_the_run_keeps(run_dir):
    """Without --name, a resumed run keeps its manifest's name (--name's help says so), but its
    dry run was titled with the name of --out, which the run does not use."""
    from vanishlab.sweep.store import write_manifest

    manifest = vl.load_manifest(run_dir)
    write_manifest(run_dir, {**manifest, "name": "kept name"})
    args = ["sweep", "--smoke", "--out", str(run_dir)]
    plan = runner.invoke(app, [*args, "--dry-run"])
    assert plan.exit_code == 0, plan.stderr
    assert plan.stdout.startswith("kept name: Smoke variant")
    plan = runner.invoke(app, [*args, "--dry-run", "--name", "new name"])
    assert plan.stdout.startswith("new name: Smoke variant")
    assert runner.invoke(app, [*args, "--quiet"]).exit_code == 0
    assert vl.load_manifest(run_dir)["name"] == "kept name"  # as the plan said


def test_dry_run_says_what_retry_failed_does_when_it_is_given(tmp_path):
    """Given --retry-failed, the plan still said "(--retry-failed measures them again)"."""
    # relu at gain 20 overflows: two cells, both failed (a result, measured again on request)
    grid = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "60", "--batch", "2"]
    grid += ["--activation", "relu", "--init", "identity", "--gain", "20", "--num-layers", "1"]
    args = ["sweep", *grid, "--out", str(tmp_path / "r")]
    assert runner.invoke(app, [*args, "--workers", "1", "--quiet"]).exit_code == 0
    plan = runner.invoke(app, [*args, "--dry-run"])
    # Both failed by overflow, a result: a retry measures the same (as the run's own line says).
    overflow = "2 of them failed (by overflow, a result: --retry-failed would measure the same)"
    assert f"(2 already done, {overflow})" in plan.stdout
    plan = runner.invoke(app, [*args, "--dry-run", "--retry-failed"])
    assert plan.exit_code == 0, plan.stderr
    assert "--retry-failed measures them again" not in plan.stdout
    assert "2 of them failed (to be measured again, as --retry-failed asks)" in plan.stdout
    run = runner.invoke(app, [*args, "--retry-failed", "--workers", "1"])
    assert "2 cells, 2 run, 0 skipped" in run.stdout  # as the plan said


def test_sweep_runs_resumes_and_summarises(tmp_path):
    out = tmp_path / "run"
    args = ["sweep", "depth", "--smoke", "--out", str(out), "--workers", "1", "--name", "d"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("sweep d: 6 cells, 6 run, 0 skipped")
    assert str(out) in result.stdout
    manifest = vl.load_manifest(out)
    assert manifest["experiment"] == "depth" and manifest["sections"] == [
        "decay",
        "depth",
        "rates",
    ]
    result = runner.invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0 and result.stdout == f"{out}\n"  # the run directory alone
    assert "6 skipped" in str(vl.run_sweep("depth", out, smoke=True, workers=1, progress=False))


def test_axis_flags_override_the_experiment(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["sweep", "seq_len", "--smoke", "--seq-len", "3,6", "--activation", "relu",
         "--init", "identity", "--gain", "0.5", "--seeds", "2", "--bias", "false",
         "--out", str(out), "--quiet", *IN_PROCESS],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    cells = vl.load_cells(out)
    assert len(cells) == 4 and set(cells["seq_len"]) == {3, 6} and set(cells["seed"]) == {0, 1}
    assert set(cells["init"]) == {"identity"} and not cells["bias"].any()
    assert set(cells["hidden_size"]) == {8}  # from the smoke variant


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--activation", "tanh,sigmoid"], "unknown activation 'sigmoid'"),
        (["--init", "he"], "unknown init 'he'"),
        (["--hidden-size", "0"], "--hidden-size: must be at least 1, got 0"),
        (["--seq-len", "-5"], "--seq-len: must be at least 1, got -5"),
        (["--num-layers", "1,,2"], "--num-layers: malformed list '1,,2'"),
        (["--gain", "1,,x"], "--gain: malformed list '1,,x'"),
        (["--gain", "x"], "--gain: 'x' is not a number"),
        (["--batch", "2.5"], "--batch: '2.5' is not an integer"),
        (["--dtype", "half"], "unknown dtype 'half'"),
        (["--bias", "maybe"], "'maybe' is not true or false"),
        (["--workers", "0"], "--workers: must be at least 1, got 0"),
        (["--workers", "two"], "--workers: 'two' is not an integer"),
        # int() took these as 10 and 2, in silence, as the axis flags' parser no longer does
        (["--seeds", "1_0"], "--seeds: '1_0' is not an integer"),
        (["--workers", "\u0662"], "--workers: '\u0662' is not an integer"),
        (["--seeds", "0"], "--seeds: must be at least 1, got 0"),
        (["--seeds", "2", "--seed", "1"], "either --seeds N or --seed LIST"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "exclude each other"),
        (["--gain", "3"], "holds a different grid (gain [1.0] -> [3.0]"),
        (["--gain", "3"], "give --out another directory, or pass --force to"),
        (["nope"], "no experiment named 'nope' (looked in "),
        # a misspelt name got the list alone, as an axis value's does not
        (["gatd"], "no experiment named 'gatd' (did you mean 'gated'?) (looked in "),
        (["missing/module.py"], "experiment file missing/module.py does not exist"),
        (["/"], "experiment file / is not a file"),  # a folder: it said "does not exist"
    ],
)
def test_bad_input_is_one_line_exit_2_and_harmless(run_dir, args, message):
    before = _snapshot(run_dir)
    result = runner.invoke(app, ["sweep", "--smoke", *args, "--out", str(run_dir)])
    one_error_line(result, message)
    assert _snapshot(run_dir) == before


def test_a_module_named_without_py_is_pointed_to(run_dir, tmp_path):
    (tmp_path / "study.py").write_text('"""Study."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\n')
    result = runner.invoke(app, ["sweep", str(tmp_path / "study"), "--out", str(run_dir)])
    one_error_line(result, f"does not exist (did you mean {tmp_path / 'study.py'}?)")


def test_an_experiment_file_that_is_a_symbolic_link_to_nothing_is_said_to_be_one(
    tmp_path, monkeypatch
):
    """It was said not to exist, as ./experiments/ that is one is said to be one (its note)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.py").symlink_to(tmp_path / "moved.py")
    for ref in ("study.py", str(tmp_path / "study.py")):
        result = runner.invoke(app, ["sweep", ref, "--dry-run"])
        one_error_line(
            result,
            f"experiment file {ref} is a symbolic link to nothing; restore its target (or the "
            "experiment module in its place)",
        )


def test_an_experiment_file_that_loops_is_told_what_to_do(tmp_path, monkeypatch):
    """It was said to loop and nothing more; a loop has no target to restore."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.py").symlink_to(tmp_path / "study.py")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for ref, words in (
        (
            "study.py",
            "is a symbolic link that loops; a loop has no target to restore: replace "
            "it with the experiment module (or a link to one)",
        ),
        (
            "loop/study.py",
            "lies in loop, a symbolic link that loops; a loop has no target to "
            "restore: replace loop with the folder it stood for (or a link to one)",
        ),
    ):
        result = runner.invoke(app, ["sweep", ref, "--dry-run"])
        one_error_line(result, f"experiment file {ref} {words}")


BROKEN = {
    "raises.py": (
        '"""Raises."""\nraise RuntimeError("boom")\n',
        "failed to import: RuntimeError: boom",
    ),
    "syntax.py": ('"""Bad."""\nSWEEP = (\n', "failed to import: SyntaxError"),
    # "(found NoneType)" said a module without SWEEP, as if it set SWEEP = None
    "empty.py": ('"""No sweep."""\n', "must define SWEEP = vanishlab.Sweep(...) (it defines no"),
    "wrongtype.py": ('"""Dict."""\nSWEEP = {"gain": [1]}\n', "Sweep(...) (its SWEEP is a dict)"),
    "none.py": ('"""None."""\nSWEEP = None\n', "Sweep(...) (its SWEEP is None)"),
    "badinit.py": (
        '"""Bad init."""\nimport vanishlab as vl\nSWEEP = vl.Sweep(init="he")\n',
        "failed to import: VanishlabError: unknown init 'he'",
    ),
    "typoaxis.py": (  # Python's "Sweep.__init__() got an unexpected keyword argument"
        '"""Typo."""\nimport vanishlab as vl\nSWEEP = vl.Sweep(activaton="relu")\n',
        "TypeError: Sweep() got an unknown axis 'activaton' (did you mean 'activation'?)",
    ),
    "badsmoke.py": (
        '"""Bad smoke."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\nSMOKE = 3\n',
        "SMOKE must be a vanishlab.Sweep",
    ),
    "badsections.py": (
        '"""Bad sections."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\nSECTIONS = "decay"\n',
        "SECTIONS must be a list or tuple of section names",
    ),
    "nosmoke.py": ('"""No smoke."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\n', "no SMOKE"),
    "intsections.py": (  # a TypeError traceback
        '"""Int."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\nSECTIONS = 5\n',
        "SECTIONS must be a list or tuple of section names",
    ),
    "exits.py": (  # it ended the sweep with status 0 and no word
        '"""Exits."""\nraise SystemExit(0)\n',
        "exits.py exited while it was imported: SystemExit: 0",
    ),
    "cancelled.py": (  # a BaseException, not an Exception: a traceback, status 1
        '"""Cancelled."""\nimport asyncio\nraise asyncio.CancelledError\n',
        "cancelled.py failed to import: CancelledError",
    ),
    "generatorexit.py": (
        '"""Closed."""\nraise GeneratorExit("closed")\n',
        "generatorexit.py failed to import: GeneratorExit: closed",
    ),
    "argparser.py": (  # a script made an experiment: its parser read the sweep's arguments
        '"""Script."""\nimport argparse\nargparse.ArgumentParser().parse_args()\n',
        "exited while it was imported: SystemExit: 2",
    ),
    "study.txt": (  # "failed to import: VanishlabError: cannot load experiment module"
        '"""Not .py."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\n',
        "study.txt is not a Python file (.py)",
    ),
    "typosections.py": (  # it swept, and its run could never be reported
        '"""Typo."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\nSECTIONS = ["decya"]\n',
        "SECTIONS: unknown report section 'decya' (did you mean 'decay'?)",
    ),
}


@pytest.mark.parametrize("filename", sorted(BROKEN))
def test_broken_experiment_module(run_dir, tmp_path, filename, monkeypatch):
    source, message = BROKEN[filename]
    module = tmp_path / filename
    module.write_text(source)
    before = _snapshot(run_dir)
    args = ["sweep", str(module), "--smoke", "--out", str(run_dir)]
    # The command line a module sees is the sweep's, as from a shell, not pytest's own (a bare
    # `pytest`, or a pytest-xdist worker, would give argparse nothing to refuse).
    monkeypatch.setattr(sys, "argv", ["vanishlab", *args])
    result = runner.invoke(app, args)
    one_error_line(result, message)
    assert _snapshot(run_dir) == before


def _sweep_file_registering(module, out, init_name: str, workers: str = "2"):
    """``vanishlab sweep MODULE --out OUT --workers N --quiet`` of an experiment file that
    registers the init ``init_name``, which is unregistered afterwards, whatever happens."""
    try:
        args = ["sweep", str(module), "--out", str(out), "--workers", workers, "--quiet"]
        return runner.invoke(app, args)
    finally:
        vl.INITS.pop(init_name, None)


def test_an_init_registered_in_an_experiment_file_runs_in_worker_processes(tmp_path):
    # Loaded by path under a name no import finds, its init function could not be unpickled
    # in a worker: "a worker process died (out of memory?)", and no cell was measured.
    module = tmp_path / "myinit.py"
    module.write_text(
        '"""My init: the identity."""\nimport torch\nimport vanishlab as vl\n\n\n'
        "def _init(rnn, gain, generator):\n"
        '    vl.INITS["default"].apply(rnn, gain, generator)\n'
        "    with torch.no_grad():\n"
        "        rnn.weight_hh_l0.copy_(gain * torch.eye(rnn.hidden_size))\n\n\n"
        'vl.register_init(vl.Init("myeye_test", "identity", _init), replace=True)\n'
        'SWEEP = vl.Sweep(init=("myeye_test", "default"), hidden_size=4, input_size=2, '
        "seq_len=5, batch=1, seed=(0, 1))\n"
    )
    out = tmp_path / "run"
    result = _sweep_file_registering(module, out, "myeye_test")
    assert result.exit_code == 0, result.stderr
    assert len(vl.load_cells(out)) == 4 and set(vl.load_cells(out)["status"]) == {"ok"}


@pytest.mark.parametrize(
    ("workers", "lever"), [("1", ""), ("2", ", or fewer --workers (workers=) beside it")]
)
def test_a_cell_refused_memory_names_the_workers_beside_it_only_where_there_are(
    tmp_path, workers, lever
):
    # Its reason said "or fewer workers beside it (--workers)" at --workers 1 too, where there
    # are none: the lever is named in worker processes only (a real pool, not a monkeypatch).
    # Three cells: run_processes submits the first `workers` with Ctrl-C held and the rest
    # after; a mutant submitting the rest without "workers" passed with two cells at 2.
    module = tmp_path / "refused.py"
    module.write_text(
        "import vanishlab as vl\n\n\n"
        "def _init(rnn, gain, generator):\n"
        "    raise RuntimeError('[enforce fail at alloc_cpu.cpp:127] err == 0. "
        "DefaultCPUAllocator: can\\'t allocate memory: you tried to allocate 2048 bytes.')\n\n\n"
        'vl.register_init(vl.Init("refused_test", "refused", _init), replace=True)\n'
        'SWEEP = vl.Sweep(init="refused_test", hidden_size=4, input_size=2, seq_len=5, batch=1, '
        "seed=(0, 1, 2))\n"
    )
    alone = (
        "MemoryRefusedError: the cell needs more memory than this machine could give (2.0 KiB "
        "at once): sweep a smaller --batch (batch=), --seq-len (seq_len=), --hidden-size "
        "(hidden_size=) or --num-layers (num_layers=)"
    )
    out = tmp_path / "run"
    result = _sweep_file_registering(module, out, "refused_test", workers)
    assert result.exit_code == 1, result.stderr
    assert list(read_cells(out)["reason"]) == [alone + lever] * 3  # as stored


@pytest.mark.parametrize(
    ("death", "said"),
    [
        (
            "os.kill(os.getpid(), signal.SIGKILL)",
            "error: a worker process was killed by SIGKILL (sent by the kernel's out-of-memory "
            "killer when memory runs short, or by kill -9); no cell is saved yet (OUT keeps its "
            "manifest); run the same command to start again, perhaps with fewer --workers",
        ),
        (
            "os._exit(3)",
            "error: a worker process exited with status 3 before handing back its cell; no cell "
            "is saved yet (OUT keeps its manifest); run the same command to start again",
        ),
        (  # multiprocessing's code for a status it could not read: the worker's own here
            "os._exit(255)",
            "error: a worker process exited with status 255 before handing back its cell; no "
            "cell is saved yet (OUT keeps its manifest); run the same command to start again",
        ),
        (  # the forkserver, the workers' parent (never this process: the test's pid is kept)
            f"os.getppid() != {os.getpid()} and os.kill(os.getppid(), signal.SIGKILL); "
            "__import__('time').sleep(60)",
            "error: the process that starts the worker processes (multiprocessing's forkserver) "
            "was killed by SIGKILL, which stopped them; no cell is saved yet (OUT keeps its "
            "manifest); run the same command to start again; --workers 1 measures in this process",
        ),
    ],
    ids=["SIGKILL", "exit", "exit-255", "forkserver-killed"],
)
def test_a_worker_that_dies_is_said_by_its_exit_code(tmp_path, death, said):
    """Every death was "a worker process died (out of memory?)": a kill -9, a crash, a worker's
    own exit alike. The parent knows the exit code: -9 is SIGKILL, the out-of-memory killer's
    signal (or a user's), and only then is memory (and the lever, its flag first) named. What
    the folder keeps is looked at after the death: "finished cells are kept" was said where
    none had finished. A forkserver killed (kill -9 of its pid) lost its workers' statuses,
    each read as 255: "a worker process exited with status 255" was said; a worker's own
    exit(255) still is."""
    module = tmp_path / "dies.py"
    module.write_text(
        "import os\nimport signal\n\nimport vanishlab as vl\n\n\n"
        "def _init(rnn, gain, generator):\n"
        f"    {death}\n\n\n"
        'vl.register_init(vl.Init("dies_test", "dies", _init), replace=True)\n'
        'SWEEP = vl.Sweep(init="dies_test", hidden_size=4, input_size=2, seq_len=5, batch=1, '
        "seed=(0, 1))\n"
    )
    out = tmp_path / "run"
    result = _sweep_file_registering(module, out, "dies_test")
    one_error_line(result, said.replace("OUT", str(out)))


@pytest.mark.parametrize("workers", ["1", pytest.param("2", marks=pytest.mark.slow)])
def test_a_cells_error_is_said_in_the_command_lines_words_in_any_process(tmp_path, workers):
    """A cell's VanishlabError naming an option for both surfaces ("--gain (gain=)") was
    stored in Python's words where a worker process measured it (no command runs there): the
    sweep's line said "gain=" with --workers 2 (and on Dask), "--gain" with --workers 1. The
    reason keeps both names now, as a memory refusal's does; the line says the flag."""
    module = tmp_path / "refuses.py"
    module.write_text(
        "import vanishlab as vl\n\n\n"
        "def _init(rnn, gain, generator):\n"
        '    raise vl.VanishlabError("--gain (gain=) 2.0 is refused by this init")\n\n\n'
        'vl.register_init(vl.Init("refuses_test", "refuses", _init), replace=True)\n'
        'SWEEP = vl.Sweep(init="refuses_test", hidden_size=4, input_size=2, seq_len=5, batch=1, '
        "seed=(0, 1))\n"
    )
    out = tmp_path / "run"
    result = _sweep_file_registering(module, out, "refuses_test", workers)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines() == [
        "failed: 2 cells, error (rerun with --retry-failed once fixed); e.g. VanishlabError: "
        "--gain 2.0 is refused by this init"
    ]
    assert set(read_cells(out)["reason"]) == {
        "VanishlabError: --gain (gain=) 2.0 is refused by this init"
    }


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_a_worker_that_dies_after_some_cells_says_how_many_are_kept(tmp_path):
    """kill -9 of a worker once cells had finished: the line counts the shards the folder
    keeps, looked at after the death, as a Ctrl-C's does (the dying cell waits for the other
    worker's two to be written)."""
    out = tmp_path / "run"
    module = tmp_path / "dies_late.py"
    module.write_text(
        "import os\nimport signal\nimport time\nfrom pathlib import Path\n\n"
        "import vanishlab as vl\n\n\n"
        "def _init(rnn, gain, generator):\n"
        '    vl.INITS["default"].apply(rnn, gain, generator)\n'
        "    if gain == 2.0:\n"
        "        end = time.monotonic() + 60\n"
        f"        while len(list(Path({str(out)!r}).glob('cells/*.parquet'))) < 2:\n"
        "            assert time.monotonic() < end\n"
        "            time.sleep(0.02)\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n\n\n"
        'vl.register_init(vl.Init("dies_late_test", "dies", _init), replace=True)\n'
        'SWEEP = vl.Sweep(init="dies_late_test", gain=(1.0, 1.5, 2.0), hidden_size=4, '
        "input_size=2, seq_len=5, batch=1)\n"
    )
    result = _sweep_file_registering(module, out, "dies_late_test")
    one_error_line(
        result,
        "or by kill -9); 2 finished cells kept in "
        f"{out}; run the same command to resume, perhaps with fewer --workers",
    )


def test_an_experiment_file_imports_a_module_beside_it_here_and_in_workers(tmp_path):
    """`from mylib import thing` in an experiment file failed to import ("No module named
    'mylib'"): its folder was not on sys.path, as a script's is. With the folder on it while
    the file runs, a worker then died unpickling an init whose functions came from mylib."""
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "vl_beside_test_lib.py").write_text(
        "import vanishlab as vl\n\nGAINS = (0.5, 1.0)\n\n\n"
        "def apply(rnn, gain, generator):\n"
        '    vl.INITS["orthogonal"].apply(rnn, gain, generator)\n'
    )
    (folder / "beside.py").write_text(
        '"""Helpers beside it."""\nimport vanishlab as vl\n'
        "from vl_beside_test_lib import GAINS, apply\n\n"
        'vl.register_init(vl.Init("beside_test", "orthogonal", apply), replace=True)\n'
        'SWEEP = vl.Sweep(init="beside_test", gain=GAINS, hidden_size=4, input_size=2, '
        "seq_len=5, batch=1)\n"
    )
    path_before = list(sys.path)
    try:
        for workers in ("1", "2"):
            out = tmp_path / f"run{workers}"
            args = ["sweep", str(folder / "beside.py"), "--out", str(out), "--quiet"]
            result = runner.invoke(app, [*args, "--workers", workers])
            assert result.exit_code == 0, result.stderr
            cells = vl.load_cells(out)
            assert len(cells) == 2 and set(cells["status"]) == {"ok"}, cells["reason"]
    finally:
        vl.INITS.pop("beside_test", None)
        sys.modules.pop("vl_beside_test_lib", None)
    assert sys.path == path_before  # the folder was there while the file ran, and only then


def test_an_axis_flag_may_name_an_init_the_experiment_file_registers(tmp_path):
    """`vanishlab sweep mine.py --init mine` said "unknown init 'mine'": the flags were parsed
    before the module that registers it was loaded."""
    module = tmp_path / "mine.py"
    module.write_text(
        '"""Mine."""\nimport vanishlab as vl\n\n\n'
        "def _init(rnn, gain, generator):\n"
        '    vl.INITS["orthogonal"].apply(rnn, gain, generator)\n\n\n'
        'vl.register_init(vl.Init("mine_flag_test", "orthogonal", _init), replace=True)\n'
        "SWEEP = vl.Sweep(hidden_size=4, input_size=2, seq_len=5, batch=1)\n"
    )
    out = tmp_path / "run"
    assert "mine_flag_test" not in vl.INITS
    try:
        args = ["sweep", str(module), "--init", "mine_flag_test", "--out", str(out), "--quiet"]
        result = runner.invoke(app, [*args, "--workers", "1"])
    finally:
        vl.INITS.pop("mine_flag_test", None)
    assert result.exit_code == 0, result.stderr
    assert list(vl.load_cells(out)["init"]) == ["mine_flag_test"]


def test_experiment_by_path_with_sections(tmp_path):
    module = tmp_path / "mine.py"
    module.write_text(
        '"""My study: tiny.\n\nMore text."""\nimport vanishlab as vl\n'
        "SWEEP = vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2, gain=(0.5, 1))\n"
        'SECTIONS = ["decay"]\n'
    )
    out = tmp_path / "run"
    result = runner.invoke(app, ["sweep", str(module), "--out", str(out), "--quiet", *IN_PROCESS])
    assert result.exit_code == 0, result.stderr
    manifest = vl.load_manifest(out)
    assert manifest["experiment"] == "mine" and manifest["description"] == "My study: tiny."
    assert manifest["sections"] == ["decay"] and manifest["n_cells"] == 2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "cells" / "stray.csv").write_text("a,b"), "stray.csv is not a valid"),
        (lambda d: (d / "cells" / "x.parquet").write_bytes(b"PAR1junk"), "corrupt parquet"),
        (lambda d: (d / "manifest.json").write_text("{"), "manifest.json is corrupt"),
    ],
)
def test_corrupt_run_directory(run_dir, make, message):
    make(run_dir)
    before = _snapshot(run_dir)
    result = runner.invoke(app, ["sweep", "--smoke", "--out", str(run_dir)])
    one_error_line(result, message)
    assert _snapshot(run_dir) == before


def test_a_shard_from_another_run_is_kept_and_named_when_resuming(run_dir, tmp_path):
    """A sound shard copied in from another run: the report lists it under Anomalies ("Cells
    outside the run's grids") and vl.load_cells counts it, but resuming the sweep said nothing
    about it ("8 cells, 0 run, 8 skipped")."""
    other = tmp_path / "other"
    grid = vl.Sweep(gain=0.7, hidden_size=4, input_size=2, seq_len=4, batch=2)
    vl.run_sweep(grid, other, workers=1, progress=False)
    (shard,) = (other / "cells").glob("*.parquet")
    copied = run_dir / "cells" / shard.name
    shutil.copy(shard, copied)
    cells = _snapshot(run_dir / "cells")
    args = ["sweep", "--smoke", "--workers", "1", "--out", str(run_dir)]
    for quiet in ([], ["--quiet"]):
        result = runner.invoke(app, [*args, *quiet])
        assert result.exit_code == 0, result.stderr
        warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
        assert len(warnings) == 1, result.stderr
        assert warnings[0].startswith(f"warning: {copied}: ") and "none of this run" in warnings[0]
        assert "move it out of the run directory" in warnings[0]
        assert (result.stderr.strip() == warnings[0]) == bool(quiet)
        assert "0 run, 8 skipped" in result.stdout or quiet
        assert _snapshot(run_dir / "cells") == cells  # kept, nothing overwritten
    # The library and the report keep it as well: the three agree.
    assert shard.stem in set(vl.load_cells(run_dir)["cell_id"])
    result = runner.invoke(app, ["sweep", "--smoke", "--dry-run", "--out", str(run_dir)])
    assert result.exit_code == 0 and "1 shard of a cell in none of its grids" in result.stdout


def test_foreign_directory_and_lock(run_dir, tmp_path):
    other = tmp_path / "home"
    other.mkdir()
    (other / "notes.md").write_text("mine")
    result = runner.invoke(app, ["sweep", "--smoke", "--out", str(other)])
    one_error_line(result, "is not empty and is not a vanishlab run directory")
    assert [p.name for p in other.iterdir()] == ["notes.md"]

    with RunLock(run_dir):  # held in this process
        result = runner.invoke(app, ["sweep", "--smoke", "--out", str(run_dir)])
    one_error_line(result, "is already open in this process")
    # the flag first, as every refusal of --out: it said "choose another out directory"
    assert result.stderr.rstrip().endswith(
        "; finish that one first or give --out another directory"
    )
    holder = subprocess.Popen(  # held by another process, which the refusal names
        [sys.executable, "-c", _HOLD_LOCK, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = runner.invoke(app, ["sweep", "--smoke", "--out", str(run_dir)])
    finally:
        holder.kill()
        holder.communicate()
    one_error_line(result, f"is in use by another vanishlab process (pid {holder.pid})")
    # it said "choose another out (--out)"
    assert result.stderr.rstrip().endswith("wait for it to finish or give --out another directory")


def test_a_run_whose_manifest_was_removed_is_named_so(run_dir):
    """A run whose manifest.json was deleted was "not empty and not a vanishlab run directory
    (no manifest.json); give --out a new or empty directory", as if its measured cells were
    nobody's. It is now named for what it is, with the way back first."""
    (run_dir / "manifest.json").unlink()
    result = runner.invoke(app, ["sweep", "--smoke", "--out", str(run_dir)])
    one_error_line(result, "holds measured cells (cells/) but no manifest.json")
    assert "restore manifest.json from a copy" in result.stderr
    assert any((run_dir / "cells").iterdir())  # nothing moved or removed


def test_force_extends(run_dir):
    result = runner.invoke(
        app,
        ["sweep", "--smoke", "--gain", "1,2", "--force", "--out", str(run_dir), "--quiet",
         *IN_PROCESS],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert vl.load_manifest(run_dir)["n_cells"] == 16
    assert len(vl.load_cells(run_dir)) == 16


def _in_bash(command: str) -> subprocess.CompletedProcess[str]:
    """``command`` run by bash (its redirections: ``2>&-``, ``>/dev/full``), its output kept."""
    return subprocess.run(
        command, shell=True, capture_output=True, text=True, executable="/bin/bash"
    )


def _vanishlab() -> list[str]:
    script = Path(sys.executable).parent / "vanishlab"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from vanishlab.cli import app; app()"]  # pragma: no cover


@pytest.mark.slow  # several seconds: the CI runs the slow tier
def test_real_process_end_to_end(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            *_vanishlab(),
            "sweep",
            "gain_phase",
            "--smoke",
            "--out",
            str(out),
        ],  # --workers: all cores
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("sweep run: 12 cells, 12 run, 0 skipped") and str(out) in summary
    assert len(vl.load_cells(out)) == 12 and vl.load_manifest(out)["finished"]

    bad = subprocess.run(
        [*_vanishlab(), "sweep", "--gain", "1,,x", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "error: --gain: malformed list '1,,x' (empty item; write values separated by commas, "
        "e.g. --gain 0.5,1,2)"
    ]


GATED_TINY = [*SMALL, "--init", "default", "--gain", "1", "--num-layers", "1", "--seed", "0"]


@pytest.mark.parametrize(
    "args",
    [
        ["--model", "lstm", "--activation", "relu"],
        ["--model", "lstm,gru", "--activation", "tanh,relu"],
        ["--model", "gru", "--activation", "tanh", "--activation", "relu"],
    ],
)
def test_an_activation_given_for_gated_models_only_is_refused(tmp_path, args):
    # --activation means nn.RNN(nonlinearity=...): with no rnn in the grid it would be dropped.
    out = tmp_path / "never"
    for extra in ([], ["--dry-run"]):
        result = runner.invoke(app, ["sweep", *GATED_TINY, *args, *extra, "--out", str(out)])
        one_error_line(result, "--activation applies to model rnn only")
        assert "relu" in result.stderr and "add rnn to --model" in result.stderr
    assert not out.exists()


def test_the_recorded_command_of_a_gated_only_grid_replays(tmp_path):
    """An experiment's activation axis (tanh, relu) beside --model lstm: the cells record no
    activation, and the command the manifest records must not hand --activation back to a
    sweep that refuses it."""
    out = tmp_path / "run"
    args = ["sweep", "activation_init", "--smoke", "--model", "lstm", *GATED_TINY]
    result = runner.invoke(app, [*args, "--out", str(out), "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    command = json.loads((out / "manifest.json").read_text())["command"]
    assert "--activation" not in command
    before = _snapshot(out / "cells")
    args = ["sweep", *shlex.split(command)[2:]]  # the command as the manifest has it
    replay = runner.invoke(app, [*args, "--quiet", "--workers", "1"])
    assert replay.exit_code == 0, replay.stderr
    assert _snapshot(out / "cells") == before  # the same cells: nothing new measured


def test_an_activation_beside_rnn_or_at_its_default_is_accepted(tmp_path):
    out = tmp_path / "run"
    args = ["sweep", *GATED_TINY, "--model", "rnn,lstm", "--activation", "tanh,relu"]
    result = runner.invoke(app, [*args, "--out", str(out), "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    cells = vl.load_cells(out)  # rnn: one cell per activation; lstm: one, activation n/a
    pairs = zip(cells["model"], cells["activation"].fillna("-"), strict=True)
    assert sorted(pairs) == [
        ("lstm", "-"), ("rnn", "relu"), ("rnn", "tanh"),
    ]  # fmt: skip
    # The default value with gated models only means nothing either, and changes nothing.
    args = ["sweep", *GATED_TINY, "--model", "lstm", "--activation", "tanh", "--dry-run"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "never")])
    assert result.exit_code == 0, result.stderr
    assert "1 cell -> " in result.stdout


@pytest.mark.parametrize("experiment", [[], ["activation_init", "--smoke"]])
def test_the_dry_run_of_a_gated_only_grid_lists_its_activation_as_not_applicable(experiment):
    """`--model lstm` on a grid whose activation axis is tanh,relu: its cells record no
    activation and the description said `activation = n/a`, but the dry run's listing of the
    axes printed `activation   tanh, relu` under it, as if each LSTM cell were measured twice."""
    args = ["sweep", *experiment, *GATED_TINY, "--model", "lstm", "--dry-run"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "1 cell -> " in result.stdout
    listed = dict(line.split(None, 1) for line in result.stdout.splitlines()[1:-2])
    assert listed["activation"] == "n/a" and listed["model"] == "lstm"
    # Beside an rnn the activation applies: its values are listed.
    result = runner.invoke(app, [*args[:-1], "--model", "rnn", "--dry-run"])
    assert result.exit_code == 0, result.stderr
    listed = dict(line.split(None, 1) for line in result.stdout.splitlines()[1:-2])
    assert listed["activation"] != "n/a" and listed["model"] == "lstm, rnn"


def test_the_dry_run_of_a_mixed_grid_says_the_activation_is_the_rnns_alone():
    """`--model rnn,lstm,gru --activation tanh,relu` plans 4 cells, not the 6 that the listed
    axes multiply to (each gated cell is measured once, with no activation), and the listing
    said only `activation   tanh, relu`, beside the count it did not explain."""
    args = ["sweep", *GATED_TINY, "--model", "rnn,lstm,gru", "--activation", "tanh,relu"]
    result = runner.invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "4 cells -> " in result.stdout
    listed = dict(line.split(None, 1) for line in result.stdout.splitlines()[1:-2])
    assert listed["activation"] == "tanh, relu (rnn only; lstm, gru: n/a, one cell per setting)"
    # One activation multiplies nothing: listed bare, as in a grid of nn.RNN cells alone.
    result = runner.invoke(app, [*args[:-1], "tanh", "--dry-run"])
    assert result.exit_code == 0, result.stderr
    listed = dict(line.split(None, 1) for line in result.stdout.splitlines()[1:-2])
    assert listed["activation"] == "tanh"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["axes"].update(hidden_size=["8"]), "'axes' hidden_size holds \"8\", not an"),
        (lambda m: m["grids"][0].update(gain=["1.0"]), "'grids'[0] gain holds \"1.0\", not a"),
        (lambda m: m["axes"].update(bias=["true"]), "'axes' bias holds \"true\", not true or"),
        (lambda m: m["axes"].update(seed=[0, 1.5]), "'axes' seed holds 1.5, not an integer"),
        (lambda m: m["axes"].update(num_layers=[True]), "'axes' num_layers holds true, not an"),
        (lambda m: m["axes"].update(init=[3]), "'axes' init holds 3, not a string"),
        (lambda m: m["axes"].update(gain=[float("nan")]), "'axes' gain holds NaN, not a finite"),
        (lambda m: m["axes"].update(seq_len=[None]), "'axes' seq_len holds null, not an integer"),
        # Out of the bounds or choices a flag would refuse, or the union of the grids deleted:
        (lambda m: m["axes"].update(hidden_size=[-8]), "'axes' hidden_size holds -8 (must be"),
        (lambda m: m["grids"][0].update(gain=[-1.0]), "'grids'[0] gain holds -1.0 (must be a"),
        (lambda m: m["axes"].update(activation=["tQnh"]), "'axes' activation holds \"tQnh\" (cho"),
        (lambda m: m["axes"].update(dtype=["fl_at32"]), "'axes' dtype holds \"fl_at32\" (choose"),
        # Accepted: a report and a resume read the axes as the grids' (a report's settings
        # were not its cells').
        (lambda m: m["axes"].update(seed=[12345]), "'axes' is not the union of 'grids'"),
        # A kind of run that does not exist was reported as a sweep page in silence:
        (lambda m: m.update(kind="bogus"), "'kind' must be 'single-model' or 'monitor' (a swe"),
        (lambda m: m.update(kind=5), "'kind' must be 'single-model' or 'monitor' (a sweep has"),
        # Impossible values were taken: "run time -5.0 s" on the page, and Infinity a traceback
        # (NaN and Infinity are JSON that Python reads)
        (lambda m: m.update(elapsed_s=-5.0), "'elapsed_s' must be a finite number of second"),
        (lambda m: m.update(elapsed_s=math.nan), "'elapsed_s' must be a finite number of secon"),
        (lambda m: m.update(elapsed_s=math.inf), "'elapsed_s' must be a finite number of secon"),
        # (an integer too large for a float: an OverflowError traceback)
        (lambda m: m.update(elapsed_s=10**400), "'elapsed_s' must be a finite number of secon"),
        (lambda m: m.update(n_cells=-1), "'n_cells' must be a count (an integer >= 0), not -1"),
        # More cells than the axes combine into: the report said "2 of 10**30 planned (...
        # 999...998 not measured yet: this report is partial)" of a finished run
        (lambda m: m.update(n_cells=10**30), "'n_cells' 1000000000000000000000000000000 is mo"),
    ],
)
def test_a_hand_edited_manifest_with_a_wrongly_typed_axis_value_is_refused(
    run_dir, tmp_path, edit, message
):
    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    before = _snapshot(run_dir)
    for args in (
        ["report", str(run_dir), "-o", str(tmp_path / "r.html")],
        ["sweep", "--smoke", "--dry-run", "--out", str(run_dir)],
        ["sweep", "--smoke", "--quiet", "--workers", "1", "--out", str(run_dir)],
    ):
        result = runner.invoke(app, args)
        one_error_line(result, "manifest.json is malformed: " + message)
    assert _snapshot(run_dir) == before and not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "keep",
    [
        ("format",),  # {"format": "vanishlab-run/1"} alone: `report` wrote a page of nothing
        ("format", "name", "n_cells", "started"),
        ("format", "name", "grids", "commands", "command"),  # 'axes' (their union) deleted
    ],
)
def test_a_manifest_without_axes_is_refused_as_incomplete(run_dir, tmp_path, keep):
    """Every manifest vanishlab wrote, in every release and of every kind, has its 'axes': one
    without them was read as a run of no settings (the report wrote a page, a sweep started
    its directory afresh). Refused in one line, naming what is missing."""
    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({k: manifest[k] for k in keep}))
    before = _snapshot(run_dir)
    said = (
        "manifest.json is incomplete: it has no 'axes' (the settings of the run's cells, which "
        "vanishlab writes into every run's manifest); restore it from a copy, or make the run "
        "again into a new directory"
    )
    for args in (
        ["report", str(run_dir), "-o", str(tmp_path / "r.html")],
        ["sweep", "--smoke", "--dry-run", "--out", str(run_dir)],
        ["sweep", "--smoke", "--quiet", "--workers", "1", "--out", str(run_dir)],
    ):
        result = runner.invoke(app, args)
        one_error_line(result, said)
    with pytest.raises(vl.VanishlabError, match="is incomplete: it has no 'axes'"):
        vl.load_manifest(run_dir)
    assert _snapshot(run_dir) == before and not (tmp_path / "r.html").exists()


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_manifest_whose_texts_hold_control_characters_is_read_with_them_replaced(
    run_dir, bare_copy, tmp_path
):
    """vanishlab named a run after its folder, tab or escape included, before names were
    mended: such a run was then refused as malformed, "not written by vanishlab". It is read
    now, its name and description (which no one checked) with each control character as
    U+FFFD, as they are written now. (The page is of a one-cell run so named, a third of the
    smoke run's page; the resume is the smoke run's, which `sweep --smoke` names.)"""
    one_cell_run = bare_copy  # a private copy: its manifest is rewritten here
    path = run_dir / "manifest.json"
    for run in (run_dir, one_cell_run):
        manifest = json.loads((run / "manifest.json").read_text())
        named = {**manifest, "name": "a\tb", "description": "d\x1b[2Je\n"}
        (run / "manifest.json").write_text(json.dumps(named))
        read = vl.load_manifest(run)
        assert (read["name"], read["description"]) == ("a\ufffdb", "d\ufffd[2Je\ufffd")
    result = runner.invoke(app, ["report", str(one_cell_run), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "a\ufffdb" in page and "\x1b" not in page and "a\tb" not in page
    result = runner.invoke(app, ["sweep", "--smoke", "--quiet", "--out", str(run_dir)])
    assert result.exit_code == 0, result.stderr  # resumed
    written = json.loads(path.read_text())
    assert not any(ch in written[k] for k in ("name", "description") for ch in "\t\n\x1b")


def test_a_description_is_written_as_one_line_of_text(tmp_path, monkeypatch):
    """A run's description (an experiment's docstring, a checkpoint's file name) was written
    and shown with its control characters, where its name's are refused or replaced."""
    from vanishlab.sweep.manifest import FORMAT, write_manifest

    write_manifest(tmp_path, {"format": FORMAT, "name": "n", "description": "a\tb\x1b[2J"})
    assert json.loads((tmp_path / "manifest.json").read_text())["description"] == (
        "a\ufffdb\ufffd[2J"
    )
    (tmp_path / "experiments").mkdir()  # found in the working directory
    doc = '"""Red \\x1b[31mtext\\x1b[0m\\a end."""\n'  # (a docstring's tab reads as spaces)
    (tmp_path / "experiments" / "ansi.py").write_text(doc)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["experiments"])
    assert " Red \ufffd[31mtext\ufffd[0m\ufffd end.\n" in result.stdout, result.stdout
    assert "\x1b" not in result.stdout and "\a" not in result.stdout


def test_a_sweep_whose_manifest_says_monitor_is_refused_by_report_in_one_line(run_dir, tmp_path):
    # Its page wanted the monitor's training steps: a KeyError traceback ("['step'] not in index").
    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "kind": "monitor"}))
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(out)])
    # A monitor's manifest without the 'model' every monitor writes is incomplete.
    one_error_line(result, "manifest.json is incomplete: it has no 'model'")
    path.write_text(json.dumps({**manifest, "kind": "monitor", "model": {}}))
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(out)])
    one_error_line(result, "says it is a training monitor's, but its cells hold no training steps")
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("x.pdf", "a report is an HTML page; give a file name ending in .html, e.g. x.html"),
        ("page", "a report is an HTML page; give a file name ending in .html, e.g. page.html"),
        ("r.tar.gz", "ending in .html, e.g. r.tar.html"),
        ("report.v2", "ending in .html, e.g. report.v2.html"),
    ],
)
def test_a_report_file_not_named_html_is_refused(run_dir, tmp_path, name, said):
    """`-o x.pdf` wrote the HTML page into x.pdf without a word (helper 157)."""
    out = tmp_path / "out" / name
    one_error_line(runner.invoke(app, ["report", str(run_dir), "-o", str(out)]), said)
    assert not out.parent.exists()


def test_a_report_file_named_html_or_htm_in_any_case_is_written(report_run, tmp_path):
    """The endings the refusal above lets through (one report each, not one per refusal):
    pages of no figure (conftest's ``report_run("bare")``), the file's name being what is
    tested."""
    one_cell_run = report_run("bare")
    for fine in ("r.html", "R.HTM", ".htm", ".HTML"):
        result = runner.invoke(app, ["report", str(one_cell_run), "-o", str(tmp_path / fine)])
        assert result.exit_code == 0 and (tmp_path / fine).is_file(), result.output


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_report_makes_the_missing_folders_of_its_file(run_dir, tmp_path):
    """docs/cli.md: `-o new/sub/r.html` makes new/sub; a file where a folder should be is
    refused in one line, naming it, and nothing is made."""
    out = tmp_path / "new" / "sub" / "r.html"
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(out)])
    assert result.exit_code == 0 and out.is_file(), result.output
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "sub" / "r.html"
    said = f"cannot write {out}: {tmp_path / 'file'} is not a folder; no report written"
    one_error_line(runner.invoke(app, ["report", str(run_dir), "-o", str(out)]), said)


def _takes_no_new_files(folder: str) -> bool:
    """Whether making a folder in ``folder`` (which exists) is refused ENOENT or EPERM: /proc
    and /sys on Linux, whoever runs the tests."""
    try:
        os.mkdir(os.path.join(folder, "vanishlab-probe"))
    except (FileNotFoundError, PermissionError):
        return os.path.isdir(folder)
    except OSError:
        return False
    os.rmdir(os.path.join(folder, "vanishlab-probe"))  # pragma: no cover - a writable /proc
    return False


@pytest.mark.parametrize("folder", ["/proc", "/sys"])
def test_a_folder_whose_file_system_takes_no_new_files_is_said_to_be_one(
    report_run, tmp_path, monkeypatch, folder
):
    """`vanishlab sweep --out /proc/x` and `vanishlab report RUN -o /proc/r.html` (or run in
    /proc, to their default paths) said "No such file or directory" of a folder that exists,
    and `--out /sys/x` "Operation not permitted"."""
    if not _takes_no_new_files(folder):
        pytest.skip(f"{folder} takes new files here, or is not there")
    one_cell_run = report_run("bare")  # a page of no figure: where it goes is the test
    said = f"the file system takes no new files in {folder}"
    out = f"{folder}/vanishlab-x"
    for dry in ([], ["--dry-run"]):  # the dry run said nothing: os.access lets root write
        result = runner.invoke(app, ["sweep", *SMALL, "--seeds", "1", "--out", out, *dry])
        one_error_line(result, f"cannot write the run directory {out}: {said}; give --out")
    if folder != "/proc":
        return  # a file in /sys is "Permission denied", to root too, and so it is said
    for page in (f"{folder}/r.html", f"{folder}/sub/r.html"):
        result = runner.invoke(app, ["report", str(one_cell_run), "-o", page])
        one_error_line(result, f"cannot write {page}: {said}; no report written")
    monkeypatch.chdir(folder)  # the default paths, runs/NAME and reports/NAME.html
    for dry in ([], ["--dry-run"]):
        result = runner.invoke(app, ["sweep", *SMALL, "--seeds", "1", *dry])
        line = one_error_line(result, "cannot write the run directory runs/")
        assert f": {said}; give --out" in line
    result = runner.invoke(app, ["report", str(one_cell_run)])
    assert f": {said}; no report written" in one_error_line(result, "cannot write reports/")


def test_a_dry_run_s_probe_is_removed_before_a_ctrl_c_acts(tmp_path, monkeypatch):
    """The dry run finds what the run would by making a folder where the run makes its first
    (and removing it): a Ctrl-C that comes in between acts once it is removed."""
    import signal

    from vanishlab.sweep.plan import plan_sweep

    real_mkdir = Path.mkdir

    def mkdir(path: Path, *args: object, **kwargs: object) -> None:
        real_mkdir(path, *args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # as the probe is made

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(KeyboardInterrupt):
        plan_sweep(vl.Sweep(hidden_size=[4]), tmp_path / "new" / "run", dry_run=True)
    assert list(tmp_path.iterdir()) == []


def test_refused_why_keeps_the_system_s_words_where_they_are_right(tmp_path):
    """A missing folder on the way is "No such file or directory", as the system says; a new
    name in a folder that exists is the file system's refusal, not a missing path."""
    from vanishlab.sweep.files import refused_why

    def refused(code: int, path: Path) -> str:
        return refused_why(OSError(code, os.strerror(code), str(path)))

    assert refused(errno.ENOENT, tmp_path / "gone" / "x") == os.strerror(errno.ENOENT)
    assert refused(errno.ENOSPC, tmp_path / "x") == os.strerror(errno.ENOSPC)
    assert (
        refused(errno.ENOENT, tmp_path / "x") == f"the file system takes no new files in {tmp_path}"
    )
    assert (
        refused(errno.EPERM, tmp_path / "x") == f"the file system takes no new files in {tmp_path}"
    )
    assert refused(errno.EACCES, tmp_path / "x") == os.strerror(errno.EACCES)
    (tmp_path / "link").symlink_to(tmp_path / "gone" / "x")
    assert refused(errno.ENOENT, tmp_path / "link") == os.strerror(errno.ENOENT)


def test_a_hidden_report_file_named_htm_is_an_htm_file(report_run, tmp_path):
    """`-o .htm` was refused with the hint ".htm.html" (pathlib sees no suffix in a hidden
    file's name), though the name ends in .htm as the rule asks, and a browser opens it as a
    page by that ending. It is written, and its path printed."""
    out = tmp_path / ".htm"
    result = runner.invoke(app, ["report", str(report_run("bare")), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out) and out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.skipif(sys.platform == "win32", reason="temp files are held with flock on POSIX")
def test_a_report_removes_the_temp_file_a_killed_report_left(report_run, tmp_path):
    """`vanishlab report RUN -o kr/r.html`, SIGKILLed between its temp file's creation and its
    rename (seen with a poll for the file), left kr/.r.html.7d2cc802.tmp, the whole page
    (288 KB), and every later report kept it: no run's clean-up visits a report's folder. The
    next report of that file removes it; one a live writer holds, another file's, stay."""
    import fcntl

    folder = tmp_path / "kr"
    folder.mkdir()
    dead = folder / ".r.html.7d2cc802.tmp"
    live = folder / ".r.html.0badc0de.tmp"
    other = folder / ".s.html.7d2cc802.tmp"
    for path in (dead, live, other):
        path.write_text("<!DOCTYPE html> part")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # a report still writing it
        result = runner.invoke(
            app, ["report", str(report_run("bare")), "-o", str(folder / "r.html")]
        )
        assert result.exit_code == 0, result.stderr
        assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, other.name, "r.html"])


@pytest.mark.parametrize("name", [".html", pytest.param(".HTM", marks=pytest.mark.slow)])
def test_a_report_file_named_by_its_ending_alone_is_said_to_be_hidden(report_run, tmp_path, name):
    """`-o .html` (or `-o "$name.html"`, $name empty) wrote a hidden file, which ls does not
    list, without a word. It is still written (an .htm or .html file, as the rule reads), and
    a note says it is hidden and names a file the user would see."""
    out = tmp_path / name
    result = runner.invoke(app, ["report", str(report_run("bare")), "-o", str(out)])
    assert result.exit_code == 0 and out.is_file(), result.stderr
    assert result.stdout.strip() == str(out)
    note = (
        f"note: {out} is a hidden file (a name of its ending alone: ls does not list it); "
        f"give -o/--output a name before the ending, e.g. {tmp_path / 'single_run.html'}"
    )
    assert note in result.stderr.splitlines(), result.stderr
    result = runner.invoke(
        app, ["report", str(report_run("bare")), "-o", str(tmp_path / ".mine.html")]
    )
    assert result.exit_code == 0 and "hidden" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("x.pdf", "x.html"),
        pytest.param("page", "page.html", marks=pytest.mark.slow),
        pytest.param("report.v2", "report.v2.html", marks=pytest.mark.slow),
    ],
)
def test_the_api_refuses_a_report_file_not_named_html_as_the_cli_does(
    bare_copy, tmp_path, name, hint
):
    """vl.render_report(run, "x.pdf") wrote the HTML page into x.pdf without a word, where
    `vanishlab report -o x.pdf` refuses it (helper 162): one rule, in the caller's words, and
    nothing written (not the file, not its folder, not the summary's cache)."""
    import vanishlab as vl

    one_cell_run = bare_copy  # with no summary's cache yet, which a report would write
    out = tmp_path / "out" / name
    before = _snapshot(one_cell_run)
    with pytest.raises(vl.VanishlabError) as err:
        vl.render_report(one_cell_run, out)
    assert str(err.value) == (
        f"path {out}: a report is an HTML page; give a file name ending in .html, e.g. {hint}"
    )
    assert not out.parent.exists() and _snapshot(one_cell_run) == before
    result = runner.invoke(app, ["report", str(one_cell_run), "-o", str(out)])
    one_error_line(result, str(err.value).replace("path ", "-o/--output ", 1))
    assert vl.render_report(one_cell_run, tmp_path / ".htm") == tmp_path / ".htm"


def test_the_api_refuses_a_report_path_ending_in_a_slash_as_the_cli_does(run_dir, tmp_path):
    """vl.render_report(run, "x.html/") wrote x.html (pathlib drops the slash), where
    `vanishlab report -o x.html/` refuses it as a folder's name: one rule (files.file_path),
    in the caller's words, and nothing written."""
    import vanishlab as vl

    out = f"{tmp_path / 'new' / 'x.html'}/"
    before = _snapshot(run_dir)
    with pytest.raises(vl.VanishlabError) as err:
        vl.render_report(run_dir, out)
    assert str(err.value) == (
        f"path {out} ends with '/', which names a folder; give a file name, e.g. {out}report.html"
    )
    assert not (tmp_path / "new").exists() and _snapshot(run_dir) == before
    result = runner.invoke(app, ["report", str(run_dir), "-o", out])
    one_error_line(result, str(err.value).replace("path ", "-o/--output ", 1))


@pytest.mark.parametrize(
    ("stop", "said"),
    [
        (KeyboardInterrupt, "interrupted"),
        pytest.param(Terminated, "terminated", marks=pytest.mark.slow),
    ],
)
def test_a_stop_after_the_report_is_written_does_not_say_none_was(
    report_run, tmp_path, monkeypatch, stop, said
):
    """A stop that came once the report was written, before the command ended, said
    "interrupted: no report written" beside the written report (helper 160: 3 of 480 trials).
    It now says what was done; the status is still the stop's."""
    from vanishlab.cli import report as report_cli

    def stopped(text: str, done: str = "") -> None:
        raise stop

    monkeypatch.setattr(report_cli, "say", stopped)
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(report_run("bare")), "-o", str(out)])
    assert result.exit_code == (130 if stop is KeyboardInterrupt else 143) and out.is_file()
    assert result.stderr == (
        f"{said}: it came after the work was done: the report is written: {out}\n"
    ), result.stderr


@pytest.mark.parametrize(
    ("stop", "said", "status"),
    [(KeyboardInterrupt, "interrupted", 130), (Terminated, "terminated", 143)],
)
@pytest.mark.parametrize("command", ["inits", "experiments"])
def test_a_stop_in_a_listing_is_the_bare_word(monkeypatch, command, stop, said, status):
    """A listing keeps nothing to resume (``stopped=""``): its stop's line is the word alone,
    not "interrupted: " with nothing after the colon (a mutation review: the branch that drops
    the colon was untested)."""
    from vanishlab.cli import listings

    def stopped(text: str = "", done: str = "") -> None:
        raise stop

    monkeypatch.setattr(listings, "say", stopped)
    result = runner.invoke(app, [command])
    assert (result.exit_code, result.stderr) == (status, f"{said}\n"), result.stderr


def test_a_cells_entry_that_is_not_a_folder_is_refused_not_read_as_empty(run_dir, tmp_path):
    shutil.rmtree(run_dir / "cells")
    (run_dir / "cells").write_text("not a folder")
    before = _snapshot(run_dir)
    for args in (
        ["report", str(run_dir), "-o", str(tmp_path / "r.html")],
        ["sweep", "--smoke", "--dry-run", "--out", str(run_dir)],
        ["sweep", "--smoke", "--quiet", "--workers", "1", "--out", str(run_dir)],
    ):
        one_error_line(runner.invoke(app, args), "cells is not a folder")
    with pytest.raises(vl.VanishlabError, match="cells is not a folder"):
        vl.load_results(run_dir)
    assert _snapshot(run_dir) == before and not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--bogus"], "No such option: --bogus"),
        (["sweep", "--dry-run=yes"], "Option '--dry-run' does not take a value"),
        (["analyze", "m.pt", "--seq-len"], "Option '--seq-len' requires an argument"),
        (["report"], "Missing argument 'RUN_DIR'"),
        (["report", "a", "b"], "unexpected extra argument"),  # "(s) (b)"; click 8.2.0: " (b)"
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_a_command_line_typers_parser_refuses_is_one_line_too(args, message):
    result = runner.invoke(app, args)
    one_error_line(result, message)
    assert "--help" in result.stderr and "╭" not in result.stderr


def test_a_path_that_begins_with_a_dash_is_said_how_to_give(tmp_path, monkeypatch):
    """A file named -dash.pt was read as the option -d: "No such option: -d" alone, of a file
    the user could see. The line now says how to give it, as GNU rm does; an unknown option
    that is no path (-zz.pt, none here), or the group's, is said as before."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-dash.pt").write_bytes(b"")
    (tmp_path / "-run").mkdir()
    hint = "; -dash.pt is a path here: give it as ./-dash.pt"
    line = one_error_line(runner.invoke(app, ["analyze", "--out", "o", "-dash.pt"]), hint)
    assert line.startswith("error: No such option: -d (see 'vanishlab analyze --help')"), line
    assert line.endswith(hint), line
    one_error_line(runner.invoke(app, ["report", "-run"]), "-run is a path here: give it as ./-run")
    # Its first letter an option's (-q, --quiet): the parser read -q, then "No such option: -x".
    (tmp_path / "-qx.pt").write_bytes(b"")
    line = one_error_line(runner.invoke(app, ["analyze", "-qx.pt"]), "No such option: -x")
    assert line.endswith("; -qx.pt is a path here: give it as ./-qx.pt"), line
    for args in (["analyze", "-zz.pt"], ["-dash.pt"]):
        line = one_error_line(runner.invoke(app, args), "No such option")
        assert "is a path here" not in line, line
    assert not (tmp_path / "o").exists()


_NO_USAGE_ERROR = """
import typer

class BadParameter(ValueError):  # a typer whose BadParameter is no click UsageError
    pass

typer.BadParameter = BadParameter
import vanishlab.cli._app
"""


def test_a_typer_without_the_parsers_error_class_fails_the_import_in_one_line():
    """The parser's error class is looked for among typer.BadParameter's bases: where it is
    not there, importing the command line raised a bare StopIteration, which said nothing."""
    done = subprocess.run(
        [sys.executable, "-c", _NO_USAGE_ERROR], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: vanishlab's command line needs a typer whose "), last
    assert "derives from ValueError, Exception, BaseException, object" in last


def test_help_and_no_arguments_still_show_the_help():
    result = runner.invoke(app, [])
    assert "Usage" in result.output and "sweep" in result.output
    assert result.exit_code in (0, 2)  # click 8.1 exits 0 here, typer's vendored click 2
    assert "error:" not in result.output
    result = runner.invoke(app, ["sweep", "--help"])
    assert result.exit_code == 0 and "--activation" in result.stdout
    assert runner.invoke(app, ["--version"]).exit_code == 0


@pytest.mark.parametrize("stray", [["extra"], ["sweep"], ["a", "b"], ["--", "x"]])
def test_a_stray_argument_after_version_is_a_usage_error(stray):
    """``vanishlab --version extra`` printed the version and exited 0 (--version answers
    before the parser reads on); a stray argument anywhere else is a usage error, status 2."""
    result = runner.invoke(app, ["--version", *stray])
    said = one_error_line(result, "beside --version (see 'vanishlab --help')")
    assert stray[-1] in said and result.stdout == ""
    assert runner.invoke(app, ["--version"]).stdout.startswith("vanishlab ")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--help", "extra"], "No such command 'extra' (see 'vanishlab --help')"),
        (["--help", "swep"], "No such command 'swep'. Did you mean 'sweep'?"),
        (["--version", "--help", "extra"], "(extra) beside --version (see 'vanishlab --help')"),
    ],
)
def test_a_stray_argument_after_help_is_a_usage_error(args, said):
    """``vanishlab --help extra`` printed the app's help and exited 0 (--help answers before
    the parser reads on), and so did ``--version --help extra`` with the version: a stray
    argument is a usage error, status 2, as after --version alone."""
    result = runner.invoke(app, args)
    one_error_line(result, said)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args", [["--help", "sweep"], ["--help", "--version", "sweep"], ["--help", "sweep", "x"]]
)
def test_help_before_a_command_is_that_commands_help(args):
    """``vanishlab --help sweep`` showed the app's help, where the user asked for sweep's (as
    ``git --help commit`` gives commit's); with --version after --help, --help came first."""
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "--activation" in result.stdout
    assert "vanishlab 0" not in result.stdout


def test_version_and_help_together_do_the_first_one_given():
    version = runner.invoke(app, ["--version", "--help"])
    assert version.exit_code == 0 and version.stdout.startswith("vanishlab ")
    assert "Usage" not in version.stdout
    help_ = runner.invoke(app, ["--help", "--version"])
    assert help_.exit_code == 0 and "Usage" in help_.stdout and "vanishlab 0" not in help_.stdout


def test_sweep_help_says_where_an_experiment_name_is_looked_for():
    """It said "a module in experiments/": an installed vanishlab has no such folder, and finds
    its built-in experiments all the same (vanishlab/experiments/)."""
    result = runner.invoke(app, ["sweep", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "a module in ./experiments, or a built-in one: `vanishlab experiments` lists" in text


def test_sweep_help_says_where_an_axis_default_comes_from_and_what_a_task_needs():
    """No axis flag showed a default (`--hidden-size LIST  Hidden sizes H, e.g. 32,64.`), and
    --task said "none, adding, recall" where adding needs --input-size 2 and recall 8, which a
    new user met only as refusals (helper 282)."""
    result = runner.invoke(app, ["sweep", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "An axis not given keeps the experiment's values" in text
    assert "--dry-run prints every axis of the grid" in text
    assert "adding (needs --input-size 2), recall (needs --input-size 8)" in text


def test_an_unexpected_exception_is_not_disguised_as_a_user_error(monkeypatch, run_dir, tmp_path):
    """A bug inside a command keeps its traceback (exit 1), not the one-line user-error form."""

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("vanishlab.report.render_report", broken)
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "r.html")])
    assert result.exit_code not in (0, 2)
    assert isinstance(result.exception, RuntimeError)


def test_a_shard_whose_stored_config_is_wrongly_typed_is_refused_in_one_line(run_dir, tmp_path):
    from vanishlab.sweep.checksums import meta_digest

    shard = sorted((run_dir / "cells").glob("*.parquet"))[0]
    table = pq.read_table(shard)
    metadata = dict(table.schema.metadata)
    meta = json.loads(metadata[b"vanishlab.cell"])
    meta["config"]["hidden_size"] = str(meta["config"]["hidden_size"])  # a hand edit
    meta["meta_digest"] = meta_digest(meta)  # ... that even updates the metadata's checksum
    metadata[b"vanishlab.cell"] = json.dumps(meta).encode()
    pq.write_table(table.replace_schema_metadata(metadata), shard)
    message = f'{shard} is corrupt (its config\'s hidden_size holds "8", not an integer)'
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "r.html")])
    one_error_line(result, message)
    for reader in (vl.load_cells, vl.load_results, vl.summarize):
        with pytest.raises(vl.VanishlabError, match="not an integer"):
            reader(run_dir)


def test_a_huge_grid_is_one_line_and_a_long_axis_is_shortened():
    result = runner.invoke(app, ["sweep", "--seeds", "10000000", "--dry-run"])
    one_error_line(result, "axis seed has 10,000,000 values: more cells than one run takes")
    # Beyond sys.maxsize the range had no len(): an OverflowError traceback.
    result = runner.invoke(app, ["sweep", "--seeds", str(2**63), "--dry-run"])
    one_error_line(result, "axis seed has more than 9,223,372,036,854,775,807 values")
    # 48 cells per seed in the quick grid: 20,834 seeds are just over a million cells.
    result = runner.invoke(app, ["sweep", "--seeds", "20834", "--dry-run"])
    one_error_line(result, "the grid has 1,000,032 cells (its longest axis, seed, has 20,834")
    assert "come from" not in result.output  # about its size, not about the base grid
    result = runner.invoke(app, ["sweep", "--seeds", "500", "--dry-run"])
    assert result.exit_code == 0
    assert "seed = 0,1,2,...,499 (500 values)" in result.stdout.splitlines()[0]
    result = runner.invoke(app, ["sweep", "--seed", "0,1,2,50,60,70,80,90,999", "--dry-run"])
    assert "seed = 0,1,2,50,... (9 values)" in result.stdout.splitlines()[0]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("sweep --seeds 200 --dry-run", marks=pytest.mark.slow),  # imports torch
        "inits",
        "--help",
        "sweep --help",
        "report --help",
        "--version",
    ],
)
def test_a_closed_output_pipe_ends_the_command_quietly(command):
    """`vanishlab sweep --dry-run | true`: status 141 as for SIGPIPE, nothing on stderr. Help
    and version too (they ended with status 1: click's and rich's handlers of a broken pipe)."""
    done = _in_bash(f"{shlex.join(_vanishlab())} {command} | true; echo ${{PIPESTATUS[0]}}")
    assert done.stdout.split() == ["141"] and done.stderr == "", done.stderr


@pytest.mark.parametrize("command", [["--help"], ["analyze", "--help"]])
def test_help_ignores_a_terminal_width_that_is_no_number(command):
    """typer's TERMINAL_WIDTH=x ended every --help in a ValueError traceback (status 1)."""
    env = {**os.environ, "TERMINAL_WIDTH": "x", "COLUMNS": "100"}
    done = subprocess.run([*_vanishlab(), *command], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    env.pop("TERMINAL_WIDTH")
    plain = subprocess.run([*_vanishlab(), *command], capture_output=True, text=True, env=env)
    assert done.stdout == plain.stdout


@pytest.mark.parametrize("variable", ["TERMINAL_WIDTH", "COLUMNS"])
def test_help_ignores_a_width_no_terminal_has(variable):
    """A width of 10**20 columns ended --help in rich's OverflowError traceback (status 1), as
    padding each line to it; help takes the width it takes without the variable."""
    env = {k: v for k, v in os.environ.items() if k not in ("TERMINAL_WIDTH", "COLUMNS")}
    plain = subprocess.run([*_vanishlab(), "--help"], capture_output=True, text=True, env=env)
    env[variable] = str(10**20)
    done = subprocess.run([*_vanishlab(), "--help"], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr[-500:]
    assert done.stdout == plain.stdout


def _error_line_in_a_shell(command: str) -> str:
    """The one error line of ``vanishlab COMMAND`` run by bash (redirections included), which
    must exit with status 2."""
    done = _in_bash(f"{shlex.join(_vanishlab())} {command}")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_user_error_with_a_full_standard_error_still_exits_2():
    """`vanishlab sweep --gain x 2>/dev/full`: the line cannot be shown, but the status is a
    script's only word of the mistake; it was 1, as for a crash."""
    done = _in_bash(f"{shlex.join(_vanishlab())} sweep --gain x 2>/dev/full")
    assert done.returncode == 2 and done.stdout == ""


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("stderr", ["2>/dev/full", "2>&-"])
def test_a_sweep_s_progress_on_a_stderr_that_cannot_take_it_changes_nothing(tmp_path, stderr):
    """`vanishlab sweep ... 2>/dev/full`: its progress line raised ENOSPC, which stopped the
    sweep with status 2 (at its first plain line, its cells unfinished) and no summary; with
    stderr closed (`2>&-`) the line went to stdout, before the path a script reads there."""
    out = tmp_path / "run"
    # Two cells, not the 96 of SMALL's default grid (9.5-18 s against 4-5 s, back to back at
    # load 7-9): the progress line at the end is written whatever the grid's size, by the one
    # writer of every plain line (progress.status_line); 96 cells took under PLAIN_EVERY_S on
    # a quiet machine, so wrote no other line either.
    one = "--activation tanh --num-layers 1 --init default --gain 1"
    done = _in_bash(
        f"{shlex.join(_vanishlab())} sweep {shlex.join(SMALL)} {one} --seeds 2 --workers 1 "
        f"--out {shlex.quote(str(out))} {stderr}"
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [done.stdout.strip()], done.stdout  # the summary alone
    assert done.stdout.startswith("sweep run: ") and done.stdout.strip().endswith(f"-> {out}")
    assert not any((out / "cells").glob("*.tmp*"))


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("stderr", ["2>/dev/full", "2>&-"])
@pytest.mark.parametrize("says", ["", "import sys\nprint('hello', file=sys.stderr)\n"])
def test_an_experiment_module_sweeps_whatever_stderr_takes(tmp_path, stderr, says):
    """`vanishlab sweep e.py 2>&-` said (unseen) "experiment module e.py failed to import:
    AttributeError", status 2, for every module: what it printed on stderr was written back to
    a stderr that was None; with 2>/dev/full, so failed a module that printed there."""
    module = tmp_path / "e.py"
    module.write_text(
        f"{says}import vanishlab as vl\nSWEEP = vl.Sweep(hidden_size=4, input_size=2, "
        "seq_len=4, batch=2, activation=('tanh',), num_layers=(1,), init=('default',))\n"
    )
    out = tmp_path / "run"
    done = _in_bash(
        f"{shlex.join(_vanishlab())} sweep {shlex.quote(str(module))} --workers 1 -q "
        f"--out {shlex.quote(str(out))} {stderr}"
    )
    assert (done.returncode, done.stdout) == (0, f"{out}\n")


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_what_an_experiment_module_prints_goes_to_stderr(tmp_path, workers):
    """`out=$(vanishlab sweep e.py -q)` got what the module printed at import, and what its
    init printed while a cell was drawn (in this process, or in a worker's), ahead of the run's
    path: stdout is the path alone, and the module's lines are on stderr."""
    module = tmp_path / "e.py"
    module.write_text(
        '"""Prints."""\nimport vanishlab as vl\nprint("at import")\n\n\n'
        "def _init(rnn, gain, generator):\n"
        '    print("in apply")\n'
        '    vl.INITS["default"].apply(rnn, gain, generator)\n\n\n'
        'vl.register_init(vl.Init("prints_test", "prints", _init), replace=True)\n'
        'SWEEP = vl.Sweep(init=("prints_test",), hidden_size=4, input_size=2, seq_len=4, '
        "batch=1, seed=(0, 1))\n"
    )
    out = tmp_path / "run"
    done = _in_bash(
        f"{shlex.join(_vanishlab())} sweep {shlex.quote(str(module))} --workers {workers} -q "
        f"--out {shlex.quote(str(out))}"
    )
    assert (done.returncode, done.stdout) == (0, f"{out}\n"), done.stderr
    # (counted in the text: two workers' lines may interleave on the one stderr)
    assert done.stderr.count("in apply") == 2 and "at import" in done.stderr, done.stderr


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_an_experiment_module_that_closes_its_output_loads(tmp_path, capsys, stream):
    """A module's sys.stdout (or sys.stderr) while it loads is what holds its prints until it
    has loaded: its close() left them unreadable, and the sweep ended in a traceback
    (ValueError: I/O operation on closed file, status 1; helper 368). Now it loads, and what
    it printed before goes to stderr as ever."""
    module = tmp_path / "e.py"
    module.write_text(
        f'import sys\nimport vanishlab as vl\nprint("before")\nsys.{stream}.close()\n'
        "SWEEP = vl.Sweep(hidden_size=4, seq_len=3)\n"
    )
    assert vl.load_experiment(module).sweep.seq_len == (3,)
    assert capsys.readouterr() == ("", "before\n")


@pytest.mark.parametrize("command", ["inits", "--version", "sweep --dry-run"])
def test_a_closed_standard_output_is_one_line(command):
    """`vanishlab inits >&-`: the output was lost and the status 0."""
    line = _error_line_in_a_shell(f"{command} >&-")
    assert line.startswith("error: the standard output is closed")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", ["--version", "--help", "sweep --help", "inits"])
def test_a_full_standard_output_is_one_line(command):
    """`vanishlab --help > /dev/full`: one line and status 2, as for other commands (help and
    version ended in a 50-line traceback of rich's or click's write)."""
    assert "No space left on device" in _error_line_in_a_shell(f"{command} > /dev/full")


@pytest.mark.parametrize(
    ("every_s", "expected"),
    [
        (3600.0, ["20/20"]),
        pytest.param(0.0, [*map("{}/20".format, range(2, 19, 2)), "20/20"], marks=pytest.mark.slow),
    ],
)
# In the slow tier: ~2 s of CPU; make test keeps the progress line's other tests.
@pytest.mark.slow
def test_progress_when_stderr_is_not_a_terminal_is_a_few_plain_lines(
    monkeypatch, tmp_path, every_s, expected
):
    """`vanishlab sweep ... 2>log`: plain lines at most every PLAIN_EVERY_S and every tenth of
    the cells, and one at the end (the rich bar needs a terminal). The limits are set far above
    the sweep's time: at the real 10 s (and PLAIN_QUIET_S's 60 s) the case of one line read
    "15/20, 20/20" where the 20 cells took 14 s (load ~10 on 2 cores, helper 447)."""
    monkeypatch.setattr("vanishlab.sweep.progress.PLAIN_EVERY_S", every_s)
    monkeypatch.setattr("vanishlab.sweep.progress.PLAIN_QUIET_S", 3600.0)
    args = [*SMALL, "--activation", "tanh", "--num-layers", "1", "--init", "default"]
    args += ["--gain", "0.5,1", "--seeds", "10", "--workers", "1", "--name", "p"]
    result = runner.invoke(app, ["sweep", *args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line.split()[1] for line in lines] == expected, lines
    assert all(line.startswith("p: ") and " cells (" in line for line in lines)
    assert lines[-1].startswith("p: 20/20 cells (100%), 0 failed, ")
    quiet = runner.invoke(app, ["sweep", *args, "--quiet", "--out", str(tmp_path / "q")])
    assert quiet.exit_code == 0 and quiet.stderr == ""


@pytest.mark.parametrize("name", ["x" * 300, "a/b", "名" * 200])
def test_any_name_sweeps_and_gets_its_report(tmp_path, monkeypatch, name):
    """A name is a label: the report's default file is made from it safely (characters
    replaced, a long name cut with a digest), so no name is refused. A 200-character limit
    on --name used to count characters, while 200 CJK characters are 600 bytes and no file
    system takes such a file name."""
    monkeypatch.chdir(tmp_path)
    args = ["sweep", *SMALL, "--seeds", "1", "--init", "default", "--activation", "tanh"]
    args += ["--num-layers", "1", "--gain", "1", "--quiet", "--name", name, "--out", "run"]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, ["report", "run"])
    assert result.exit_code == 0, result.stderr
    assert Path(result.stdout.strip()).is_file()


def test_dry_run_refuses_an_out_below_a_regular_file_as_the_run_does(tmp_path):
    (tmp_path / "afile").write_text("x")
    out = str(tmp_path / "afile" / "x")
    for extra in (["--dry-run"], ["--quiet"]):
        result = runner.invoke(app, ["sweep", *SMALL, "--out", out, *extra])
        one_error_line(result, f"cannot write the run directory {out}: Not a directory")
    # The dry run shows its plan first: it printed nothing but the refusal.
    dry = runner.invoke(app, ["sweep", *SMALL, "--out", out, "--dry-run"])
    assert f"cells -> {out} (new run directory)" in dry.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "   "], "--name is blank"),
        (["--name", "a\nb"], "--name holds a control character"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "exclude each other"),
    ],
)
def test_dry_run_refuses_the_options_the_run_refuses(tmp_path, args, message):
    """The dry run exited 0 on these, printing the blank or two-line name as its title, where
    the same command without --dry-run is refused: it said the run would go ahead."""
    out = tmp_path / "run"
    for extra in (["--quiet"], ["--dry-run"]):
        result = runner.invoke(app, ["sweep", *SMALL, *args, "--out", str(out), *extra])
        one_error_line(result, message)
        assert result.stdout == ""
    assert not out.exists()


def test_dry_run_names_a_read_only_file_system(tmp_path, monkeypatch):
    """It said "Permission denied" where the run says "Read-only file system"."""
    refuse_writes_in(monkeypatch, tmp_path, errno.EROFS)
    out = str(tmp_path / "run")
    said = f"cannot write the run directory {out}: Read-only file system"
    for extra in (["--dry-run"], ["--quiet"]):
        one_error_line(runner.invoke(app, ["sweep", *SMALL, "--out", out, *extra]), said)


def test_symbolic_links_to_nothing_are_refused_in_one_line(run_dir, tmp_path):
    """A loop of symbolic links as --out was a 65-line traceback (RuntimeError from
    Path.resolve) for sweep, --dry-run and analyze; a report's -o replaced the looping link
    without --force; a dangling link was called "a directory" or "not empty"."""
    import torch

    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "dir")
    checkpoint = tmp_path / "rnn.pt"
    torch.save(torch.nn.RNN(2, 4).state_dict(), checkpoint)
    loop, dangling = str(tmp_path / "loop_a"), str(tmp_path / "dangling")
    for args, message in (
        (["sweep", *SMALL, "--out", loop, "--dry-run"], f"{loop} is a symbolic link that loops"),
        (["sweep", *SMALL, "--out", loop], f"--out {loop} is a symbolic link that loops"),
        (["sweep", *SMALL, "--out", f"{loop}/sub"], f"lies in {loop}, a symbolic link that"),
        (["analyze", str(checkpoint), "--out", loop], f"{loop} is a symbolic link that loops"),
        (["sweep", *SMALL, "--out", dangling], f"{dangling} is a symbolic link to nothing"),
        (["analyze", str(checkpoint), "--out", dangling], "is a symbolic link to nothing"),
        (["report", str(run_dir), "-o", loop], f"{loop} is a symbolic link that loops"),
        (["report", str(run_dir), "-o", dangling], f"{dangling} is a symbolic link to nothing"),
    ):
        one_error_line(runner.invoke(app, args), message)
    assert (tmp_path / "loop_a").is_symlink() and (tmp_path / "dangling").is_symlink()
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("width", [30, 50, 72, 100, 120])
@pytest.mark.parametrize("name", ["default", "gain_phase-smoke-activation=tanh-seq_len=50,200"])
@pytest.mark.parametrize(("total", "done", "failed"), [(96, 10, 1), (96000, 10000, 1000)])
def test_the_progress_bar_keeps_its_counts_in_a_narrow_terminal(
    monkeypatch, width, name, total, done, failed
):
    """At 30 columns the bar's row was cut to "cells 0 failed … ETA …": no count left to see;
    a run name built from flags cut the counts at 100 columns too. The counts are never cut
    now: a narrow terminal gets them (and the time left, where it fits), a wide one a name of
    at most NAME_WIDTH characters, the counts and the times."""
    import re

    from _terminal import terminal

    from vanishlab.sweep import progress

    drawn = terminal(monkeypatch, width)
    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    with progress.Progress(True, name, total, done, failed) as bar:
        bar.advance(failed)
    last = drawn().strip().splitlines()[-1]
    assert f"{done + 1}/{total} cells {failed} failed" in last, last
    assert len(last) <= width
    shown = name if len(name) <= progress.NAME_WIDTH else name[: progress.NAME_WIDTH - 1] + "…"
    if shown in last:  # a wide row: the name (cut), and every time in full
        assert last.startswith(shown) and last.count("…") == (shown != name), last
        assert re.search(r"\d:\d\d:\d\d ETA -:--:--$", last), last
    else:
        assert width < progress.NARROW + 3 * (len(str(total)) - 2) and "…" not in last, last


@pytest.mark.parametrize(("width", "total"), [(34, 96), (40, 96), (60, 96), (60, 96000)])
def test_a_narrow_terminal_names_the_time_left(monkeypatch, width, total):
    """A narrow row showed the counts and a bare time, "11/96 cells 1 failed 0:00:41", which
    could as well be the time elapsed (the wide row's first time); it says "ETA" now."""
    import re

    from _terminal import terminal

    from vanishlab.sweep import progress

    monkeypatch.setattr(progress.Progress, "_left", lambda self, now=None: 41.0)
    drawn = terminal(monkeypatch, width)
    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    with progress.Progress(True, "default", total, 10, 1) as bar:
        bar.advance(1)
    last = drawn().strip().splitlines()[-1].strip()
    assert re.fullmatch(rf"11/{total} cells 1 failed ETA 0:00:41", last), last


@pytest.mark.parametrize("width", [30, 40, 72, 76, 80, 100, 120])
@pytest.mark.parametrize("name", ["gain_phase-smoke-activation=tanh-seq_len=50,200", "日本語" * 9])
@pytest.mark.parametrize("elapsed", [59.0, 12 * 3600.0, 3 * 86400.0, 400 * 86400.0])
def test_the_progress_row_fits_on_one_line_however_long_the_sweep(
    monkeypatch, width, name, elapsed
):
    """After a day the elapsed time read "3 days, 0:00:00", and an ETA of 100 hours or more
    took 9 characters: the row grew past a 72 to 80-column terminal and rich wrapped it onto
    two lines. A name of wide characters (CJK) was cut to 24 characters, 48 columns, which
    cut the counts ("1… cells 1 failed"). The row is one line of at most the terminal's width,
    its counts and times whole."""
    import rich.progress
    from _terminal import terminal
    from rich.cells import cell_len

    from vanishlab.sweep import progress

    monkeypatch.setattr(rich.progress.Task, "elapsed", property(lambda task: elapsed))
    monkeypatch.setattr(progress.Progress, "_left", lambda self, now=None: 10 * elapsed)
    drawn = terminal(monkeypatch, width)
    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    with progress.Progress(True, name, 96, 10, 1) as bar:
        bar.advance(1)
        bar._bar.refresh()
        # The last frame drawn (each starts with a carriage return): all that was drawn from
        # before the advance on also held a frame of rich's own refresh thread (every 0.1 s)
        # when one fell in between, which read as a second row.
        frame = drawn().rsplit("\r", 1)[-1]
    rows = [row for row in frame.splitlines() if row.strip()]
    assert len(rows) == 1, frame
    row = rows[0]
    assert cell_len(row) <= width and "11/96 cells 1 failed" in row, row
    assert "…" not in row.split("failed", 1)[1], row  # every time shown whole
    times = f"{progress.clock_text(elapsed)} ETA {progress.clock_text(10 * elapsed)}"
    assert (times in row) == (width >= progress.NARROW), row


@pytest.mark.parametrize("name", ["run[/x]", "run[red]", "a[bold]b"])
def test_a_run_name_with_brackets_is_shown_as_it_is(monkeypatch, name):
    """The bar read the name as rich markup: "run[/x]" raised rich's MarkupError (a traceback
    as the sweep started) and "run[red]" lost its "[red]"."""
    from _terminal import terminal

    from vanishlab.sweep import progress

    drawn = terminal(monkeypatch, 100)
    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    with progress.Progress(True, name, 96, 10, 1) as bar:
        bar.advance(1)
    assert drawn().strip().splitlines()[-1].startswith(f"{name} "), drawn()


@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_a_symlink_loop_is_the_same_error_on_every_python(tmp_path, monkeypatch, python):
    """Python 3.11-3.12 raise a RuntimeError on a loop in Path.resolve; 3.13 resolves it without
    a word unless strict (then OSError ELOOP). Both are the one ELOOP line, and a new path
    resolves as before."""
    import errno
    import os

    from vanishlab.sweep.files import resolved

    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    if python == "3.13":

        def resolve(self: Path, strict: bool = False) -> Path:
            if strict:
                os.stat(self)  # raises OSError(ELOOP) on a loop, as 3.13's strict resolve does
            return Path(os.path.realpath(self))

        monkeypatch.setattr(Path, "resolve", resolve)
    for looping in (tmp_path / "a", tmp_path / "a" / "sub"):
        with pytest.raises(OSError) as caught:
            resolved(looping)
        assert caught.value.errno == errno.ELOOP and caught.value.filename == str(looping)
    assert resolved(tmp_path / "new" / "run") == Path(os.path.realpath(tmp_path)) / "new" / "run"


@pytest.mark.slow  # a process that imports torch
def test_an_output_encoding_that_cannot_show_a_name_escapes_it(tmp_path):
    """Under an ISO-8859-1 output encoding the last line of a sweep named in Japanese was a
    UnicodeEncodeError traceback and status 1, after the work was done."""
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}
    args = ["sweep", "--hidden-size", "4", "--seq-len", "5", "--seeds", "1", "--gain", "1"]
    args += ["--activation", "tanh", "--num-layers", "1", "--init", "default"]
    done = subprocess.run(
        [sys.executable, "-m", "vanishlab", *args, "--out", str(tmp_path / "r"), "--name", "日本"],
        env=env, capture_output=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"\\u65e5\\u672c" in done.stdout and b"Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["report", "RUN", "-o", "newdir/"],
            "-o/--output newdir/ ends with '/', which names a folder",
        ),
        (["report", "RUN", "-o", "-"], "-o/--output -: vanishlab writes files, not the standard"),
        (["report", "RUN", "-o", ""], "-o/--output is empty; give a file name"),
        (["sweep", "--smoke", "--out", ""], "--out is empty; give a directory"),
        (["analyze", "m.pt", "--out", ""], "--out is empty; give a directory"),
        # spaces alone were "empty" too, which sent the user looking for a value not given
        (["report", "RUN", "-o", " "], "-o/--output is blank; give a file name"),
        (["sweep", "--smoke", "--out", " "], "--out is blank; give a directory"),
        (["analyze", "m.pt", "--out", "\t "], "--out is blank; give a directory"),
    ],
)
def test_paths_that_name_no_file_are_refused(tmp_path, monkeypatch, args, said):
    """`-o newdir/` wrote a file named newdir, `-o -` a file named "-", and `--out ''` made
    the current folder a run directory."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and said in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["report", ""], "RUN_DIR is empty; give a path"),
        (["report", " ", "-o", "r.html"], "RUN_DIR is blank; give a path"),  # was "empty"
        (["analyze", ""], "CHECKPOINT is empty; give a path"),
        (["analyze", "m.pt", "--inputs", ""], "--inputs is empty; give a path"),
        (["analyze", "m.pt", "--inputs", "  "], "--inputs is blank; give a path"),
    ],
)
def test_empty_paths_to_read_are_refused(tmp_path, monkeypatch, args, said):
    """pathlib reads '' as the current folder: `vanishlab report ''` reported the folder it
    ran in when that was a run directory (else it said ". is not a vanishlab run directory"),
    and `analyze ''` and `--inputs ''` said "checkpoint . is not a file"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.pt").write_bytes(b"")
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.output == f"error: {said}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["report", "loop"], "RUN_DIR loop is a symbolic link that loops"),
        (["report", "loop/run"], "RUN_DIR loop/run lies in loop, a symbolic link that loops"),
        (["report", "run", "-o", "loop"], "-o/--output loop is a symbolic link that loops"),
        (["analyze", "loop"], "CHECKPOINT loop is a symbolic link that loops"),
        (["analyze", "m.pt", "--inputs", "loop"], "--inputs loop is a symbolic link that loops"),
        (["analyze", "m.pt", "--out", "loop"], "--out loop is a symbolic link that loops"),
        (["sweep", "--smoke", "--out", "loop/r"], "--out loop/r lies in loop, a symbolic link"),
        (["sweep", "loop.py", "--dry-run"], "experiment file loop.py is a symbolic link that"),
    ],
)
def test_a_path_that_is_a_symbolic_link_that_loops_is_said_to_be_one(
    tmp_path, monkeypatch, args, said
):
    """`ln -s loop loop`: `report loop` said "it is a file, not a directory", `analyze loop`
    "checkpoint loop does not exist" (Python reads a loop as missing, and as no folder), and
    `--out loop` "Too many levels of symbolic links". Every path a command takes is checked
    alike (cli.params' path_argument and path_option), and the library's messages say so too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "loop.py").symlink_to("loop.py")
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    (line,) = result.output.splitlines()
    assert line.startswith(f"error: {said}"), line
    for call, says in [
        (lambda: vl.load_manifest("loop"), "loop is not a vanishlab run directory (it is a sym"),
        (lambda: vl.analyze_checkpoint("loop", "o"), "checkpoint loop is a symbolic link that"),
    ]:
        with pytest.raises(vl.VanishlabError, match=f"^{re.escape(says)}"):
            call()


def test_the_library_says_which_of_a_dangling_link_and_a_loop_a_path_is(run_dir, tmp_path):
    """The command line refuses a loop before the library sees it; the library's own words
    (report's not_a_file, rundir's is_run_dir) said "a symbolic link to nothing (dangling, or a
    loop)" of both, and a report below a loop was a FileExistsError traceback from the mkdir of
    its folder, a run directory below one "Too many levels of symbolic links"."""
    import torch

    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    loop, dangling = tmp_path / "loop", tmp_path / "dangling"
    sweep = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2)
    for call, says in [
        (lambda o: vl.render_report(run_dir, o), "; give a file name for the report"),
        (lambda o: vl.run_sweep(sweep, o, workers=1), "; give out= another directory"),
        (lambda o: vl.JacobianMonitor(torch.nn.RNN(2, 3), torch.randn(3, 1, 2), out=o).__enter__(),
         "; give out= another directory"),
    ]:  # fmt: skip
        html = ".html" if "report" in says else ""
        for out, said in [
            (loop, f"{loop} is a symbolic link that loops"),
            (loop / f"sub{html}", f"{loop}/sub{html} lies in {loop}, a symbolic link that loops"),
            (dangling, f"{dangling} is a symbolic link to nothing"),
        ]:
            with pytest.raises(vl.VanishlabError, match=f"^{re.escape(said + says)}$"):
                call(out)
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.slow  # three processes that import torch
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_standard_output_is_named_as_such(tmp_path):
    """`vanishlab report RUN > /dev/full` said "No space left on device", as if the report had
    not been written (it had); a dry run's plan said the same. A sweep's said "the sweep has
    finished", naming neither its cells nor its folder: now both."""
    out = tmp_path / "r"
    vl.run_sweep(vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2), out, workers=1)
    grid = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "2"]
    commands = {
        "report": ["report", str(out), "-o", str(tmp_path / "r.html")],
        "plan": ["sweep", "--smoke", "--dry-run", "--out", str(tmp_path / "p")],
        "sweep": ["sweep", *grid, "-q", "--workers", "1", "--out", str(tmp_path / "s")],
    }
    said = {}
    for what, args in commands.items():
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [sys.executable, "-m", "vanishlab", *args],
                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
            )  # fmt: skip
        assert done.returncode == 2, what
        assert done.stderr.startswith("error: cannot write the standard output (/dev/full): "), what
        said[what] = done.stderr
    assert "the report is written" in said["report"] and (tmp_path / "r.html").exists()
    n_cells = vl.load_manifest(tmp_path / "s")["n_cells"]
    assert said["sweep"].endswith(
        f"; the sweep has finished: its {n_cells} cells kept in {tmp_path / 's'}\n"
    ), said["sweep"]


_BOOM_MODULE = """import vanishlab as vl


def _init(rnn, gain, generator):
    raise RuntimeError("boom at the init")


vl.register_init(vl.Init("boom_stdout", "raises", _init), replace=True)
SWEEP = vl.Sweep(init="boom_stdout", hidden_size=4, input_size=2, seq_len=4, batch=1)
"""


@pytest.mark.slow  # two processes that import torch
@pytest.mark.parametrize("stdout", ["closed pipe", "full"])
def test_failed_cells_are_said_and_status_1_with_stdout_refused(tmp_path, stdout):
    """The sweep printed its summary before its failure lines: with stdout a pipe whose reader
    had gone (`| head -c 0`) it ended 141, with `> /dev/full` 2, the failure lines unsaid."""
    if stdout == "full" and not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    module = tmp_path / "boom.py"
    module.write_text(_BOOM_MODULE)
    if stdout == "full":
        target = os.open("/dev/full", os.O_WRONLY)
    else:
        reader, target = os.pipe()
        os.close(reader)  # the reader has gone before the sweep writes
    try:
        done = subprocess.run(
            [sys.executable, "-m", "vanishlab", "sweep", str(module), "-q", "--workers", "1",
             "--out", str(tmp_path / "run")],
            stdout=target, stderr=subprocess.PIPE, text=True, timeout=300,
        )  # fmt: skip
    finally:
        os.close(target)
    assert done.returncode == 1, done.stderr
    assert "failed: 1 cell, error (rerun with --retry-failed once fixed)" in done.stderr
    stdout_line = "error: cannot write the standard output (/dev/full): "
    assert (stdout_line in done.stderr) == (stdout == "full"), done.stderr
    assert "Traceback" not in done.stderr


def test_plain_progress_lines_say_the_time_left(monkeypatch, capsys):
    """A batch job's log said how far a sweep had got and how long it had run, never how long
    it would still take, which the terminal's bar says ("ETA"). The pace is this invocation's:
    the 5 cells resumed from an earlier one took none of its time."""
    from types import SimpleNamespace

    from vanishlab.sweep import progress

    now = [100.0]
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    with progress.Progress(True, "p", total=15, done=5, failed=0) as bar:
        for _ in range(10):
            now[0] += 3.0
            bar.advance(failed=0)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "p: 7/15 cells (46%), 0 failed, 6 s, ETA 0:00:24"  # 8 cells at 3 s
    assert lines[-1] == "p: 15/15 cells (100%), 0 failed, 30 s"  # the last line: no time left


NO_TRAINING_NOTE = "note: this grid trains nothing (train_steps 0), so "


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--lr", "0"], "--lr 0.0 changes no measurement"),
        (["--optimizer", "sgd"], "--optimizer sgd changes no measurement"),
        (["--lr", "0.5", "--clip", "0"], "--lr 0.5 and --clip 0.0 change no measurement"),
        (["trainability", "--train-steps", "0", "--lr", "0.001"], "--lr 0.001 changes no"),
        (["--lr", "0.5"], "without it, under other cell ids; to train"),  # once: no count
        (["--lr", "0,0.5"], "under other cell ids, the same measurement 2 times over; "),
        (
            ["--lr", "0,0.5", "--optimizer", "sgd,adam"],
            "--lr 0.0,0.5 and --optimizer sgd,adam change no measurement: its cells measure "
            "what they would without them, under other cell ids, the same measurement 4 times "
            "over; to train",
        ),
    ],
)
def test_a_training_flag_on_a_grid_that_trains_nothing_is_noted(tmp_path, flags, said):
    """`vanishlab sweep --lr 0` on the quick grid (train_steps 0) was taken without a word and
    named the run default-lr=0.0, though lr changes nothing there (helper 162). It is not
    refused: a run made so records that command, which must still resume it and, replayed
    into a new directory, rebuild it (a vl.Sweep(lr=0.001) run records --lr 0.001 too); one
    note says so, naming the experiments that train, and counts the settings when several
    values measure each cell again alike. The run is named as before."""
    head = flags[:1] if flags[0] == "trainability" else []
    out = tmp_path / "never"
    args = ["sweep", *head, "--smoke", "--dry-run", *flags[len(head) :], "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(NO_TRAINING_NOTE) and said in lines[0]
    assert lines[0].endswith(
        "; to train, give --task and --train-steps, or sweep an experiment that trains "
        "(trainability)"
    ), lines[0]
    assert not out.exists()
    named = runner.invoke(app, ["sweep", "--smoke", "--dry-run", "--lr", "0"])
    assert named.stdout.startswith("default-smoke-lr=0.0: "), named.stdout  # named as before


@pytest.mark.parametrize(
    "flags",
    [
        ["--lr", "0.01"],  # the axis's default: the same cells as without it
        ["--train-steps", "0"],
        ["trainability"],  # it trains: --lr sets its training
        ["trainability", "--lr", "0.001,0.1", "--optimizer", "sgd", "--clip", "0"],
    ],
)
def test_a_training_flag_that_changes_nothing_or_sets_training_gets_no_note(flags):
    head = flags[:1] if flags[0] == "trainability" else []
    args = ["sweep", *head, "--smoke", "--dry-run", *flags[len(head) :]]
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and result.stderr == "", result.stderr


@pytest.mark.parametrize(
    ("lr", "said"),
    [
        (
            "0",
            "--lr must be above 0 to train: the grid has --train-steps above 0 and --lr 0",
        ),
        ("0.01,0", "--lr must be above 0 to train"),
        ("-1", "--lr: must be a finite number >= 0, got -1.0"),
        ("nan", "--lr: must be a finite number >= 0, got nan"),
        ("inf", "--lr: must be a finite number >= 0, got inf"),
        ("-inf", "--lr: must be a finite number >= 0, got -inf"),
    ],
)
def test_a_learning_rate_that_cannot_train_is_refused_in_one_line(tmp_path, lr, said):
    out = tmp_path / "never"
    for extra in ([], ["--dry-run"]):
        args = ["sweep", "trainability", "--smoke", "--lr", lr, "--out", str(out), *extra]
        one_error_line(runner.invoke(app, args), said)
    assert not out.exists()


def test_a_run_made_with_a_training_flag_that_trains_nothing_replays(tmp_path):
    """Why --lr on a grid that trains nothing is noted, not refused: the run records the
    command with --lr, which resumes it and, replayed into a new directory, rebuilds it."""
    out, again = tmp_path / "run", tmp_path / "again"
    args = ["sweep", *SMALL, "--seed", "0", "--init", "default", "--activation", "tanh"]
    result = runner.invoke(app, [*args, "--lr", "0", "--out", str(out), "--quiet", *IN_PROCESS])
    assert result.exit_code == 0 and result.stderr.startswith(NO_TRAINING_NOTE), result.stderr
    (command,) = vl.load_manifest(out)["commands"]
    words = shlex.split(command)[1:]
    assert "--lr" in words
    words[words.index("--out") + 1] = str(again)
    replay = runner.invoke(app, [*words, "--quiet", *IN_PROCESS])  # (--workers is not recorded)
    assert replay.exit_code == 0, replay.stderr
    assert sorted(vl.load_cells(again)["cell_id"]) == sorted(vl.load_cells(out)["cell_id"])


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_refused_command_with_a_training_flag_says_one_line(tmp_path, dry_run):
    """The note on --lr given to a grid that trains nothing came first, before the checks of
    where the run goes: `sweep --lr 0 --out FILE` said the note and then its error, two lines
    where a refusal is one. The note comes once the command is taken (after a dry run's plan,
    after a run with its warnings)."""
    (out := tmp_path / "a-file").write_text("x")
    args = ["sweep", "--smoke", "--lr", "0", "--out", str(out), *dry_run]
    one_error_line(runner.invoke(app, args), "exists and is not a directory")
    assert out.read_text() == "x"


def test_a_ctrl_c_swallowed_in_a_sweep_s_first_steps_stops_it_before_any_cell(
    tmp_path, monkeypatch
):
    """A Ctrl-C in a sweep's first second or two, while numpy's or pandas' extension modules
    loaded, was swallowed there (Cython's ``except: pass``; helper 202, 1 run in 65 on a loaded
    machine): the sweep measured every cell, 20-30 s, before its line "interrupted: it came
    where Python could not act on it; the command finished first". Here the sweep's first
    step swallows it the same way: the sweep stops at its next step, with its line, not after
    its last cell. (The stop is sent again from a thread within RESEND_S, 10 ms, or when a
    loaded machine next schedules it: smoke cells of ~10 ms each let 4 or more finish first
    then, and the test failed by chance. Each cell here takes a second of this process's
    time, which the stop ends: a stop never sent again lets all 8 finish.)

    The same sweep runs once first, unstopped: the stop sent again landed, 1 run in 30 on a
    loaded machine, in a step the sweep takes once per process, in the standard library's gap
    between making a file or directory handle and the ``with`` that closes it (importlib's
    ``with _io.open_code(path)``, importing vanishlab.sweep.runner; pathlib's ``with
    scandir(...)``, in the package digest's rglob), which left the handle to its finalizer:
    its ResourceWarning, an error under pytest's warnings-as-errors, failed this test at its
    call or at its teardown (when the garbage collector freed it). Done once first, the stop
    lands in the sweep's own steps. (The command is right either way: a user's Python ignores
    a ResourceWarning, and the finalizer closes the handle.)"""
    import signal
    import time

    from vanishlab.cli import sweep as sweep_cli
    from vanishlab.sweep import executors
    from vanishlab.sweep.shard_file import SHARD_SUFFIX

    first = runner.invoke(app, ["sweep", "--smoke", "--workers", "1", "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.stderr  # every module the sweep imports, imported
    real, measure = sweep_cli.variant, executors.run_task

    def a_second_each(*args, **kwargs):  # in this process (--workers 1): a stop ends it
        time.sleep(1.0)
        return measure(*args, **kwargs)

    monkeypatch.setattr(executors, "run_task", a_second_each)

    def swallowing(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs here, and raises
                pass
        except:  # noqa: E722 - the swallowing this test stands for
            pass
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep_cli, "variant", swallowing)
    out = tmp_path / "run"
    result = runner.invoke(app, ["sweep", "--smoke", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 130, result.stderr
    kept = len(list(out.rglob(f"*{SHARD_SUFFIX}")))
    assert kept < 4  # of the smoke grid's 8 cells
    # The resent stop may come before the folder is made: run alone, this test's sweep still
    # imports the runner (torch) when it lands; after other tests, it has made the folder.
    # A stop before the manifest leaves no folder (rundir.held_new_or_run, whole on the way
    # in; files.atomic_write): it left it, with .lock, a temp file or nothing, 6 runs in 40.
    said = {  # what the folder keeps, looked at after the stop
        0: f"no cell is saved yet ({out} keeps its manifest); run the same command to start again"
        if out.exists()
        else f"nothing was written ({out} does not exist)",
        1: f"1 finished cell kept in {out}; run the same command to resume",
    }.get(kept, f"{kept} finished cells kept in {out}; run the same command to resume")
    assert result.stderr == f"interrupted: {said}\n"


def test_an_out_that_is_a_file_says_the_way_out_as_one_below_a_file_does(tmp_path):
    """``--out somefile`` (a regular file) said "somefile exists and is not a directory", no
    flag named and no advice, where ``--out somefile/sub`` said "...; give --out (out=) another
    directory" (and a dry run of that said only "Not a directory"); the sweep, its dry run,
    analyze, run_sweep and the monitor (``out=``) now give the way out for both."""
    import torch

    (somefile := tmp_path / "somefile").write_text("x")
    torch.save(torch.nn.RNN(2, 4).state_dict(), checkpoint := tmp_path / "m.pt")
    sweep = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2)
    for out, said in [
        (somefile, f"{somefile} exists and is not a directory"),
        (somefile / "sub", f"cannot write the run directory {somefile}/sub: Not a directory"),
    ]:
        for args in (
            ["sweep", "--smoke", "--out", str(out)],
            ["sweep", "--smoke", "--out", str(out), "--dry-run"],
            ["analyze", str(checkpoint), "--out", str(out)],
        ):
            result = runner.invoke(app, args)
            one_error_line(result, f"{said}; give --out another directory")
            assert result.stderr.strip().endswith("another directory"), result.stderr
        with pytest.raises(vl.VanishlabError, match=f"^{re.escape(said)}; give out="):
            vl.run_sweep(sweep, out, workers=1, progress=False)
        with (
            pytest.raises(vl.VanishlabError, match=f"^{re.escape(said)}; give out= another d"),
            vl.JacobianMonitor(torch.nn.RNN(2, 3), torch.randn(3, 1, 2), out=out),
        ):
            pass
    assert somefile.read_text() == "x"


def test_an_experiment_in_the_current_folder_and_one_without_smoke_say_what_to_do(
    tmp_path, monkeypatch
):
    """`vanishlab sweep e1` with e1.py in the current folder (a name searches ./experiments)
    said "no experiment named 'e1'" without pointing at ./e1.py, and `--smoke` of an
    experiment without SMOKE "experiment e3 has no SMOKE variant", neither saying what to do."""
    monkeypatch.chdir(tmp_path)
    grid = "import vanishlab as vl\nSWEEP = vl.Sweep(hidden_size=4, input_size=2, seq_len=4)\n"
    (tmp_path / "e1.py").write_text(grid)
    (tmp_path / "experiments").mkdir()
    (e3 := tmp_path / "experiments" / "e3.py").write_text(grid)
    result = runner.invoke(app, ["sweep", "e1", "--dry-run"])
    one_error_line(result, "no experiment named 'e1' (looked in ")
    assert result.stderr.rstrip().endswith("; ./e1.py is run by its path: vanishlab sweep ./e1.py")
    assert runner.invoke(app, ["sweep", "./e1.py", "--dry-run"]).exit_code == 0
    assert "./nope.py" not in runner.invoke(app, ["sweep", "nope"]).stderr  # none there
    result = runner.invoke(app, ["sweep", "e3", "--smoke", "--dry-run"])
    one_error_line(
        result,
        f"experiment e3 has no SMOKE variant: define SMOKE = vanishlab.Sweep(...) in {e3}, or "
        "drop --smoke",
    )
    for what, said in [
        (vl.Sweep(hidden_size=4), "a bare vl.Sweep"),
        (
            vl.Experiment(name="mine", description="", sweep=vl.Sweep(hidden_size=4)),
            "experiment mine",
        ),
    ]:
        with pytest.raises(vl.VanishlabError, match=f"^{said} has no SMOKE variant: give vl\\."):
            vl.run_sweep(what, tmp_path / "r", smoke=True)
    assert not (tmp_path / "r").exists()


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_q_is_short_for_quiet(tmp_path):
    """``-q`` was "No such option: -q" (exit 2): the short spelling most tools take for quiet.
    It runs the sweep as --quiet does, with no summary on stdout: the run directory alone."""
    args = ["sweep", "--smoke", "--seq-len", "4", "--out", str(tmp_path / "r")]
    loud = runner.invoke(app, [*args, "--workers", "1"])
    assert loud.exit_code == 0, loud.stderr
    assert loud.stdout.strip()  # the summary
    again = runner.invoke(
        app,
        [
            "sweep",
            "--smoke",
            "--seq-len",
            "4",
            "--out",
            str(tmp_path / "q"),
            "--workers",
            "1",
            "-q",
        ],
    )
    assert again.exit_code == 0, again.stderr
    assert again.stdout == f"{tmp_path / 'q'}\n"


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_quiet_is_one_option_of_sweep_analyze_and_report(tmp_path, monkeypatch):
    """``-q/--quiet`` was sweep's alone: ``analyze -q`` and ``report -q`` were "No such option"
    (exit 2), and analyze's progress could not be turned off. Each takes it now, meaning the
    same: no progress and no summary, the path written alone on stdout."""
    import torch
    from torch import nn

    import vanishlab.report as report_module
    from vanishlab.trained import analyze_run

    monkeypatch.setattr(analyze_run, "is_terminal", lambda: True)  # its progress: at once
    torch.save(nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    analyze = ["analyze", str(tmp_path / "m.pt"), "--seq-len", "4", "--batch", "2", "--out"]
    loud = runner.invoke(app, [*analyze, str(tmp_path / "a")])
    assert loud.exit_code == 0 and "measuring" in loud.stderr, loud.stderr
    assert loud.stdout.startswith("nn.RNN(2, 3") and loud.stdout.endswith(f"-> {tmp_path / 'a'}\n")
    quiet = runner.invoke(app, [*analyze, str(tmp_path / "q"), "-q"])
    assert quiet.exit_code == 0, quiet.stderr
    assert (quiet.stdout, quiet.stderr) == (f"{tmp_path / 'q'}\n", "")
    asked = []
    render = report_module.render_report

    def spy(*args, **kwargs):
        asked.append(kwargs.get("progress"))
        return render(*args, **kwargs)

    monkeypatch.setattr(report_module, "render_report", spy)
    for flag, progress in (([], None), (["--quiet"], False), (["-q"], False)):
        page = tmp_path / f"r{len(asked)}.html"
        result = runner.invoke(app, ["report", str(tmp_path / "q"), "-o", str(page), *flag])
        assert result.exit_code == 0, result.stderr
        assert (result.stdout, result.stderr, asked[-1]) == (f"{page}\n", "", progress)
    helps = [runner.invoke(app, [c, "--help"]).stdout for c in ("sweep", "analyze", "report")]
    assert all("-q" in h and "No progress and no summary" in h for h in helps)


def test_a_worker_death_names_the_signal_that_tells_most():
    """The pool sends SIGTERM to the rest as it breaks (a worker ignores it): a -15 beside
    another code is passed over; no code at all keeps the old guess."""
    from vanishlab.sweep.worker_deaths import worker_death

    assert str(worker_death([None, -15, -11])).endswith("killed by SIGSEGV")
    assert str(worker_death([-15, None])).endswith("killed by SIGTERM")
    assert "killed by SIGKILL (" in str(worker_death([0, -9]))
    died = worker_death([None, 0])
    assert (str(died), died.then) == (
        "a worker process died (out of memory?)",
        ", perhaps with fewer --workers (workers=)",
    )


@pytest.mark.parametrize("columns", ["100", "50"])  # rich's help, and the plain one
def test_usage_lines_write_a_required_argument_as_the_others_do(monkeypatch, columns):
    """typer 0.29 wrote ``Usage: vanishlab analyze [OPTIONS] {CHECKPOINT}`` (and ``{RUN_DIR}``
    for report) beside sweep's ``[EXPERIMENT]``: braces, where the help and the errors say
    CHECKPOINT."""
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.delenv("TERMINAL_WIDTH", raising=False)
    for command, argument in (("report", "RUN_DIR"), ("analyze", "CHECKPOINT")):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, result.stderr
        (usage,) = [line.strip() for line in result.stdout.splitlines() if "Usage:" in line]
        assert usage == f"Usage: vanishlab {command} [OPTIONS] {argument}", usage


@pytest.mark.parametrize(
    ("dry_run", "said"),
    [(True, "a dry run writes nothing"), (False, "nothing was written ({out} does not exist)")],
)
def test_a_stop_while_the_experiment_module_runs_says_what_is_left(tmp_path, dry_run, said):
    """Ctrl-C while an experiment module is imported (seconds, where it imports torch) said
    "finished work is kept; run the same command to resume", of a dry run too, and of a run
    that had no folder yet."""
    module = tmp_path / "slow.py"
    module.write_text('"""Slow."""\nraise KeyboardInterrupt\n')
    out = tmp_path / "new"
    args = ["sweep", str(module), "--out", str(out), *(["--dry-run"] if dry_run else [])]
    result = runner.invoke(app, args)
    assert result.exit_code == 130, result.stderr
    assert result.stderr == f"interrupted: {said.format(out=out)}\n", result.stderr
    assert not out.exists()


def test_a_sigterm_while_the_experiment_module_runs_stays_a_stop(tmp_path):
    """The stops the command raises are no failure of the module (which any other
    BaseException at its top level is): SIGTERM there ends the sweep as SIGTERM does."""
    module = tmp_path / "slow.py"
    module.write_text('"""Slow."""\nfrom vanishlab.cli.stops import Terminated\nraise Terminated\n')
    result = runner.invoke(app, ["sweep", str(module), "--dry-run"])
    assert result.exit_code == 143, result.stderr
    assert result.stderr == "terminated: a dry run writes nothing\n", result.stderr
