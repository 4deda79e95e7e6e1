"""What a new user hit with runs (issue 8): names, reports that replace others, damaged shards,
stuck directories, smoke directories, failures, and one-line errors instead of tracebacks."""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import math
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _cli_lines import one_error_line
from _peak import measured_peak
from _refused_writes import refuse_writes_in
from _report_run import reproduce_text
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.core.cells import RUN_SOURCES
from vanishlab.errors import VanishlabError
from vanishlab.sweep import shard_file, store
from vanishlab.sweep.config import Sweep
from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT, variant
from vanishlab.sweep.inits import INITS, Init, register_init
from vanishlab.sweep.memory import cell_bytes, measure_bytes

runner = CliRunner()
TINY = {"hidden_size": 4, "input_size": 2, "seq_len": 4, "batch": 2}
SMALL = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "2"]


#: The trainability smoke's flags whose run name is past 80 characters: custom-9a2375b1.
LONG_FLAGS: dict[str, tuple[object, ...]] = {
    "model": ("lstm", "gru"),
    "init": ("default", "orthogonal"),
    "seq_len": (6, 60),
    "lr": (0.01, 0.001),
    "optimizer": ("sgd",),
    "clip": (1.0,),
}


@pytest.fixture
def run_dir(smoke_run_dir, tmp_path) -> Path:
    return Path(shutil.copytree(smoke_run_dir, tmp_path / "run"))


# --- a run is named and described after its own grid ---------------------------------------


def test_flags_built_grid_is_named_after_out_and_its_axes(tmp_path):
    out = tmp_path / "r1"
    args = ["sweep", "--activation", "relu", "--num-layers", "2", "--gain", "1.5", *SMALL]
    # (--workers 1: in this process, not a pool started for 2 cells; the name is the check)
    args += ["--init", "orthogonal", "--out", str(out), "--quiet", "--workers", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    manifest = vl.load_manifest(out)
    assert manifest["name"] == "r1"
    description = manifest["description"]
    assert "Quick default grid" not in description and "T = 100" not in description
    assert "activation = relu" in description and "seq_len = 4" in description
    assert "other axes as in the quick default grid" in description

    # Without --out, the directory and the name come from the axes given.
    result = runner.invoke(app, ["sweep", "--activation", "relu", "--seq-len", "300", "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "-> runs/default-activation=relu-seq_len=300 (new run directory)" in result.stdout
    assert result.stdout.startswith("default-activation=relu-seq_len=300: 48 cells;")


def test_variant_names():
    smoke = variant(DEFAULT_EXPERIMENT, smoke=True)
    assert smoke.name == "default-smoke" and smoke.description.startswith("Smoke variant: 8 cells")
    assert smoke.sweep == DEFAULT_EXPERIMENT.smoke
    long = variant(DEFAULT_EXPERIMENT, overrides={"seed": tuple(range(100))})
    assert long.name.startswith("default-custom-") and len(long.name) == len("default-custom-") + 8
    assert variant(DEFAULT_EXPERIMENT, out="runs/x").name == "x"
    assert variant(DEFAULT_EXPERIMENT) == DEFAULT_EXPERIMENT


def test_a_new_axis_at_its_default_keeps_a_long_run_name():
    """docs/design.md: an axis added after runs exist keeps their cell ids, so they resume;
    but a long run name's custom-<hash> hashed every axis, so adding one renamed the run, and
    the same command made a new directory under its default --out (helper 164:
    trainability-smoke-custom-9a2375b1 became -56107243). An axis at its default is left out
    of the digest now, as it is of a cell id; off its default it still names a grid apart."""
    import dataclasses

    from vanishlab.sweep import config
    from vanishlab.sweep.experiments import load_experiment

    dummy = config.Axis(
        "dummy_depth", int, 3, meaning="a test axis", help="Dummy depths.", example="1,2",
        label="dummy", low=1, in_id_at_default=False,
    )  # fmt: skip
    axes = config.AxisSet((*config.AXIS_TABLE, dummy))
    exp = load_experiment("trainability")
    flags = LONG_FLAGS

    def name(smoke: dict[str, Any]) -> str:
        grown = dataclasses.replace(exp, smoke=axes.Sweep(**smoke))
        return variant(grown, smoke=True, overrides=flags).name

    assert variant(exp, smoke=True, overrides=flags).name == "trainability-smoke-custom-9a2375b1"
    assert name(exp.smoke.axes()) == "trainability-smoke-custom-9a2375b1"
    moved = name({**exp.smoke.axes(), "dummy_depth": (1, 2)})
    assert moved.startswith("trainability-smoke-custom-") and not moved.endswith("9a2375b1")


def test_run_names_follow_the_rule_the_docs_state():
    """docs/cli.md, "Naming a run" (once the README's): one -axis=values per axis flag, values
    as read, in the order of the axis table whatever the order given (--seeds last); past 80
    characters, custom- and 8 hex digits of a SHA-256 of the whole grid. Only the axis=value
    form was described, and a user met trainability-smoke-custom-<hash> unexplained."""
    import hashlib

    from vanishlab.sweep.experiments import load_experiment

    def name(*args: str) -> str:
        result = runner.invoke(app, ["sweep", *args, "--dry-run"])
        assert result.exit_code == 0, result.stderr
        return result.stdout.split(":", 1)[0]

    relu = name("--activation", "relu", "--seq-len", "300")
    assert relu == name("--seq-len", "300", "--activation", "relu")
    assert relu == "default-activation=relu-seq_len=300"
    assert name("--gain", "1", "--seeds", "3") == "default-gain=1.0-seed=0,1,2"
    flags = "--model lstm,gru --init default,orthogonal --seq-len 6,60 --lr 0.01,0.001 "
    long = name("trainability", "--smoke", *(flags + "--optimizer sgd --clip 1").split())
    assert long == "trainability-smoke-custom-9a2375b1"
    docs = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    docs = " ".join(docs.split())  # the examples wrap
    assert f"--optimizer sgd --clip 1` -> `runs/{long}`" in docs
    assert f"--seq-len 300` -> `runs/{relu}`" in docs
    overrides = LONG_FLAGS
    grid = variant(load_experiment("trainability"), smoke=True, overrides=overrides).sweep
    text = json.dumps({a: list(v) for a, v in grid.axes().items()}, sort_keys=True)
    assert long.endswith(hashlib.sha256(text.encode()).hexdigest()[:8])
    # up to 80 characters of axes are written out; one more flag makes them custom-<hash>
    short = name("trainability", "--smoke", *(flags + "--optimizer sgd").split())
    assert 70 < len(short) - len("trainability-smoke-") <= 80
    assert short.endswith("-optimizer=sgd")


def test_an_axis_flag_no_model_of_the_grid_has_does_not_name_the_run():
    """`--model lstm --activation tanh` is accepted (tanh is the axis's default, and an LSTM
    cell records no activation), but the run was named `default-model=lstm-activation=tanh-
    init=default`, a directory apart from `--model lstm`'s for the same cells, and described
    with `activation = n/a`. The flag now changes nothing: name, description and grid are those
    of the command without it. Beside an rnn the activation still names the run."""
    import dataclasses

    gated = {"model": ("lstm",), "init": ("default",)}
    without = variant(DEFAULT_EXPERIMENT, overrides=gated)
    given = variant(DEFAULT_EXPERIMENT, overrides={**gated, "activation": ("tanh",)})
    assert given.name == without.name == "default-model=lstm-init=default"
    assert given.description == without.description and "activation" not in given.description
    assert given.sweep == without.sweep
    mixed = variant(DEFAULT_EXPERIMENT, overrides={**gated, "model": ("rnn", "lstm")})
    assert mixed.name == "default-model=rnn,lstm-init=default"
    named = {"model": ("rnn", "lstm"), "activation": ("tanh",), "init": ("default",)}
    assert variant(DEFAULT_EXPERIMENT, overrides=named).name == (
        "default-model=rnn,lstm-activation=tanh-init=default"
    )
    assert variant(DEFAULT_EXPERIMENT, overrides={"activation": ("tanh",)}).name == (
        "default-activation=tanh"
    )
    # An experiment of gated cells alone, given only that flag, is its own grid and name.
    lstm = dataclasses.replace(DEFAULT_EXPERIMENT, sweep=DEFAULT_EXPERIMENT.sweep.replace(**gated))
    assert variant(lstm, overrides={"activation": ("tanh",)}) == lstm
    # The command line's default directory follows.
    args = ["sweep", "--model", "lstm", "--init", "default", "--activation", "tanh", "--dry-run"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "-> runs/default-model=lstm-init=default (new run directory)" in result.stdout


def test_a_description_shows_an_axis_no_model_of_the_grid_has_as_not_applicable():
    # trainability's smoke with --model gru said "activation = tanh" where the report's Fixed
    # settings said "n/a": a GRU cell records no activation.
    from vanishlab.sweep.experiments import load_experiment
    from vanishlab.sweep.plan import json_axes
    from vanishlab.sweep.run_manifest import _description

    gru = {"model": ("gru",), "init": ("default",)}
    exp = variant(load_experiment("trainability"), smoke=True, overrides=gru)
    assert "model = gru; activation = n/a; " in exp.description, exp.description
    # Beside an nn.RNN, the activation is that of its cells; a forced extension says alike.
    both = variant(
        load_experiment("trainability"), smoke=True, overrides={**gru, "model": ("rnn", "gru")}
    )
    assert "activation = tanh" in both.description, both.description
    # a manifest's grids, as read back (Sweep.from_axes: replace refuses relu beside gru alone)
    relu = Sweep.from_axes({**exp.sweep.axes(), "activation": ("relu",)})
    grids = [json_axes(exp.sweep), json_axes(relu)]
    assert _description("", None, grids, 4).endswith("4 cells; activation = n/a")


def test_smoke_runs_get_their_own_directory():
    result = runner.invoke(app, ["sweep", "seq_len", "--smoke", "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "-> runs/seq_len-smoke (" in result.stdout
    result = runner.invoke(app, ["sweep", "seq_len", "--dry-run"])
    assert "-> runs/seq_len (" in result.stdout


# --- a report never silently replaces another run's ----------------------------------------


@pytest.mark.slow  # several seconds: the CI runs the slow tier
def test_report_refuses_to_replace_another_runs_report(run_dir, tmp_path):
    other = Path(shutil.copytree(run_dir, tmp_path / "other"))
    manifest = vl.load_manifest(other)
    store.write_manifest(other, {**manifest, "run_id": "another"})
    page = tmp_path / "page.html"
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(page)])
    assert result.exit_code == 0, result.stderr
    assert store.report_run(page) == store.run_identity(vl.load_manifest(run_dir))
    first = page.read_bytes()

    result = runner.invoke(app, ["report", str(other), "-o", str(page)])
    line = one_error_line(result, "exists and is another run's report")
    assert "--force" in line and "-o/--output another file" in line
    assert page.read_bytes() == first  # untouched

    # The same run's own report is refreshed; --force replaces another's.
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(page)])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["report", str(other), "-o", str(page), "--force"])
    assert result.exit_code == 0, result.stderr
    assert store.report_run(page) == "another"

    stranger = tmp_path / "notes.html"
    stranger.write_text("<p>mine</p>")
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(stranger)])
    one_error_line(result, "exists and is not a vanishlab report")
    assert stranger.read_text() == "<p>mine</p>"


@pytest.mark.slow  # 5 s; the command line's refusal of the same, above, is slow-tier too
def test_render_report_refuses_another_runs_report_unless_told(run_dir, tmp_path):
    # The library call follows the command's rule; overwrite=True is its --force.
    other = Path(shutil.copytree(run_dir, tmp_path / "other"))
    store.write_manifest(other, {**vl.load_manifest(other), "run_id": "another"})
    page = tmp_path / "page.html"
    assert vl.render_report(run_dir, page, timestamp="2024-01-01") == page
    first = page.read_bytes()
    with pytest.raises(vl.VanishlabError, match="exists and is another run's report") as err:
        vl.render_report(other, page, timestamp="2024-01-01")
    assert "overwrite=True" in str(err.value) and "\n" not in str(err.value)
    assert page.read_bytes() == first  # untouched
    assert vl.render_report(run_dir, page, timestamp="2024-01-02") == page  # its own: refreshed
    assert page.read_bytes() != first
    assert vl.render_report(other, page, timestamp="2024-01-01", overwrite=True) == page
    assert store.report_run(page) == "another"

    stranger = tmp_path / "notes.html"
    stranger.write_text("<p>mine</p>")
    with pytest.raises(vl.VanishlabError, match="exists and is not a vanishlab report"):
        vl.render_report(run_dir, stranger)
    assert stranger.read_text() == "<p>mine</p>"
    vl.render_report(run_dir, stranger, overwrite=True)
    assert store.report_run(stranger) == store.run_identity(vl.load_manifest(run_dir))
    with pytest.raises(vl.VanishlabError, match="is a directory"):
        vl.render_report(run_dir, tmp_path, overwrite=True)


# --- damaged shards are never used, and the sweep heals them ----------------------------------


def _damage_data_page(path: Path) -> None:
    """Overwrite bytes inside the data page of the column log10_fro_mean."""
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    column = meta.row_group(0).column(names.index("log10_fro_mean"))
    end = column.data_page_offset + column.total_compressed_size
    data = bytearray(path.read_bytes())
    data[end - 12 : end - 4] = bytes(b ^ 0x5A for b in data[end - 12 : end - 4])
    path.write_bytes(bytes(data))


def _run_with_a_damaged_shard(tmp_path: Path) -> tuple[Sweep, Path, Any, Path]:
    """A two-cell run, its results, and its first shard with a damaged data page."""
    grid = Sweep(gain=(0.5, 1.0), **TINY)
    out = tmp_path / "run"
    vl.run_sweep(grid, out, workers=1, progress=False)
    before = vl.load_results(out)
    shard = sorted((out / "cells").glob("*.parquet"))[0]
    _damage_data_page(shard)
    return grid, out, before, shard


def test_damaged_shard_is_refused_then_moved_aside_and_measured_again(tmp_path):
    grid, out, before, shard = _run_with_a_damaged_shard(tmp_path)

    with pytest.raises(store.CorruptShardError) as err:
        vl.load_results(out)
    assert str(shard) in str(err.value) and "run the command that wrote this run again" in str(
        err.value
    )
    result = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")])
    one_error_line(result, f"{shard} is corrupt")

    plan = __import__("vanishlab.sweep.plan", fromlist=["plan_sweep"]).plan_sweep(grid, out)
    assert [bad.path for bad in plan.corrupt] == [shard] and len(plan.pending()) == 1

    summary = vl.run_sweep(grid, out, workers=1, progress=False)
    assert summary.n_run == 1 and summary.moved_aside == (out / "corrupt" / shard.name,)
    assert (out / "corrupt" / shard.name).exists()  # kept, not deleted
    assert vl.load_results(out).equals(before)  # healed, bit for bit
    assert "moved aside (corrupt; measured again): " in summary.failure_lines()[0]
    assert summary.not_remeasured == ()


@pytest.mark.parametrize("target", ["elsewhere/gone.parquet", "loop"], ids=["gone", "loop"])
def test_a_shard_that_is_a_link_to_nothing_is_said_to_be_one_and_left_as_it_is(tmp_path, target):
    """A shard kept on another disk through a link, that disk not mounted: the link was called
    corrupt ("unexpected file"), and the sweep moved it aside and measured its cell again
    (helper 368). It is no damage of the shard's: said in files.link_problem's words, left as
    it is, and the run refused until its target is back or the link is removed."""
    grid = Sweep(gain=(0.5, 1.0), **TINY)
    out = tmp_path / "run"
    vl.run_sweep(grid, out, workers=1, progress=False)
    shard = sorted((out / "cells").glob("*.parquet"))[0]
    shard.unlink()
    shard.symlink_to(shard if target == "loop" else tmp_path / target)
    words = "a symbolic link that loops" if target == "loop" else "a symbolic link to nothing"
    said = f"cannot read {shard}: it is {words}, not a damaged shard, left as it is; " + (
        "a loop has no target to restore: replace it with the shard (or a link to one)"
        if target == "loop"  # "restore its target" was said of a loop too
        else "restore its target (or the shard in its place)"
    )
    with pytest.raises(VanishlabError, match="not a damaged shard") as err:
        vl.load_results(out)
    assert not isinstance(err.value, store.CorruptShardError) and str(err.value).startswith(said)
    result = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")])
    one_error_line(result, said)
    with pytest.raises(VanishlabError, match="not a damaged shard"):
        vl.run_sweep(grid, out, workers=1, progress=False)
    assert shard.is_symlink() and not (out / "corrupt").exists()


def test_a_cells_folder_that_is_a_link_to_nothing_is_said_to_be_one(tmp_path):
    """RUN_DIR/cells a link whose folder is on a disk not mounted now was said to be "not a
    folder", which sent the user looking for a file there (helper 368)."""
    grid = Sweep(gain=(0.5, 1.0), **TINY)
    out = tmp_path / "run"
    vl.run_sweep(grid, out, workers=1, progress=False)
    shutil.move(out / "cells", tmp_path / "kept")
    (out / "cells").symlink_to(tmp_path / "gone")
    said = f"{out / 'cells'} is a symbolic link to nothing: a run keeps its shards in cells/"
    with pytest.raises(VanishlabError) as err:
        vl.load_results(out)
    assert str(err.value).startswith(said)
    one_error_line(runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")]), said)
    assert (out / "cells").is_symlink()


@pytest.mark.parametrize("link", ["nothing", "loop"])
def test_a_manifest_that_is_a_link_to_nothing_is_said_to_be_one_and_left_as_it_is(tmp_path, link):
    """RUN_DIR/manifest.json a link whose file is on a disk not mounted now (or one that
    loops): the report said the run had "(no manifest.json)", and the sweep that it "holds
    measured cells ... but no manifest.json: a run whose manifest was removed"."""
    grid = Sweep(gain=(0.5, 1.0), **TINY)
    out = tmp_path / "run"
    vl.run_sweep(grid, out, workers=1, progress=False)
    manifest = out / "manifest.json"
    manifest.unlink()
    manifest.symlink_to(manifest if link == "loop" else tmp_path / "gone.json")
    # a loop has no target to restore: "restore its target" was said of one too
    words = {
        "nothing": "to nothing, left as it is; restore its target (or a copy of the manifest in "
        "its place) and run the command again",
        "loop": "that loops, left as it is; a loop has no target to restore: replace it with a "
        "copy of the manifest (or a link to one) and run the command again",
    }[link]
    said = f"cannot read {manifest}: it is a symbolic link {words}"
    with pytest.raises(VanishlabError, match="^" + re.escape(said)):
        vl.load_results(out)
    one_error_line(runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")]), said)
    with pytest.raises(VanishlabError, match="^" + re.escape(said)):
        vl.run_sweep(grid, out, workers=1, progress=False)
    result = runner.invoke(app, ["sweep", "--gain", "0.5", "--out", str(out)])
    assert one_error_line(result, said).endswith("or give --out a new or empty directory")
    assert manifest.is_symlink() and os.readlink(manifest) == str(
        manifest if link == "loop" else tmp_path / "gone.json"
    )
    assert not (tmp_path / "r.html").exists()


def test_a_file_named_corrupt_is_refused_before_anything_is_written(tmp_path):
    """A regular file at RUN_DIR/corrupt: the sweep wrote its manifest, then said "File
    exists: RUN_DIR/corrupt", which named neither the folder it wanted nor what to do."""
    grid, out, _, shard = _run_with_a_damaged_shard(tmp_path)
    (out / "corrupt").write_text("my notes")
    manifest = (out / "manifest.json").read_bytes()
    said = f"{out / 'corrupt'} is not a folder: a run moves damaged shards into corrupt/"
    with pytest.raises(VanishlabError, match=re.escape(said)):
        vl.run_sweep(grid, out, workers=1, progress=False)
    with pytest.raises(VanishlabError, match=re.escape(said)):
        store.sound_metas(out)  # the way of analyze and of a reopened monitor
    command = shlex.split(vl.load_manifest(out)["command"])[1:]  # the run's own flags
    result = runner.invoke(app, [*command, "--workers", "1", "--quiet"])
    assert result.exit_code == 2 and result.output == f"error: {said}; move it aside\n"
    assert (out / "manifest.json").read_bytes() == manifest and shard.exists()
    assert (out / "corrupt").read_text() == "my notes"
    # The report's advice ("run the command again: it moves the file aside to RUN/corrupt") led
    # to that refusal: the file in the way is named first.
    result = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")])
    line = one_error_line(result, f"{shard} is corrupt")
    way = (
        f"{out / 'corrupt'} is not a folder, where a run moves damaged shards: move it aside, then"
    )
    assert way in line


def test_a_corrupt_folder_the_run_cannot_write_is_refused_before_anything_is_written(
    tmp_path, monkeypatch
):
    """A damaged shard to move aside and a corrupt/ folder the run may not write in (read-only,
    or denied): the sweep wrote its manifest, then failed moving the shard. Root, which runs
    this suite, may write anything: here corrupt/ denies what it denies a user after chmod."""
    grid, out, _, shard = _run_with_a_damaged_shard(tmp_path)
    aside = (out / "corrupt").resolve()
    aside.mkdir()
    real_write = Path.write_bytes

    def write_bytes(path: Path, data: bytes) -> int:
        if path.resolve().parent == aside:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    manifest = (out / "manifest.json").read_bytes()
    said = f"cannot write {out / 'corrupt'}, where the run moves damaged shards: Permission denied"
    with pytest.raises(VanishlabError, match=re.escape(said)):
        vl.run_sweep(grid, out, workers=1, progress=False)
    assert (out / "manifest.json").read_bytes() == manifest and shard.exists()


def test_a_damaged_shard_on_another_file_system_is_copied_aside_and_measured_again(
    tmp_path, monkeypatch
):
    """A cells/ folder mounted from another file system: renaming its damaged shard into
    corrupt/ failed with EXDEV ("Invalid cross-device link"), one line, and every resume
    failed the same way. Now the shard is copied aside, byte for byte, then removed."""
    grid, out, before, shard = _run_with_a_damaged_shard(tmp_path)
    damaged = shard.read_bytes()
    replace = os.replace

    def across_devices(src, dst, **kw):
        if Path(src).parent != Path(dst).parent:  # only within one folder: one file system
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(src), None, str(dst))
        return replace(src, dst, **kw)

    monkeypatch.setattr(os, "replace", across_devices)
    monkeypatch.setattr(os, "rename", across_devices)
    summary = vl.run_sweep(grid, out, workers=1, progress=False)
    aside = out / "corrupt" / shard.name
    assert summary.n_run == 1 and summary.moved_aside == (aside,)
    assert aside.read_bytes() == damaged  # kept whole
    assert sorted(p.name for p in (out / "corrupt").iterdir()) == [shard.name]  # no temp file
    assert vl.load_results(out).equals(before)  # healed, bit for bit


def test_a_damaged_shard_outside_this_grid_is_not_said_to_be_measured_again(tmp_path):
    # A resume of part of a run moved it aside and said "measured again", which it was not.
    out = tmp_path / "run"
    vl.run_sweep(Sweep(gain=(0.5, 1.0), **TINY), out, workers=1, progress=False)
    part = Sweep(gain=1.0, **TINY)
    outside = next(
        p
        for p in (out / "cells").glob("*.parquet")
        if p.stem not in {c.cell_id for c in part.cells()}
    )
    _damage_data_page(outside)
    summary = vl.run_sweep(part, out, workers=1, progress=False)
    assert summary.n_run == 0 and summary.not_remeasured == (out / "corrupt" / outside.name,)
    (line,) = summary.failure_lines()
    assert "not in this grid" in line and "measured again)" not in line


def test_rows_that_do_not_match_their_digest_are_refused(tmp_path):
    out = tmp_path / "run"
    vl.run_sweep(Sweep(**TINY), out, workers=1, progress=False)
    shard = next((out / "cells").glob("*.parquet"))
    table = pq.read_table(shard)
    values = table.column("log10_fro_mean").to_pylist()
    values[1] += 1.0
    i = table.schema.get_field_index("log10_fro_mean")
    table = table.set_column(i, table.schema.field(i), pa.array(values, pa.float64()))
    pq.write_table(table, shard)  # metadata (and its digest) kept, values altered
    with pytest.raises(store.CorruptShardError, match="do not match their checksum"):
        vl.load_results(out)


def test_unparseable_shard_of_this_run_is_healed_but_a_foreign_file_is_not(tmp_path):
    grid = Sweep(**TINY)
    out = tmp_path / "run"
    vl.run_sweep(grid, out, workers=1, progress=False)
    shard = next((out / "cells").glob("*.parquet"))
    shard.write_bytes(b"PAR1junk")
    assert vl.run_sweep(grid, out, workers=1, progress=False).n_run == 1
    (out / "cells" / "x.parquet").write_bytes(b"PAR1junk")
    with pytest.raises(vl.VanishlabError, match=r"x\.parquet is not a valid vanishlab shard"):
        vl.run_sweep(grid, out, workers=1, progress=False)


def test_an_unreadable_shard_is_not_taken_for_a_damaged_one(run_dir, monkeypatch):
    # chmod 000 cannot stop root, so the shard reader's open raises what it raises for a user then.
    shard = sorted((run_dir / "cells").glob("*.parquet"))[0]

    def denied(source, *args, **kwargs):
        if Path(source) == shard:
            raise PermissionError(errno.EACCES, "Permission denied", str(source))
        return open(source, *args, **kwargs)

    monkeypatch.setattr(shard_file, "open", denied, raising=False)
    before = {str(p): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}
    for args in (
        ["sweep", "--smoke", "--workers", "1", "--quiet", "--out", str(run_dir)],
        ["sweep", "--smoke", "--dry-run", "--out", str(run_dir)],
        ["report", str(run_dir), "-o", str(run_dir.parent / "r.html")],
    ):
        one_error_line(runner.invoke(app, args), f"permission denied: {shard}")
    with pytest.raises(vl.VanishlabError, match="permission denied"):
        vl.load_results(run_dir)
    assert {str(p): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()} == before
    assert not (run_dir / "corrupt").exists() and not (run_dir.parent / "r.html").exists()


# --- a directory that finished no cell is not stuck -----------------------------------------


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_directory_without_a_finished_cell_is_started_afresh(tmp_path):
    out = tmp_path / "run"
    old = {a: list(v) for a, v in Sweep(gain=1.0, **TINY).axes().items()}
    store.write_manifest(out.mkdir() or out, {"format": store.FORMAT, "name": "x", "axes": old})
    summary = vl.run_sweep(Sweep(gain=2.0, **TINY), out, workers=1, progress=False)
    assert summary.n_run == 1 and vl.load_manifest(out)["axes"]["gain"] == [2.0]

    # The CLI too: a refused first attempt leaves a manifest only.
    out2 = tmp_path / "run2"
    store.write_manifest(out2.mkdir() or out2, {"format": store.FORMAT, "name": "y", "axes": old})
    # (--workers 1: its 32 cells in this process, where they started a pool of one worker a
    # core; the cells are bit-identical on any count, test_workers_are_bit_identical_to_one)
    args = ["sweep", *SMALL, "--gain", "3", "--out", str(out2), "--quiet", "--workers", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr


# --- failures: reasons with counts, a kind as data, retry on request ------------------------


def _boom(rnn, gain, generator):
    raise RuntimeError("boom at the init")


def _fine(rnn, gain, generator):
    INITS["default"].apply(rnn, gain, generator)


def test_failures_are_listed_by_kind_and_retried_on_request(tmp_path):
    register_init(Init("boom_test", "raises", _boom), replace=True)
    try:
        grid = Sweep(init="boom_test", seed=(0, 1), **TINY)
        out = tmp_path / "run"
        summary = vl.run_sweep(grid, out, workers=1, progress=False)
        assert summary.failures == (("error", 2, "RuntimeError: boom at the init"),)
        assert summary.n_errors == 2
        assert summary.failure_lines() == [
            "failed: 2 cells, error (rerun with --retry-failed once fixed); "
            "e.g. RuntimeError: boom at the init"
        ]
        assert set(vl.load_cells(out)["failure"]) == {"error"}
        # Its report lists the error: rebuilding the cell for its theory raised the same error
        # again, and the report ended in a traceback, every time.
        table = vl.summarize(out)
        assert table["flag"].str.contains("no-theory").all()
        assert vl.render_report(out, tmp_path / "report.html").is_file()
        assert vl.run_sweep(grid, out, workers=1, progress=False).n_run == 0  # kept as is
        register_init(Init("boom_test", "fixed", _fine), replace=True)
        again = vl.run_sweep(grid, out, workers=1, progress=False, retry_failed=True)
        assert (again.n_run, again.n_failed, again.failures) == (2, 0, ())
        assert set(vl.load_cells(out)["status"]) == {"ok"}
    finally:
        INITS.pop("boom_test", None)


def _global_rng(rnn, gain, generator):
    import torch

    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.randn(p.shape) * 0.3)  # torch's global RNG, not the generator


def test_an_init_that_draws_from_the_global_rng_fails_its_cells_and_leaves_the_rng(tmp_path):
    """Such an init's weights changed with the cells run before it in the same process (and
    with the process that ran the cell): the same sweep gave other numbers every time, and
    nothing said so."""
    import torch

    register_init(Init("global_rng_test", "global RNG", _global_rng), replace=True)
    try:
        grid = Sweep(init="global_rng_test", seed=(0, 1), **TINY)
        state = torch.random.get_rng_state()
        summary = vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
        assert torch.equal(state, torch.random.get_rng_state())
        assert summary.n_errors == 2
        ((kind, count, reason),) = summary.failures
        assert (kind, count) == ("error", 2)
        assert "'global_rng_test' drew from torch's global random generator" in reason
    finally:
        INITS.pop("global_rng_test", None)


def test_cells_built_in_two_threads_at_once_do_not_see_each_others_draws(monkeypatch):
    """Dask workers run cells in threads. cell_module compares torch's global generator
    before and after the init's apply, and another thread's nn.RNN constructor drawing from it
    in between failed the cell as if its init had drawn ("init ... drew from torch's global
    random generator": 54 of 8000 builds with 4 threads). Here the main thread's constructor
    has drawn (and not yet restored the generator) when the other thread's apply ends: the
    main thread's build now waits for the other's."""
    import threading

    from torch import nn

    from vanishlab.sweep.cell import cell_module
    from vanishlab.sweep.config import CellConfig

    in_apply, drawn, errors = threading.Event(), threading.Event(), []
    reset = nn.RNNBase.reset_parameters

    def reset_then_pause(self) -> None:
        reset(self)  # draws from the global generator (inside cell_module's fork)
        if threading.current_thread() is threading.main_thread():
            drawn.set()
            time.sleep(0.2)

    def waiting_orthogonal(rnn, gain, generator):
        INITS["orthogonal"].apply(rnn, gain, generator)
        in_apply.set()
        drawn.wait(0.4)  # before the fix: the main thread's constructor has drawn by now

    monkeypatch.setattr(nn.RNNBase, "reset_parameters", reset_then_pause)
    base = {"activation": "tanh", "gain": 1.0, "num_layers": 1, "hidden_size": 8}
    base |= {"input_size": 2, "seq_len": 3, "batch": 1, "seed": 0}

    def other() -> None:
        config = CellConfig(init="orthogonal", **base)
        try:
            cell_module(config, Init("orthogonal", "waits", waiting_orthogonal))
        except VanishlabError as err:
            errors.append(str(err))

    thread = threading.Thread(target=other)
    thread.start()
    assert in_apply.wait(5)
    cell_module(CellConfig(init="normal", **base))
    thread.join()
    assert errors == []


def _recurrent_only(rnn, gain, generator):
    rnn.weight_hh_l0.data.normal_(0.0, gain / rnn.hidden_size**0.5, generator=generator)


def test_an_init_that_leaves_parameters_as_drawn_by_the_constructor_fails_its_cells(tmp_path):
    """An init that set W_hh only kept W_ih and the biases nn.RNN had drawn from torch's
    global RNG: the same sweep gave other numbers with --workers 1 and 2, and nothing said so."""
    register_init(Init("partial_test", "W_hh only", _recurrent_only), replace=True)
    try:
        grid = Sweep(init="partial_test", seed=(0, 1), **TINY)
        summary = vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
        ((kind, count, reason),) = summary.failures
        assert (kind, count) == ("error", 2)
        assert "'partial_test' left weight_ih_l0, bias_ih_l0, bias_hh_l0 as nn.RNN drew them" in (
            reason
        )
    finally:
        INITS.pop("partial_test", None)


def _nan_weights(rnn, gain, generator):
    _fine(rnn, gain, generator)
    rnn.weight_hh_l0.data[0, 0] = math.nan


def test_an_init_that_sets_nan_weights_is_an_error_not_an_overflow(tmp_path):
    """It was recorded as "the weights overflow float32 at gain 1" with failure "overflow": a
    result of the setting, that --retry-failed cannot change, and the sweep exited 0."""
    register_init(Init("nan_test", "NaN weights", _nan_weights), replace=True)
    try:
        grid = Sweep(init="nan_test", seed=(0, 1), **TINY)
        summary = vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
        assert summary.failures == (
            (
                "error",
                2,
                "ValueError: init 'nan_test' set weight_hh_l0 to inf or NaN at gain 1, where "
                "the gain cannot overflow float32",
            ),
        )
    finally:
        INITS.pop("nan_test", None)


def _nested_apply():
    def apply(rnn, gain, gen):
        _fine(rnn, gain, gen)

    return apply


def test_an_init_that_cannot_reach_the_workers_is_named_in_a_line_of_its_own():
    """The refusal embedded pickle's own text, with a memory address ("Can't pickle
    <function <lambda> at 0x7f...>: attribute lookup <lambda> on tests.test_runs failed"): it
    now says which function is a lambda or nested one, and what to do."""
    from vanishlab.sweep.preflight import check_sendable

    fine = INITS["normal"]
    cases = [
        (Init("l", "d", lambda rnn, gain, gen: _fine(rnn, gain, gen)), "its apply is a lambda"),
        (
            Init("n", "d", _nested_apply()),
            "its apply is a function nested in another (_nested_apply.<locals>.apply)",
        ),
        (Init("v", "d", fine.apply, lambda h, i, g: None), "its variances is a lambda"),
    ]
    for init, what in cases:
        with pytest.raises(vl.VanishlabError) as err:
            check_sendable([fine, init])
        assert str(err.value) == (
            f"init {init.name!r} cannot be sent to worker processes: {what}; define it with def "
            "at the top level of a module (workers import it by name), or run with workers=1"
        )
    check_sendable([fine, Init("m", "d", _fine)])


def test_an_init_that_cannot_reach_the_workers_is_refused_before_anything_is_written(tmp_path):
    """A lambda cannot be pickled: with workers > 1 the sweep raised pickle's own error as a
    77-line traceback, after it had made the run directory."""
    register_init(Init("lambda_test", "a lambda", lambda rnn, gain, gen: _fine(rnn, gain, gen)))
    try:
        grid = Sweep(init="lambda_test", seed=(0, 1), **TINY)
        with pytest.raises(vl.VanishlabError, match="'lambda_test' cannot be sent to worker"):
            vl.run_sweep(grid, tmp_path / "run", workers=2, progress=False)
        assert not (tmp_path / "run").exists()
        assert vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False).n_run == 2
    finally:
        INITS.pop("lambda_test", None)


def test_an_init_of_a_notebook_cell_is_refused_before_workers_start(tmp_path, monkeypatch):
    """An init whose apply is a notebook cell's function (its module ``__main__``, which has
    no file to re-run) pickled here and was missing in every worker: each printed its own
    traceback ("Can't get attribute ... on <module '__main__' (built-in)>") and the sweep
    stopped with "a worker process exited with status 1", to be run again the same way."""
    import types

    def apply(rnn, gain, gen):
        _fine(rnn, gain, gen)

    apply.__module__, apply.__qualname__ = "__main__", "apply"
    notebook = types.ModuleType("__main__")  # an IPython kernel's: no __file__, no __spec__
    notebook.apply = apply  # defined in its namespace, so it pickles here by name
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    register_init(Init("cell_test", "a notebook cell's", apply))
    try:
        grid = Sweep(init="cell_test", seed=(0, 1), **TINY)
        with pytest.raises(vl.VanishlabError) as err:
            vl.run_sweep(grid, tmp_path / "run", workers=2, progress=False)
        assert str(err.value) == (
            "init 'cell_test' cannot be sent to worker processes: its apply (apply) is defined "
            "in this interactive session (a notebook's cell), which they cannot import; define "
            "it in a module file and import it from there, or run with workers=1"
        )
        assert not (tmp_path / "run").exists()
        assert vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False).n_run == 2
        from vanishlab.sweep.preflight import check_importable

        notebook.__file__ = str(tmp_path / "script.py")  # a script's: the workers re-run it
        check_importable([INITS["cell_test"]])
    finally:
        INITS.pop("cell_test", None)


def test_a_partial_of_a_notebook_cell_s_function_is_refused_too(monkeypatch):
    """functools.partial(apply, ...) of a cell's function pickles that function by name as
    well, but the partial's own ``__module__`` is functools': check_importable passed it and
    every worker died as before ("Can't get attribute 'apply' on <module '__main__'>", then
    "a worker process exited with status 1"; seen with ``python -c``). The partial is looked
    into, however deep; one of an importable function still passes."""
    import functools
    import types

    from vanishlab.sweep.preflight import check_importable

    def apply(rnn, gain, gen, scale=1.0):
        _fine(rnn, gain, gen)

    apply.__module__, apply.__qualname__ = "__main__", "apply"
    notebook = types.ModuleType("__main__")  # an IPython kernel's: no __file__, no __spec__
    notebook.apply = apply
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    twice = functools.partial(functools.partial(apply, scale=2.0), scale=3.0)
    with pytest.raises(vl.VanishlabError, match=r"its apply \(apply\) is defined in this"):
        check_importable([Init("partial_test", "a cell's, partly applied", twice)])
    check_importable([Init("partial_test", "an importable one's", functools.partial(_fine))])


def test_overflow_is_a_result_listed_once_with_its_count(tmp_path):
    grid = Sweep(activation="relu", init="identity", gain=(20.0, 30.0), seed=(0, 1), **TINY)
    grid = grid.replace(seq_len=60)
    summary = vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
    (kind, count, reason), *rest = summary.failures
    assert (kind, count, rest, summary.n_errors) == ("overflow", 4, [], 0)
    assert "overflowed" in reason and len(summary.failure_lines()) == 1


def test_cli_exit_status_for_failed_cells(tmp_path):
    module = tmp_path / "boomexp.py"
    module.write_text(
        '"""Fails."""\nimport vanishlab as vl\n'
        "def boom(rnn, gain, generator):\n    raise RuntimeError('boom')\n"
        "vl.register_init(vl.Init('boom_cli', 'raises', boom), replace=True)\n"
        "SWEEP = vl.Sweep(init='boom_cli', hidden_size=4, input_size=2, seq_len=3, batch=2)\n"
    )
    try:
        result = runner.invoke(
            app, ["sweep", str(module), "--out", str(tmp_path / "r"), "--workers", "1"]
        )
        assert result.exit_code == 1, result.stderr
        assert "failed: 1 cell, error (rerun with --retry-failed" in result.stderr
        assert "RuntimeError: boom" in result.stderr
        # The plan of the same run: an error, which a retry may fix (an overflow would not).
        plan = runner.invoke(app, ["sweep", str(module), "--out", str(tmp_path / "r"), "--dry-run"])
        assert "1 of them failed (--retry-failed measures them again)" in plan.stdout
    finally:
        INITS.pop("boom_cli", None)


# --- one line and exit 2, never a traceback -------------------------------------------------


def test_out_where_the_file_system_refuses(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker / "run", Path("/proc/vanishlab-test/run")):
        result = runner.invoke(app, ["sweep", "--smoke", "--out", str(out)])
        one_error_line(result, f"cannot write the run directory {out}: ")

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    result = runner.invoke(app, ["sweep", "--smoke", "--out", str(tmp_path / "ro")])
    one_error_line(result, "Read-only file system")


def test_report_output_where_the_file_system_refuses(report_run, tmp_path):
    run = report_run("bare")  # a page of no figure: where its file goes is the test
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cases = {
        blocker / "r.html": f"{blocker}/r.html: {blocker} is not a folder; no report written",
        blocker / "sub" / "r.html": f"{blocker} is not a folder",
        Path("/proc/vanishlab-test/r.html"): "cannot write /proc/vanishlab-test/r.html: ",
        tmp_path: "is a directory; give -o/--output a file name",
    }
    for out, message in cases.items():
        result = runner.invoke(app, ["report", str(run), "-o", str(out)])
        one_error_line(result, message)


def test_a_disk_full_before_the_sweep_names_the_lock_file(tmp_path, monkeypatch):
    """A disk already full when a sweep starts: the lock file's pid is buffered, its flush
    fails and names the lock; the close that followed flushed again, failed again naming no
    file, and replaced that error: "error: No space left on device" (helper 144, a tmpfs)."""
    from vanishlab.sweep import lock

    real_open = open

    class Full:
        def __init__(self, f) -> None:
            self._f = f

        def _full(self) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self) -> None:
            self._full()

        def close(self) -> None:
            self._f.close()
            self._full()  # as a buffered file's close fails to flush what it holds

        def __getattr__(self, name):
            return getattr(self._f, name)

    monkeypatch.setattr(lock, "open", lambda p, *a, **k: Full(real_open(p, *a, **k)), raising=False)
    out = tmp_path / "new"
    result = runner.invoke(app, ["sweep", *SMALL, "--workers", "1", "--quiet", "--out", str(out)])
    one_error_line(result, f"cannot write {out / '.lock'}: No space left on device")


def test_a_full_disk_names_the_file_being_written(bare_copy, tmp_path, monkeypatch):
    # It printed only 'error: No space left on device' (write and fsync name no file).
    run = bare_copy  # in tmp_path, without a summary's cache: the report's writing it fails too
    from vanishlab.sweep import files

    real_open = open

    class Full:
        def __init__(self, f) -> None:
            self._f = f

        def write(self, data) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self._f.close()

    monkeypatch.setattr(
        files, "open", lambda p, *a, **k: Full(real_open(p, *a, **k)), raising=False
    )
    out = tmp_path / "new"
    result = runner.invoke(app, ["sweep", *SMALL, "--workers", "1", "--quiet", "--out", str(out)])
    one_error_line(result, f"cannot write {out / 'manifest.json'}: No space left on device")
    page = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(page)])
    line = one_error_line(result, f"cannot write {page}: No space left on device")
    assert line.endswith("; no report written") and not page.exists()
    leftovers = [p for p in tmp_path.rglob(f"*{store.TMP_SUFFIX}") if p.name != ".lock"]
    assert leftovers == []  # nothing half-written is left behind


def test_a_failed_report_removes_the_empty_folders_it_made_only(report_run, tmp_path, monkeypatch):
    """A report whose write failed (a full disk) left the folders it made for its -o behind
    (kept/new/deeper, empty); an existing folder, empty or not, stays whatever happens."""
    run = report_run("bare")  # made, if first asked for here, before the writes fail
    from vanishlab.sweep import files

    def full(path, write) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("vanishlab.report.atomic_write", full)
    kept = tmp_path / "kept"
    kept.mkdir()  # empty, and existed before: never removed
    page = kept / "new" / "deeper" / "r.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(page)])
    one_error_line(result, f"cannot write {page}: No space left on device (")
    assert kept.is_dir() and list(kept.iterdir()) == []
    with pytest.raises(OSError), files.folders_made(kept / "a" / "b"):  # the API's helper
        (kept / "a" / "x").write_text("another's file")  # not empty: a stays, b goes
        raise OSError(errno.ENOSPC, "No space left on device")
    assert sorted(p.name for p in kept.rglob("*")) == ["a", "x"]


def test_a_full_disk_reads_as_one_path_in_the_api(tmp_path, monkeypatch):
    # vl.run_sweep into a full disk raised "[Errno 28] No space left on device:
    # 'RUN/cells/<id>.parquet' -> None": the second path, cleared, was shown as None.
    from vanishlab.sweep import files

    def full(f) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "x.parquet"
    with pytest.raises(OSError) as caught:
        files.atomic_write(target, full)
    assert str(caught.value) == f"[Errno 28] No space left on device: '{target}'"

    def rename(src, dst) -> None:  # a rename that names both, the temp file first
        raise OSError(errno.EIO, "Input/output error", str(src), None, str(dst))

    monkeypatch.setattr(files.os, "replace", rename)
    with pytest.raises(OSError) as caught:
        files.atomic_write(target, lambda f: f.write(b"x"))
    assert str(caught.value) == f"[Errno 5] Input/output error: '{target}'"
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left behind


def test_two_writers_of_one_file_at_once_each_write_it_whole(tmp_path):
    # Two `vanishlab report` of one run each refresh its summary's cache (and may write one
    # -o): both wrote ".<name>.tmp", so the second truncated the first's temp file and renamed
    # it, and the first wrote on into the renamed file: the final name held a mixture
    # ("BBBBAAAA"), and the first failed ("No such file or directory").
    from vanishlab.sweep import files

    target = tmp_path / "summary.parquet"

    def first(f) -> None:  # the other writer runs in the middle of this one
        f.write(b"A" * 4)
        f.flush()
        files.atomic_write(target, lambda g: g.write(b"B" * 8))
        assert target.read_bytes() == b"B" * 8  # whole, at every instant
        f.write(b"A" * 4)

    files.atomic_write(target, first)
    assert target.read_bytes() == b"A" * 8  # the last renamed, whole
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left


@pytest.mark.parametrize("name", ["r" * 240 + ".html", "é" * 125 + ".html"])
def test_a_file_name_that_fits_is_written_whatever_its_temp_files_name(tmp_path, name):
    # The temp file's own random part (".<name>.<8 hex>.tmp") made names of 242-255 bytes,
    # which fit a file system, fail as "File name too long" naming the target: the name is
    # now cut in the temp file's (a cut multi-byte character stays the same bytes).
    from vanishlab.sweep import files

    target = tmp_path / name
    files.atomic_write(target, lambda f: f.write(b"x"))
    assert target.read_bytes() == b"x" and [p.name for p in tmp_path.iterdir()] == [name]


def test_a_report_is_never_written_inside_its_run_directory(run_dir, tmp_path, monkeypatch):
    # In cells/ it broke the run ("not a valid vanishlab shard"); with --force, -o
    # RUN/manifest.json replaced the manifest with HTML. Symbolic links are resolved.
    def snapshot() -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}

    before = snapshot()
    (tmp_path / "link").symlink_to(run_dir)
    for out in (
        run_dir / "cells" / "r.html",
        run_dir / "manifest.json",
        run_dir / "new" / "r.html",
        tmp_path / "link" / "cells" / "r.html",
    ):
        for force in ([], ["--force"]):
            result = runner.invoke(app, ["report", str(run_dir), "-o", str(out), *force])
            one_error_line(
                result, f"{out} is inside the run directory {run_dir}; give -o/--output a"
            )
        with pytest.raises(vl.VanishlabError, match="is inside the run directory"):
            vl.render_report(run_dir, out, overwrite=True)
    monkeypatch.chdir(run_dir)  # the default path, reports/<name>.html, would be inside too
    result = runner.invoke(app, ["report", str(run_dir)])
    one_error_line(result, "reports/default-smoke.html is inside the run directory")
    assert snapshot() == before
    vl.load_results(run_dir)  # still a sound run


def test_a_report_is_never_written_inside_another_run_directory(run_dir, smoke_run_dir, tmp_path):
    # Only the reported run was checked: `report B -o A/cells/x.html` broke run A, and with
    # --force `-o A/manifest.json` replaced A's manifest with HTML (a symlink too).
    other = Path(shutil.copytree(smoke_run_dir, tmp_path / "other"))
    before = {str(p): p.read_bytes() for p in sorted(other.rglob("*")) if p.is_file()}
    (tmp_path / "link").symlink_to(other / "cells")
    for out in (other / "cells" / "x.html", other / "manifest.json", tmp_path / "link" / "r.html"):
        result = runner.invoke(app, ["report", str(run_dir), "-o", str(out), "--force"])
        one_error_line(result, f"is inside the run directory {other.resolve()}; give -o/--output a")
        with pytest.raises(vl.VanishlabError, match="is inside the run directory"):
            vl.render_report(run_dir, out, overwrite=True)
    assert {str(p): p.read_bytes() for p in sorted(other.rglob("*")) if p.is_file()} == before
    vl.load_results(other)


def test_an_out_inside_another_run_directory_is_refused(run_dir, tmp_path):
    # A run in RUN/cells/ broke RUN ("not a valid vanishlab shard"); anywhere inside it mixes
    # with its files. Another program's manifest.json above --out is no run directory.
    import torch

    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    before = {str(p): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}
    for out in (run_dir / "cells" / "sub", run_dir / "sub" / "deeper"):
        for args in (
            ["sweep", *SMALL, "--workers", "1", "--quiet", "--out", str(out)],
            ["sweep", *SMALL, "--dry-run", "--out", str(out)],
            [
                "analyze",
                str(tmp_path / "m.pt"),
                "--seq-len",
                "3",
                "--batch",
                "1",
                "--out",
                str(out),
            ],
        ):
            result = runner.invoke(app, args)
            one_error_line(result, f"{out} is inside the run directory {run_dir.resolve()}")
    assert {str(p): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()} == before
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "manifest.json").write_text('{"name": "my web app"}')
    result = runner.invoke(app, ["sweep", *SMALL, "--dry-run", "--out", str(tmp_path / "web/r")])
    assert result.exit_code == 0, result.stderr


def test_a_cell_too_big_for_memory_is_refused_up_front(tmp_path, monkeypatch):
    """The refusal names the memory available, which each command reads: the two read 21.1
    and 21.0 GiB on a machine others shared, and the lines differed. Both read 16 GiB here."""
    from vanishlab.sweep import plan
    from vanishlab.sweep import runner as sweep_runner

    for module in (sweep_runner, plan):  # the run's check, and the plan's memory
        monkeypatch.setattr(module, "available_bytes", lambda: 16 * 2**30)
    out = tmp_path / "run"
    result = runner.invoke(app, ["sweep", "--hidden-size", "100000", "--out", str(out)])
    line = one_error_line(result, "hidden_size 100000")
    assert "needs about" in line and "TiB" in line and "and 16.0 GiB is available;" in line
    assert not out.exists()
    # The run points to --dry-run, which checks smaller sizes without running them.
    assert line.endswith("choose smaller sizes (--dry-run checks them without running anything)")
    # The dry run shows the plan, then says what the run would: one line, status 2 (it said
    # nothing and passed). It does not point to --dry-run itself: "(--dry-run shows the
    # estimate)" was said to a user who had just run one, below the estimate.
    result = runner.invoke(app, ["sweep", "--hidden-size", "100000", "--dry-run"])
    assert "memory: the largest cell needs about" in result.stdout
    dry = one_error_line(result, "hidden_size 100000")
    assert "--dry-run" not in dry and dry == line.removesuffix(
        " (--dry-run checks them without running anything)"
    )
    assert not out.exists()
    big = vl.CellConfig(hidden_size=100000)
    assert cell_bytes(big) > 6 * 8 * 100000**2 * 4  # at least the working matrices


def test_run_sweep_refuses_a_cell_too_big_without_the_commands_advice(tmp_path, monkeypatch):
    """vl.run_sweep's refusal ended "(--dry-run checks them without running anything)": a
    flag of the command line, which Python has no counterpart of. The command adds it."""
    from vanishlab.sweep import runner as sweep_runner

    monkeypatch.setattr(sweep_runner, "available_bytes", lambda: 16 * 2**30)
    out = tmp_path / "run"
    with pytest.raises(VanishlabError) as refused:
        vl.run_sweep(vl.Sweep(hidden_size=100000), out, workers=1, progress=False)
    text = str(refused.value)
    assert "hidden_size 100000" in text and text.endswith("choose smaller sizes"), text
    assert "--dry-run" not in text and "\n" not in text
    assert not out.exists()


def test_a_cell_that_would_train_too_long_is_refused_up_front(tmp_path):
    """--train-steps had no bound: 10**12 ran a cell for centuries, and a cell cannot resume
    midway. The estimate of cost.py refuses it, as memory's does a cell too large."""
    from vanishlab.sweep.config import LONGEST_CELL_DAYS
    from vanishlab.sweep.cost import cell_cost

    out = tmp_path / "run"
    flags = ["sweep", "trainability", "--smoke", "--train-steps", str(10**12), "--out", str(out)]
    # (the dry run first: where it is not refused, the run would train for centuries)
    dry = one_error_line(runner.invoke(app, [*flags, "--dry-run"]), "cannot stop and resume")
    days = f"at most {LONGEST_CELL_DAYS} days a cell); choose fewer --train-steps or smaller sizes"
    assert "(train_steps 1000000000000, hidden_size" in dry and dry.endswith(days)
    line = one_error_line(runner.invoke(app, flags), dry)
    assert line == f"{dry} (--dry-run checks them without running anything)"
    with pytest.raises(VanishlabError, match=r"choose fewer train_steps= or smaller sizes$"):
        grid = Sweep(task="adding", input_size=2, seq_len=5, hidden_size=4, train_steps=10**12)
        vl.run_sweep(grid, out, workers=1, progress=False)
    assert not out.exists()
    # The bound is the estimate's, not the steps': a step of a small cell is milliseconds.
    ok = vl.CellConfig(task="adding", input_size=2, seq_len=5, hidden_size=4, train_steps=10**8)
    assert 1 < cell_cost(ok) / 86400 < LONGEST_CELL_DAYS
    result = runner.invoke(app, [*flags[:3], "--train-steps", str(10**6), "--dry-run"])
    assert result.exit_code == 0, result.stderr


def test_an_untrained_cell_that_would_measure_too_long_is_refused_up_front(tmp_path, monkeypatch):
    """Only a trained cell's time was bounded: an untrained nn.RNN of H = 16384 and T = 100000
    (about 56 GiB: it fits a 64 GiB machine, and a Dask cluster's memory is not checked up front)
    was accepted, to measure for about 84 days with no way to resume midway."""
    from vanishlab.errors import CellTooLargeError
    from vanishlab.sweep import plan
    from vanishlab.sweep import runner as sweep_runner
    from vanishlab.sweep.config import LONGEST_CELL_DAYS
    from vanishlab.sweep.cost import cell_cost

    for module in (sweep_runner, plan):  # memory for it: only its time is refused here
        monkeypatch.setattr(module, "available_bytes", lambda: 128 * 2**30)
    big = vl.CellConfig(hidden_size=16384, seq_len=100000, batch=1)
    days = cell_cost(big) / 86400
    assert days > LONGEST_CELL_DAYS and cell_bytes(big) < 64 * 2**30
    out = tmp_path / "run"
    flags = ["sweep", "--hidden-size", "16384", "--seq-len", "100000", "--batch", "1"]
    flags += ["--activation", "tanh", "--num-layers", "1", "--out", str(out)]
    dry = one_error_line(runner.invoke(app, [*flags, "--dry-run"]), "cannot stop and resume")
    assert dry == (
        "error: a cell of this sweep (hidden_size 16384, batch 1, num_layers 1, seq_len 100000) "
        f"would take about {days:,.0f} days on one CPU thread, and a cell cannot stop and resume "
        f"midway (at most {LONGEST_CELL_DAYS} days a cell); choose smaller sizes"
    )
    # The run itself, on a cluster (its memory is the cluster's): refused before it connects.
    line = one_error_line(runner.invoke(app, [*flags, "--scheduler", "tcp://127.0.0.1:9"]), dry)
    assert line == f"{dry} (--dry-run checks them without running anything)"
    grid = vl.Sweep(hidden_size=16384, seq_len=100000, batch=1)
    with pytest.raises(CellTooLargeError, match=r"days a cell\); choose smaller sizes$"):
        vl.run_sweep(grid, out, scheduler="tcp://127.0.0.1:9", progress=False)
    assert not out.exists()
    # The bound is the estimate's: a cell of a quarter of the lags, under it, is accepted.
    ok = vl.CellConfig(hidden_size=16384, seq_len=25000, batch=1)
    assert 1 < cell_cost(ok) / 86400 < LONGEST_CELL_DAYS
    result = runner.invoke(app, [*flags[:3], "--seq-len", "25000", *flags[5:-2], "--dry-run"])
    assert result.exit_code == 0, result.stderr


def test_a_run_directory_that_cannot_be_made_leaves_no_folder_of_its_own(tmp_path):
    """--out new/deeper/<a name too long>: mkdir(parents=True) made new/deeper, then refused
    the last name, and the refused sweep left both behind. Only the folders this call made go;
    one that existed before stays, with what it holds."""
    grid = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=1)
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "note.txt").write_text("mine")
    out = tmp_path / "kept" / "new" / "deeper" / ("a" * 300)
    with pytest.raises(VanishlabError, match=r"cannot write the run directory .*too long"):
        vl.run_sweep(grid, out, workers=1, progress=False)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept", "note.txt"]
    result = runner.invoke(app, ["sweep", *SMALL, "--workers", "1", "--out", str(out)])
    one_error_line(result, "File name too long; give --out another directory")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept", "note.txt"]


_PEAK = """
kind, sources = sys.argv[1], tuple(sys.argv[2].split(","))
torch.manual_seed(0)  # the peak depends on the draw: how soon the power iterations settle
module = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind](16, 256)
x = torch.randn(50, 8, 16)
report_peak(
    lambda: vl.jacobian_log_norms(module, x[:4], sources=sources),
    lambda: vl.jacobian_log_norms(module, x, sources=sources),
)
"""

_EVERY_SOURCE = ("state", "input", "state_h", "state_c")


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux /proc only")
@pytest.mark.parametrize(
    ("model", "sources"),
    [  # make test's time: all in the slow tier (which CI runs)
        pytest.param("rnn", RUN_SOURCES, marks=pytest.mark.slow),
        pytest.param("gru", RUN_SOURCES, marks=pytest.mark.slow),
        pytest.param("lstm", RUN_SOURCES, marks=pytest.mark.slow),
        pytest.param("lstm", _EVERY_SOURCE, marks=pytest.mark.slow),
    ],
)
def test_the_memory_estimate_bounds_themeasured_peak(model, sources):
    """The estimate that refuses cells up front is an upper bound for every model (an LSTM
    holds four times an RNN's spectral queues when its h and c blocks are measured too; the
    RNN formula was under an LSTM's peak by 2.8x), and not a loose one: counting those two
    queues for the sources a sweep and an analysis measure, which never include them, made an
    LSTM's estimate 3.7x its peak (2.2x an RNN's, 2.5x a GRU's) and refused sizes that fit
    (nn.LSTM(256, 512, 2), T = 40: 3.5 GiB estimated, 1.36 GiB measured with Python's own)."""
    peak = measured_peak(_PEAK, model, ",".join(sources))
    cfg = vl.CellConfig(
        model=model, hidden_size=256, input_size=16, seq_len=50, batch=8,
        **({"activation": None, "init": "default"} if model != "rnn" else {}),
    )  # fmt: skip
    sizes = {k: getattr(cfg, k) for k in ("seq_len", "num_layers", "batch", "hidden_size")}
    need = measure_bytes(**sizes, input_size=16, dtype="float32", model=model, sources=sources)
    assert peak <= need <= 3 * peak, (peak, need)
    if sources == RUN_SOURCES:  # a sweep's cell: the same estimate
        assert cell_bytes(cfg) == need


_TRAINED_PEAK = """
kind = sys.argv[1]
settings = dict(model=kind, input_size=2, task="adding", train_steps=1, input_std=0.41)
settings.update({"activation": None, "init": "default"} if kind != "rnn" else {})
report_peak(
    lambda: run_cell(vl.CellConfig(seq_len=5, hidden_size=8, **settings)),
    lambda: run_cell(vl.CellConfig(seq_len=60, hidden_size=64, **settings)),
)
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux /proc only")
@pytest.mark.slow  # 6-9 s each: make test's time (the slow tier runs in CI)
@pytest.mark.parametrize("model", ["rnn", "gru"])
def test_the_memory_estimate_of_a_trained_cell_bounds_its_training(model):
    """A trained cell's training evaluates 1,000 held-out sequences and back-propagates 64
    through time; the estimate counted the measurement's 8 sequences alone (about 1 MiB here,
    where the cell peaked at some 60 MiB: an RNN at T = 500, H = 128 took 1.1 GiB against
    35 MiB estimated), so a trainability sweep too large for the machine was not refused."""
    peak = measured_peak(_TRAINED_PEAK, model)
    cfg = vl.CellConfig(
        model=model, input_size=2, task="adding", train_steps=1, input_std=0.41,
        seq_len=60, hidden_size=64,
        **({"activation": None, "init": "default"} if model != "rnn" else {}),
    )  # fmt: skip
    assert peak <= cell_bytes(cfg), (peak, cell_bytes(cfg))


_CELL_PEAK = """
report_peak(
    lambda: run_cell(vl.CellConfig(seq_len=5, hidden_size=8)),
    lambda: run_cell(vl.CellConfig(seq_len=1200, hidden_size=16, num_layers=4, batch=64)),
)
"""


@pytest.mark.slow  # 10 s: make test's time (the slow tier runs in CI)
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux /proc only")
def test_the_memory_estimate_bounds_a_whole_cell_where_the_states_dominate():
    """A cell is measured, then summarised: its Lyapunov exponent made a float64 copy of every
    step's derivatives at once, 2 T L B H float32 numbers beyond the engine's forward states, so
    a long cell of a narrow network (T = 1200, H = 16, 4 layers, B = 64) peaked above its
    estimate (0.81x at T = 1500); each step's are made float64 as they are used now."""
    peak = measured_peak(_CELL_PEAK)
    cfg = vl.CellConfig(seq_len=1200, hidden_size=16, num_layers=4, batch=64)
    assert peak <= cell_bytes(cfg), (peak, cell_bytes(cfg))


def test_a_bad_scheduler_fails_at_once_in_one_line(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["sweep", "--smoke", "--scheduler", "notanaddress", "--out", str(out)]
    )
    one_error_line(result, "'notanaddress' is not a scheduler address")
    result = runner.invoke(
        app, ["sweep", "--smoke", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)]
    )
    one_error_line(result, "cannot connect to the Dask scheduler at tcp://127.0.0.1:1")
    for port in ("99999", "0"):  # was tried, and reported as "Connection refused"
        args = ["sweep", "--smoke", "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(out)]
        one_error_line(runner.invoke(app, args), f"port {port} is not a TCP port")
    # inproc:// waited 20 s and printed a traceback as its client was collected; ucx://
    # without its packages raised a TypeError.
    for address in ("inproc://x", "ucx://1.2.3.4:5"):
        args = ["sweep", "--smoke", "--scheduler", address, "--out", str(out)]
        one_error_line(runner.invoke(app, args), "is not supported; give tcp://HOST:PORT")
    assert not out.exists()


def test_a_dry_run_refuses_a_scheduler_address_the_run_would_refuse(tmp_path):
    """--dry-run exited 0 for --scheduler http://x:1, which the run refuses; it checks the
    address's form now, without connecting (a scheduler need not be up to plan a run)."""
    out = tmp_path / "run"
    for address, words in (
        ("http://x:1", "is not a scheduler address"),
        ("tcp://127.0.0.1:0", "port 0 is not a TCP port"),
        ("inproc://x", "is not supported"),
    ):
        args = ["sweep", "--smoke", "--dry-run", "--scheduler", address, "--out", str(out)]
        one_error_line(runner.invoke(app, args), words)
    args = ["sweep", "--smoke", "--dry-run", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)]
    result = runner.invoke(app, args)  # well formed, nothing listening: a plan all the same
    assert result.exit_code == 0, result.output
    assert not out.exists()


def test_a_dry_run_with_a_scheduler_says_when_dask_is_missing(tmp_path, monkeypatch):
    """--dry-run --scheduler exited 0 without Dask, where the run refuses in one line."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    args = ["sweep", "--smoke", "--dry-run", "--scheduler", "tcp://127.0.0.1:8786"]
    one_error_line(runner.invoke(app, [*args, "--out", str(tmp_path / "r")]), "needs Dask")


@contextlib.contextmanager
def _silent_server(wrap: Any = None) -> Iterator[tuple[int, list[Any]]]:
    """A server on 127.0.0.1 that accepts connections (each passed through ``wrap``, as a TLS
    handshake does) and says nothing, for 8 s at most: yields its port and the connections."""
    import socket
    import threading
    import time

    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    held: list[Any] = []
    stop = threading.Event()

    def accept_and_say_nothing() -> None:
        deadline = time.monotonic() + 8  # before the fixes: the client gets a closed stream
        while not stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(OSError):  # a timeout, or a client that gave up
                conn = server.accept()[0]
                held.append(conn if wrap is None else wrap(conn))
        for conn in held:
            conn.close()

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], held
    finally:
        stop.set()
        thread.join()
        server.close()


def test_a_port_that_accepts_but_never_speaks_dask_fails_after_the_timeout(tmp_path, monkeypatch):
    """distributed's Client waited for the handshake with no limit, whatever its timeout: the
    command hung forever. Now one line after CONNECT_TIMEOUT_S, and no traceback from the
    half-made client afterwards."""
    pytest.importorskip("distributed")
    import gc

    from vanishlab.sweep import dask_cluster

    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT_S", 0.5, raising=False)
    out = tmp_path / "run"
    with _silent_server() as (port, _):
        address = f"tcp://127.0.0.1:{port}"
        result = _invoked_or_hung(["sweep", *SMALL, "--scheduler", address, "--out", str(out)])
        gc.collect()
    one_error_line(result, f"the Dask scheduler at {address} did not answer within 0.5 s")
    assert unraisable == [] and not out.exists()


def _invoked_or_hung(args: list[str], guard_s: float = 120) -> Any:
    """``runner.invoke(app, args)`` in a thread of its own, given up on after ``guard_s``: a
    hang guard far above the command's time, never a bound on it (the time of the one line,
    against a 0.5 s CONNECT_TIMEOUT_S, was held under 5 s, an absolute time a loaded machine
    may pass; the line's "within 0.5 s" says which limit ended the wait)."""
    import threading

    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(runner.invoke(app, args)), daemon=True)
    thread.start()
    thread.join(guard_s)
    assert done, f"the command still ran after {guard_s:g} s: {args}"
    return done[0]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificate with openssl")
def test_a_tls_port_that_completes_tls_but_never_speaks_dask_fails_after_the_timeout(
    tmp_path, monkeypatch
):
    """The handshake probe ran for tcp:// only: a tls:// server that completed TLS and then
    said nothing hung the Client forever. Now the probe runs with the Client's credentials
    for tls:// too: one line after CONNECT_TIMEOUT_S."""
    pytest.importorskip("distributed")
    import ssl

    import dask

    from vanishlab.sweep import dask_cluster

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def complete_tls(conn: Any) -> Any:
        conn.settimeout(2)
        return context.wrap_socket(conn, server_side=True)

    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: None)
    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT_S", 0.5, raising=False)
    out = tmp_path / "run"
    tls = {
        "distributed.comm.tls.ca-file": str(cert),
        "distributed.comm.tls.client.cert": str(cert),
        "distributed.comm.tls.client.key": str(key),
    }
    with _silent_server(complete_tls) as (port, held), dask.config.set(tls):
        address = f"tls://127.0.0.1:{port}"
        result = _invoked_or_hung(["sweep", *SMALL, "--scheduler", address, "--out", str(out)])
    one_error_line(result, f"the Dask scheduler at {address} did not answer within 0.5 s")
    assert held  # TLS was completed
    assert not out.exists()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("axes", "x", "'axes' must map each of"),
        ("grids", [1], "'grids' must be a list"),
        ("commands", "vanishlab sweep", "'commands' must be a list of strings"),
        ("name", 3, "'name' must be a string"),
        ("n_cells", "many", "'n_cells' must be a count"),
    ],
)
def test_a_malformed_manifest_is_one_line_for_every_reader(run_dir, tmp_path, key, value, message):
    path = run_dir / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), key: value}))
    with pytest.raises(vl.VanishlabError, match=message):
        vl.load_results(run_dir)
    for args in (
        ["report", str(run_dir), "-o", str(tmp_path / "r.html")],
        ["sweep", "--smoke", "--out", str(run_dir)],
    ):
        one_error_line(runner.invoke(app, args), message)


def test_a_manifest_whose_optional_lists_are_null_resumes(run_dir):
    # The validation allows null for 'commands' and 'sections'; a resume iterated over the
    # null 'commands' and ended in a TypeError traceback (report and --dry-run read it).
    path = run_dir / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "commands": None}))
    result = runner.invoke(app, ["sweep", "--smoke", "--out", str(run_dir), "--quiet"])
    assert result.exit_code == 0, result.stderr


def test_dry_run_refuses_a_read_only_run_as_the_run_does(run_dir, monkeypatch):
    # It said "N cells (N already done)" where the run said "Permission denied".
    refuse_writes_in(monkeypatch, run_dir, errno.EACCES)
    args = ["sweep", "--smoke", "--out", str(run_dir)]
    said = f"cannot write the run directory {run_dir}: Permission denied"
    one_error_line(runner.invoke(app, [*args, "--dry-run"]), said)
    one_error_line(runner.invoke(app, args), said)


def test_a_sweep_refuses_a_read_only_cells_folder_before_its_manifest(tmp_path, monkeypatch):
    # It wrote the new grid and command into manifest.json (finished: null), measured a cell,
    # then stopped with "Permission denied: RUN_DIR/cells/<id>.parquet". Root, which runs this
    # suite, may write anything: here cells/ denies what it denies a user after chmod a-w.
    from vanishlab.sweep import files

    out = tmp_path / "run"
    one = ["--activation", "tanh", "--num-layers", "1", "--init", "default", "--seeds", "1"]
    args = ["sweep", *SMALL, *one, "--workers", "1", "--quiet", "--out", str(out)]
    assert runner.invoke(app, [*args, "--gain", "1"]).exit_code == 0
    cells = (out / "cells").resolve()

    def denied(path: Any) -> None:
        if Path(path).resolve().parent == cells:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))

    real_open, real_write = open, Path.write_bytes
    monkeypatch.setattr(
        files, "open", lambda f, *a, **k: denied(f) or real_open(f, *a, **k), raising=False
    )
    monkeypatch.setattr(Path, "write_bytes", lambda p, data: denied(p) or real_write(p, data))
    before = {str(p): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    one_error_line(
        runner.invoke(app, [*args, "--gain", "3", "--force"]),
        f"cannot write {out / 'cells'}, where the run keeps its shards: Permission denied",
    )
    assert {str(p): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_a_dry_run_says_the_run_would_refuse_its_cells_folder(tmp_path, monkeypatch):
    """--dry-run showed the plan of a run whose cells/ it may not write, which the run then
    refused ("cannot write RUN_DIR/cells ..."): it says the same, writing nothing."""
    out = tmp_path / "run"
    one = ["--activation", "tanh", "--num-layers", "1", "--init", "default", "--seeds", "1"]
    args = ["sweep", *SMALL, *one, "--workers", "1", "--quiet", "--out", str(out)]
    assert runner.invoke(app, [*args, "--gain", "1"]).exit_code == 0
    cells = out / "cells"
    refuse_writes_in(monkeypatch, cells, errno.EACCES)
    before = sorted(map(str, out.rglob("*")))
    before_bytes = {p: Path(p).read_bytes() for p in before if Path(p).is_file()}
    one_error_line(
        runner.invoke(app, [*args, "--gain", "3", "--force", "--dry-run"]),
        f"cannot write {cells}, where the run keeps its shards: Permission denied",
    )
    assert sorted(map(str, out.rglob("*"))) == before
    assert {p: Path(p).read_bytes() for p in before if Path(p).is_file()} == before_bytes


def test_repeated_flags_are_merged_or_refused(tmp_path):
    result = runner.invoke(
        app, ["sweep", "--activation", "tanh", "--activation", "relu", "--dry-run"]
    )
    assert result.exit_code == 0, result.stderr
    assert "activation   tanh, relu" in result.stdout
    result = runner.invoke(app, ["sweep", "--gain", "1", "--gain", "1", "--dry-run"])
    one_error_line(result, "error: --gain: lists 1.0 twice")
    result = runner.invoke(app, ["sweep", "--out", "a", "--out", "b", "--dry-run"])
    one_error_line(result, "--out given 2 times (a, b); give it once")
    # named by both spellings: "--output given 2 times" named a flag the user had not typed
    for twice in (["-o", "a", "-o", "b"], ["--output", "a", "-o", "b"]):
        result = runner.invoke(app, ["report", "x", *twice])
        one_error_line(result, "error: -o/--output given 2 times (a, b); give it once")


def test_help_shows_no_value_for_flags():
    for args in (["--help"], ["sweep", "--help"], ["report", "--help"]):
        result = runner.invoke(app, args, env={"COLUMNS": "120"})
        assert result.exit_code == 0
        assert "<bool>" not in result.stdout, result.stdout


@pytest.mark.parametrize("columns", ["120", "50"])  # rich's help, and the plain narrow one
def test_help_shows_no_type_beside_an_argument(columns):
    """An argument's name is its placeholder, as --out's DIR is an option's; typer wrote its
    Python type beside it too: "RUN_DIR <str>", "CHECKPOINT <str>", "EXPERIMENT <str>"."""
    for command, name in (
        ("report", "RUN_DIR"),
        ("analyze", "CHECKPOINT"),
        ("sweep", "EXPERIMENT"),
    ):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": columns})
        assert result.exit_code == 0, result.output
        assert name in result.stdout and "<str>" not in result.stdout, result.stdout
        assert not re.search(rf"{name}\s+(TEXT|<)", result.stdout), result.stdout


def test_help_paragraphs_wrap_at_the_terminal_width_not_the_source_lines(monkeypatch):
    import typer.rich_utils

    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", None)  # a developer's TERMINAL_WIDTH
    # typer kept a docstring's source line breaks in every paragraph after the first: at 80
    # columns `analyze --help` showed "... in the weights," / "layers," / "sizes, bias) ...".
    wide = runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "300"})
    assert wide.exit_code == 0
    lines = [" ".join(line.split()) for line in wide.stdout.splitlines()]
    one_line = [s for s in lines if s.startswith("Infers the architecture") and s.endswith("read.")]
    assert one_line, wide.stdout
    for args in (["sweep", "--help"], ["analyze", "--help"], ["inits", "--help"]):
        narrow = runner.invoke(app, args, env={"COLUMNS": "80"})
        prose = narrow.stdout.split("╭")[0].splitlines()  # the description, before the panels
        # In a paragraph, a line cut short by a source line break had room for the next word.
        for line, following in itertools.pairwise(prose):
            if line.strip() and following.strip():
                assert len(line.rstrip()) + 1 + len(following.split()[0]) > 79, (line, following)


@pytest.mark.parametrize("columns", [45, 59])
def test_help_in_a_narrow_terminal_shows_every_option_name_whole(columns, monkeypatch):
    # Below 60 columns rich's option table cut the names: "--hidden-si…", "--input-s…".
    import typer.rich_utils
    from typer.main import get_command

    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", None)  # a developer's TERMINAL_WIDTH

    group = get_command(app)
    for name, command in [("", group), *group.commands.items()]:
        result = runner.invoke(
            app, [name, "--help"] if name else ["--help"], env={"COLUMNS": str(columns)}
        )
        assert result.exit_code == 0, result.stderr
        assert "…" not in result.stdout, result.stdout
        words = set(result.stdout.replace(",", " ").split())
        for param in command.params:
            for option in param.opts:
                if option.startswith("--"):
                    assert option in words, (name, option, result.stdout)
        assert max(map(len, result.stdout.splitlines())) < columns, result.stdout


def _help_words(args: list[str], columns: int) -> tuple[str, list[str]]:
    """``vanishlab ARGS`` at ``columns`` columns: its output and its words (boxes left out)."""
    result = runner.invoke(app, args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return result.stdout, re.sub(r"[│╭╮╰╯─]", " ", result.stdout).split()


@pytest.mark.parametrize("columns", [32, 40, 45, 50, 55, 59, 60, 80])
def test_help_in_a_narrow_terminal_never_splits_a_word(columns, monkeypatch):
    """Below 60 columns the plain help broke words at their hyphens ("--seq-" / "len].",
    "runs/default-" / "seq_len=300;", "byte-" / "identical"), cut long ones ("ort" /
    "hogonal,default."), split rich's escape ("vanishlab\\" / "[dask])."), cut the commands'
    summaries ("the..."), and below 40 columns printed 40-column lines all the same. Every
    word of a narrow help is now a whole word of the wide one."""
    import typer.rich_utils
    from typer.main import get_command

    from vanishlab.cli import help_text

    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", None)  # a developer's TERMINAL_WIDTH
    group = get_command(app)
    for name in ["", *group.commands]:
        args = [name, "--help"] if name else ["--help"]
        whole = set(_help_words(args, 1000)[1])  # rich's help, and the plain one below
        with monkeypatch.context() as plain:
            plain.setattr(help_text, "PLAIN_HELP_BELOW", 10**6)
            whole |= set(_help_words(args, 1000)[1])
        out, words = _help_words(args, columns)
        assert [w for w in words if w not in whole] == [], (name, out)
        widest = max(len(line.rstrip()) for line in out.splitlines())
        assert widest < columns or (widest == columns >= help_text.PLAIN_HELP_BELOW), (name, out)


def _help_from_a_narrow_terminal(
    args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess:
    """``vanishlab ARGS`` started from a 45-column terminal (its stdin and stderr), COLUMNS not
    exported, its stdout a pipe (as `| less`)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 45, 0, 0))
    unset = ("COLUMNS", "LINES", "TERMINAL_WIDTH")  # the width comes from the terminal alone
    env = {k: v for k, v in os.environ.items() if k not in unset} | env
    try:
        return subprocess.run(
            [sys.executable, "-m", "vanishlab", *args],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=follower,
            env=env,
            timeout=60,
            text=True,
        )
    finally:
        os.close(follower)
        os.close(leader)


@pytest.mark.parametrize(
    ("args", "env", "status"),
    [
        (["sweep", "--help"], {}, 0),  # piped from a narrow terminal: rich measured 45, cut
        (["sweep", "--help"], {"TERMINAL_WIDTH": "45"}, 0),  # typer's own override
        ([], {}, 2),  # no arguments: the plain help was the message of an error never shown
    ],
)
@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_help_piped_from_a_narrow_terminal_is_whole(args, env, status):
    result = _help_from_a_narrow_terminal(args, env)
    assert result.returncode == status
    out = result.stdout
    assert "Usage: " in out and "…" not in out and "\\[" not in out, out
    if args:
        words = " ".join(out.split())
        assert "--hidden-size" in out.split()
        assert "[default: all cores; fewer where memory is short]." in words
    assert max(map(len, out.splitlines())) < 45, out


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("columns", ["45", "80"])
def test_help_without_arguments_into_a_full_disk_is_one_line(columns):
    # The narrow help printed for no arguments was a traceback (OSError, status 1) into a full
    # disk: it was written where --help's failures are not caught.
    env = {k: v for k, v in os.environ.items() if k != "TERMINAL_WIDTH"} | {"COLUMNS": columns}
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "vanishlab"],
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr == (
        "error: cannot write the standard output (/dev/full): No space left on device "
        "(not a file on a disk: send the output elsewhere)\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_refused_standard_output_is_named_and_told_what_helps(tmp_path):
    """`vanishlab inits > /dev/full` was told "(the disk is full: free some space)", which no
    space freed helps; stdout is named now, and a disk's remedy said only for a file on one
    (here a file past the file-size limit, `ulimit -f`)."""
    import resource

    def run(stdout, limit=None):
        def child():
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        return subprocess.run(
            [sys.executable, "-m", "vanishlab", "inits"],
            stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=child,
        )  # fmt: skip

    with open("/dev/full", "w") as full:
        result = run(full)
    assert result.returncode == 2
    assert result.stderr == (
        "error: cannot write the standard output (/dev/full): No space left on device "
        "(not a file on a disk: send the output elsewhere)\n"
    )
    page = tmp_path / "inits.txt"
    with open(page, "w") as file:
        result = run(file, limit=100)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot write the standard output ({page}): File too large "
        "(over the file-size limit, ulimit -f: raise it)\n"
    )


# --- the command line answers without importing torch ---------------------------------------

HEAVY = ("torch", "pandas", "pyarrow", "matplotlib", "numpy")


@pytest.mark.parametrize(
    "args", [["--help"], ["sweep", "--help"], ["inits"], ["experiments"], ["--version"]]
)
def test_cli_answers_without_importing_heavy_modules(args):
    code = (
        "import sys\nfrom vanishlab.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_a_dry_run_plans_without_importing_torch(tmp_path):
    """--dry-run plans a grid (pandas reads any cells already done) and estimates its memory,
    none of which needs torch: it imported the runner, and torch with it, before it looked at
    the flag (1.35-1.41 s against 0.38 s without, 2026-12-04)."""
    args = ["sweep", "--smoke", "--out", str(tmp_path / "run"), "--dry-run"]
    code = (
        "import sys\nfrom vanishlab.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "memory: the largest cell needs about" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "False"
    assert not (tmp_path / "run").exists()


_WHO_IMPORTS_TORCH = """
import sys, traceback

class WhoImportsTorch:  # says, on stderr, which lines of the command imported torch
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "torch":
            sys.meta_path.remove(WhoImportsTorch)
            stack = [f for f in traceback.extract_stack() if not f.filename.startswith("<")]
            print("torch imported by:\\n", *traceback.format_list(stack), sep="", file=sys.stderr)
        return None

sys.meta_path.insert(0, WhoImportsTorch)
"""

_UNREAD_ROWS = """
from vanishlab.sweep import store, summary
metas = store.read_cell_metas(RUN)
unread = sorted(set(metas) - set(summary._stored_rows(metas)))  # rows the report computed
codes = sorted({str((metas[c].get("summary") or {}).get("code"))[:12] for c in unread})
print(f"{unread} stored by code {codes}, the report's {summary.code_digest()[:12]}")
"""


@pytest.mark.slow  # two fresh interpreters, 5 s: make test's time (the slow tier runs in CI)
def test_a_report_of_a_sweep_does_not_import_torch(tmp_path):
    """A report reads stored rows: torch (~1 s to import, a tenth of a 1,000-cell report) is
    imported only when a summary row must be computed. It came in through the summary's
    per-cell module, the init registry and the trainability section.

    The run is made by a fresh process just before the report. It failed once, the page
    written, while other commands ran: a stored row is computed again, with torch, when the
    digest of the code that stored it is not that of the code on disk, and the session's run
    (``smoke_run_dir``) stored the digest of the checkout as the pytest process first read it,
    maybe many minutes before (a commit, a cherry-pick or a format of one of the modules of a
    summary row's code while the tests ran changed it; an appended comment does). A failure
    says which: the cells whose stored row the report did not read and the digests, or the
    lines that imported torch."""
    run_dir, out = tmp_path / "run", tmp_path / "page.html"
    sweep = ["sweep", "--smoke", "--workers", "1", "--quiet", "--out", str(run_dir)]
    made = subprocess.run(
        [sys.executable, "-m", "vanishlab", *sweep], capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0, made.stderr
    code = _WHO_IMPORTS_TORCH + (
        "from vanishlab.cli import app\n"
        f"try:\n    app(['report', {str(run_dir)!r}, '-o', {str(out)!r}])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "torch = 'torch' in sys.modules\n"
        + _UNREAD_ROWS.replace("RUN", repr(str(run_dir)))
        + "print(torch)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    *_, unread, torch = proc.stdout.strip().splitlines()
    assert unread.startswith("[] "), f"stored rows the report computed again (torch): {unread}"
    assert out.is_file() and torch == "False", proc.stderr


def test_inits_listing_is_the_registry():
    from vanishlab.sweep.catalog import BUILTIN_INITS

    assert {n: INITS[n].description for n in BUILTIN_INITS} == BUILTIN_INITS
    assert list(INITS)[: len(BUILTIN_INITS)] == list(BUILTIN_INITS)


def test_lazy_package_exports_every_public_name():
    import vanishlab

    assert set(vanishlab._LAZY) | {"__version__"} >= set(vanishlab.__all__)
    for name in vanishlab.__all__:
        assert getattr(vanishlab, name) is not None
    with pytest.raises(AttributeError):
        vanishlab.no_such_name  # noqa: B018


def test_the_package_offers_its_api_and_its_subpackages_to_tab_completion():
    """A notebook's tab completion (dir(vl)) offered ``annotations``, the ``__future__`` feature
    object the package's first import bound, beside the API."""
    import types

    import vanishlab

    public = {n for n in dir(vanishlab) if not n.startswith("_")}
    modules = {n for n in public if isinstance(getattr(vanishlab, n), types.ModuleType)}
    assert public - modules == set(vanishlab.__all__)
    subpackages = {"analysis", "cli", "core", "errors", "experiments", "report", "sweep", "train"}
    assert modules <= subpackages | {"trained"}


# In the slow tier: ~3 s of CPU; make test keeps test_force_extends.
@pytest.mark.slow
def test_every_command_of_a_forced_extension_is_kept_and_reported(run_dir, tmp_path):
    args = ["sweep", "--smoke", "--gain", "1,2", "--force", "--out", str(run_dir), "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    manifest = vl.load_manifest(run_dir)
    commands = manifest["commands"]
    assert len(commands) == 2 and commands[1].endswith("--force")
    # The whole run's cells and the axes its grids differ on (it spoke of one grid alone).
    assert manifest["description"] == (
        "Run of 2 grids, extended with --force (see Reproduce): 16 cells; gain = 1.0,2.0"
    )
    assert "--gain 1.0,2.0" in commands[1] and "--force" not in commands[0]
    page = tmp_path / "r.html"
    assert runner.invoke(app, ["report", str(run_dir), "-o", str(page)]).exit_code == 0
    html = page.read_text()
    assert "Run these 2 commands in order" in html
    assert reproduce_text(html) == "\n".join(commands)


def test_a_forced_extension_describes_the_whole_run(tmp_path):
    """The description of a flags-built grid stayed that of the first grid ("2 cells; ...
    seq_len = 3 ... [run of 2 grids ...]") beside n_cells 4 and seq_len [3, 4]; an
    experiment's own description is kept before the run's count and axes."""
    flags = ["--seq-len", "3", "--hidden-size", "2", "--input-size", "2", "--batch", "1"]
    flags += ["--num-layers", "1", "--init", "default", "--gain", "1", "--activation", "tanh"]
    flags += ["--workers", "1", "--quiet", "--out", str(tmp_path / "nm")]
    assert runner.invoke(app, ["sweep", *flags, "--name", "second"]).exit_code == 0
    for extra in (["--seq-len", "4", "--force"], ["--seq-len", "4"], ["--seq-len", "4,5"]):
        result = runner.invoke(app, ["sweep", *flags, *extra, "--force"])
        assert result.exit_code == 0, result.stderr
    manifest = vl.load_manifest(tmp_path / "nm")
    assert manifest["n_cells"] == 6 and manifest["axes"]["seq_len"] == [3, 4, 5]
    assert manifest["description"] == (
        "Run of 3 grids, extended with --force (see Reproduce): 6 cells; seq_len = 3,4,5"
    )
    from vanishlab.sweep.run_manifest import _description

    grids = manifest["grids"]
    own = "Effect of sequence length on gradient decay."
    merged = "r" + manifest["description"][1:]
    assert _description("", own, grids, 6) == f"{own} [{merged}]"
    old = f"{own} [run of 2 grids, extended with --force: see Reproduce]"  # an earlier version's
    assert _description("", old, grids, 6) == _description("", own, grids, 6)


def test_a_run_renamed_on_resume_is_reproduced_under_its_new_name(run_dir):
    # --name on a resume renamed the run, but its commands kept the first name.
    before = vl.load_manifest(run_dir)["commands"]
    args = ["sweep", "--smoke", "--out", str(run_dir), "--name", "it's new", "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    manifest = vl.load_manifest(run_dir)
    assert manifest["name"] == "it's new" and len(manifest["commands"]) == len(before)
    for command in manifest["commands"]:
        assert shlex.split(command)[-2:] == ["--name", "it's new"]
        assert command.split(" --name ")[0] == before[0].split(" --name ")[0]
    assert manifest["command"] == manifest["commands"][-1]
    # A run an older version renamed (its commands kept the first name) is mended on resume.
    manifest["name"] = "newer"
    store.write_manifest(run_dir, manifest)
    assert runner.invoke(app, ["sweep", "--smoke", "--out", str(run_dir), "--quiet"]).exit_code == 0
    assert all(c.endswith("--name newer") for c in vl.load_manifest(run_dir)["commands"])


def test_recorded_commands_without_a_name_or_unparsable_are_kept_on_resume(run_dir):
    # Every resume parses the recorded commands: an unclosed quote (a manifest may hold any
    # text) was a ValueError traceback; a command without --name was left without it.
    manifest = vl.load_manifest(run_dir)
    kept = [
        "vanishlab sweep --smoke --out 'oops",
        "python make_run.py",
        "vanishlab sweep --name",
        "vanishlab sweep --smoke --name a  # first try",  # shell text: not shlex.join's form
        "vanishlab sweep --smoke --out $HOME/r --name a",
    ]
    named = [
        "vanishlab sweep --smoke",
        "vanishlab sweep --smoke --out=--name=x --name=a --seeds 2",  # --out's value is kept
    ]
    odd = [*kept, *named]
    store.write_manifest(run_dir, {**manifest, "commands": odd, "command": odd[-1]})
    result = runner.invoke(app, ["sweep", "--smoke", "--out", str(run_dir), "--quiet"])
    assert result.exit_code == 0, result.stderr
    name = manifest["name"]
    mended = [
        shlex.join(["vanishlab", "sweep", "--smoke", "--name", name]),
        shlex.join(
            ["vanishlab", "sweep", "--smoke", "--out=--name=x", "--name", name, "--seeds", "2"]
        ),
    ]
    assert vl.load_manifest(run_dir)["commands"] == [*kept, *mended]


def test_a_run_whose_manifest_records_no_command_resumes(run_dir):
    # "commands": null and "command": null (a manifest may say so) ended a resume in an
    # IndexError traceback.
    manifest = vl.load_manifest(run_dir)
    store.write_manifest(run_dir, {**manifest, "commands": None, "command": None})
    result = runner.invoke(app, ["sweep", "--smoke", "--out", str(run_dir), "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert vl.load_manifest(run_dir)["command"] is None


def test_demo_leaves_the_tree_clean():
    """`make demo` writes reports/default.html, which git ignores; the committed example lives
    in docs/ and the README links to it."""
    root = Path(__file__).resolve().parent.parent
    assert "-o reports/default.html --force" in (root / "Makefile").read_text()
    assert (root / "docs" / "example-report.html").is_file()
    assert "(docs/example-report.html)" in (root / "README.md").read_text()
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    proc = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "-q", "reports/default.html"], timeout=30
    )
    assert proc.returncode == 0, "reports/default.html must be ignored by git"


def _nan_error(rnn, gain, generator):
    raise ValueError("a nan overflow in my init")  # words the old text match took for overflow


def test_the_report_lists_the_recorded_failure_kind_not_a_guess(tmp_path):
    from vanishlab.report import build_report

    register_init(Init("nan_words", "raises", _nan_error), replace=True)
    try:
        out = tmp_path / "run"
        vl.run_sweep(Sweep(init=("default", "nan_words"), **TINY), out, workers=1, progress=False)
        manifest = vl.load_manifest(out)
        # Only the sections that list cells (building theory re-runs the raising init).
        report = build_report(vl.load_results(out), vl.load_cells(out), manifest, sections=[])
    finally:
        INITS.pop("nan_words", None)
    anomalies = next(s for s in report.sections if s.key == "anomalies")
    (row,) = anomalies.blocks[0].rows
    assert row[2] == "error" and "nan overflow" in row[3]


def test_a_report_never_replaces_what_is_not_a_regular_file(run_dir, tmp_path):
    # A pipe (or a device: /dev/null as root) would be swapped for an HTML file by the atomic
    # rename, --force or not; reading its tail to find its run would block on a pipe.
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for force in ([], ["--force"]):
        result = runner.invoke(app, ["report", str(run_dir), "-o", str(pipe), *force])
        one_error_line(result, "is not a regular file; give -o/--output a file name")
    for overwrite in (False, True):
        with pytest.raises(vl.VanishlabError, match="is not a regular file"):
            vl.render_report(run_dir, pipe, overwrite=overwrite)
    assert stat.S_ISFIFO(pipe.stat().st_mode)


@pytest.mark.slow  # 5 s: a report section of a rare case
def test_a_shard_copied_in_from_another_run_is_listed_as_outside_its_grids(run_dir, tmp_path):
    """A valid shard from another run was counted and drawn without a word ("9 (9 ok)" cells
    for an 8-cell grid, an LSTM row under "Fixed settings: model rnn"); cells of a run extended
    with --force are in its grids."""
    from vanishlab.report.sections.anomalies import _outside_the_grids
    from vanishlab.report.view import RunView

    def strays(run):
        view = RunView(vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))
        return list(_outside_the_grids(view)["cell_id"])

    args = ["sweep", "--smoke", "--gain", "1,2", "--force", "--out", str(run_dir), "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    assert strays(run_dir) == []
    other = tmp_path / "other"
    vl.run_sweep(Sweep(model="gru", seed=5, **TINY), other, workers=1, progress=False)
    (shard,) = (other / "cells").iterdir()
    shutil.copy(shard, run_dir / "cells" / shard.name)
    assert strays(run_dir) == [shard.stem]
    page = tmp_path / "r.html"
    assert runner.invoke(app, ["report", str(run_dir), "-o", str(page)]).exit_code == 0
    assert "Cells outside the run" in page.read_text(encoding="utf-8")


def test_two_starts_on_one_new_folder_probe_it_under_names_of_their_own(tmp_path, monkeypatch):
    """Two sweeps starting on one new folder at the same moment each wrote and removed the same
    probe file, so one could remove the other's: "cannot write the run directory: No such
    file or directory" instead of the lock's message (about 1 start in 6)."""
    from vanishlab.sweep import preflight

    written: list[str] = []
    real = Path.write_bytes

    def record(self: Path, data: bytes) -> int:
        written.append(self.name)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", record)
    preflight.make_dir(tmp_path / "run")
    preflight.make_dir(tmp_path / "run")
    assert len(written) == 2 and written[0] != written[1], written
    assert all(name.endswith(store.TMP_SUFFIX) for name in written)  # readers skip them
    assert list((tmp_path / "run").iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")
def test_a_run_directory_named_with_a_byte_of_another_encoding_reads_back(tmp_path):
    """pyarrow cannot open a path that is not valid UTF-8: the good shards of such a run were
    called corrupt and moved aside, run after run, and its report was a traceback."""
    out = tmp_path / os.fsdecode(b"bad\xff")  # what a shell's $'bad\xff' gives Python
    vl.run_sweep(Sweep(gain=(0.5, 1.0), **TINY), out, workers=1, progress=False)
    assert len(vl.load_cells(out)) == 2 and len(vl.summarize(out)) == 2
    again = vl.run_sweep(Sweep(gain=(0.5, 1.0), **TINY), out, workers=1, progress=False)
    assert again.n_skipped == 2 and not (out / "corrupt").exists()
    assert vl.load_manifest(out)["name"] == "bad\ufffd"  # the directory's name, as text
    page = vl.render_report(out, tmp_path / "r.html", progress=False)
    assert "bad\ufffd" in page.read_text(encoding="utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")
def test_a_command_with_a_byte_of_another_encoding_is_shown_as_a_shell_writes_it(tmp_path):
    """The Reproduce block showed such a byte of --out (or of an analysed checkpoint's path)
    as the lone surrogate Python keeps it as, escaped: '\\udcff', which names no file."""
    import html

    import torch
    from torch import nn

    out = tmp_path / os.fsdecode(b"bad\xff")
    vl.run_sweep(Sweep(**TINY), out, workers=1, progress=False)
    ckpt = tmp_path / os.fsdecode(b"ck\xff.pt")
    torch.save(nn.RNN(2, 3).state_dict(), ckpt)
    analysed = tmp_path / "an"
    args = ["analyze", str(ckpt), "--out", str(analysed), "--seq-len", "5", "--batch", "2"]
    assert runner.invoke(app, args).exit_code == 0
    for run, word in (
        (out, f"--out $'{tmp_path}/bad\\xff'"),
        (analysed, f"$'{ckpt.parent}/ck\\xff.pt'"),
    ):
        page = vl.render_report(run, tmp_path / f"{run.name}.html", progress=False)
        text = page.read_text(encoding="utf-8")
        assert "udcff" not in html.unescape(text) and word in reproduce_text(text)
    # A command of another origin (not shlex.join's form) gets its byte written in place.
    manifest = vl.load_manifest(out)
    odd = ["cd 'a\udcff' && vanishlab sweep"]
    store.write_manifest(out, {**manifest, "commands": odd, "command": odd[0]})
    page = vl.render_report(out, tmp_path / "odd.html", progress=False)
    assert reproduce_text(page.read_text(encoding="utf-8")) == "cd 'a\\xff' && vanishlab sweep"


@pytest.mark.parametrize(
    ("name", "said", "cli_said"),
    [
        # A byte of another encoding wrote a run whose report was a traceback; control
        # characters redrew the terminal in the progress line.
        *(
            (name, "give a name of one line of text", "give a name of one line of text")
            for name in ["line1\nline2", "red\x1b[31m", os.fsdecode(b"n\xffx")]
        ),
        # --name '   ' was taken as the run's name (an empty --name falls back to --out's):
        # the report was titled "vanishlab report:    " and written to reports/run-<digest>.
        *(
            (name, "is blank: give a name with visible text", "--name is blank")
            for name in ["   ", "\u00a0"]
        ),
    ],
)
def test_a_name_that_is_not_one_line_of_visible_text_is_refused(tmp_path, name, said, cli_said):
    with pytest.raises(vl.VanishlabError, match=said):
        vl.run_sweep(Sweep(**TINY), tmp_path / "r", name=name, workers=1, progress=False)
    assert not (tmp_path / "r").exists()
    result = CliRunner().invoke(
        app, ["sweep", *SMALL, "--out", str(tmp_path / "c"), "--name", name]
    )
    assert result.exit_code == 2 and cli_said in result.output


@pytest.mark.parametrize("name", [5, Path("x"), b"x"])
def test_a_name_that_is_not_a_string_is_refused_before_anything_is_written(tmp_path, name):
    """JacobianMonitor(name=5) and analyze_checkpoint(name=5) wrote a manifest that every
    reader then refused as "not written by vanishlab"; a Path or bytes failed in json with a
    lock file left behind, and run_sweep said "expected string or bytes-like object"."""
    import torch

    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    calls = {
        "sweep": lambda out: vl.run_sweep(Sweep(**TINY), out, name=name, workers=1, progress=False),
        "analyze": lambda out: vl.analyze_checkpoint(tmp_path / "m.pt", out, name=name),
        "monitor": lambda out: vl.JacobianMonitor(
            torch.nn.RNN(2, 3), torch.zeros(4, 1, 2), out=out, name=name
        ).__enter__(),
    }
    for what, call in calls.items():
        with pytest.raises(
            TypeError, match=f"name must be a string or None, got {type(name).__name__}"
        ):
            call(tmp_path / what)
        assert not (tmp_path / what).exists()


def test_a_manifest_name_that_is_not_text_is_refused_in_one_line(tmp_path):
    out = tmp_path / "r"
    vl.run_sweep(Sweep(**TINY), out, workers=1, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["name"] = "\ud800"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(vl.VanishlabError, match="'name' holds a character that is not text"):
        vl.load_manifest(out)


def test_a_run_named_after_a_folder_with_a_control_character_is_one_line_of_text(tmp_path):
    """Its name kept the folder's tab or escape, which a manifest's name may not hold (an
    escape sequence redrew the terminal at every line naming the run): it is U+FFFD."""
    out = tmp_path / "r\tx\x1b"
    vl.run_sweep(Sweep(**TINY), out, workers=1, progress=False)
    assert vl.load_manifest(out)["name"] == "r\ufffdx\ufffd"


def test_one_cell_is_one_cell_and_absurd_sizes_stay_short(tmp_path):
    from vanishlab.sweep.memory import format_bytes

    summary = vl.run_sweep(Sweep(**TINY), tmp_path / "r", workers=1, progress=False)
    assert "sweep r: 1 cell, 1 run, 0 skipped" in str(summary)  # said "1 cells"
    assert format_bytes(2**100) == "1.2e+18 TiB" and format_bytes(2**45) == "32.0 TiB"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")
def test_checkpoint_and_experiment_files_named_with_a_byte_of_another_encoding(tmp_path):
    """An analysis wrote the checkpoint's file name into its description, which the manifest
    check then refused ("not text"): the run could not be reported. An experiment file so named
    was a traceback (its module name hashed the path as UTF-8)."""
    import torch
    from torch import nn

    from vanishlab.sweep.experiments import load_experiment

    ckpt = tmp_path / os.fsdecode(b"ck\xff.pt")
    torch.save(nn.RNN(2, 3).state_dict(), ckpt)
    out = tmp_path / "an"
    vl.analyze_checkpoint(ckpt, out, seq_len=5, batch=2)
    assert vl.load_manifest(out)["description"].endswith("read from ck\ufffd.pt")
    exp_file = tmp_path / os.fsdecode(b"ex\xffp.py")
    exp_file.write_text(
        (Path(__file__).parents[1] / "experiments" / "gain_phase.py").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    assert load_experiment(str(exp_file)).name == "ex\ufffdp"
    result = runner.invoke(app, ["sweep", str(exp_file), "--smoke", "--dry-run"])
    assert result.exit_code == 0, result.output


@pytest.mark.slow  # a process that imports torch
def test_a_path_with_such_a_byte_is_printed_as_it_came_under_a_c_locale(tmp_path):
    """Under C.UTF-8 Python writes a path's byte back as it came; escaping every output
    printed a path that does not exist."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG")}
    env["LC_ALL"] = "C.UTF-8"
    out = os.fsencode(tmp_path) + b"/r\xffun"
    args = [sys.executable, "-m", "vanishlab", "sweep", *SMALL, "--seeds", "1", "--gain", "1"]
    args += ["--activation", "tanh", "--num-layers", "1", "--init", "default", "--out", out]
    done = subprocess.run(args, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(b"-> " + out)


# In the slow tier: ~3 s of CPU (a command of its own).
@pytest.mark.slow
def test_a_path_is_printed_as_it_came_under_an_ascii_locale(smoke_run_dir, tmp_path):
    """Under an ASCII locale without Python's UTF-8 mode (LC_ALL=C, PYTHONUTF8=0), a path's
    bytes that the locale cannot read reach Python escaped, and click wrote each as "?":
    `vanishlab report RUN -o é.html` printed `??.html`, a path that does not exist."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    out = os.fsencode(tmp_path) + "/é r\u00fcn.html".encode()
    args = [sys.executable, "-m", "vanishlab", "report", os.fsencode(smoke_run_dir), "-o", out]
    done = subprocess.run(args, env=env, capture_output=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, b""), done.stderr
    assert done.stdout == out + b"\n"
    assert Path(os.fsdecode(out)).is_file()


@pytest.mark.parametrize(
    ("encoding", "said"),
    [
        ("utf-8", "a byte that is not UTF-8 text"),
        # An ASCII locale (LC_ALL=C, PYTHONUTF8=0): "café" reached Python as lone surrogates,
        # and the name was said to hold "a byte that is not UTF-8 text" although it was.
        ("ascii", "its locale's encoding is ascii (set a UTF-8 locale"),
    ],
)
def test_a_name_python_could_not_decode_says_why(monkeypatch, encoding, said):
    from vanishlab.sweep.run_name import text_problem

    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: encoding)
    problem = text_problem("caf\udcc3\udca9")
    assert problem is not None and problem.startswith("holds '\\udcc3'") and said in problem


def test_workers_that_fit_count_each_workers_own_memory_and_the_forkserver():
    """`--workers N` fitted N cells' estimates into the memory available (free // peak), as if
    a worker were its cell alone: each one holds ~70 MB of its own (torch's state, measured),
    and the forkserver that forks them ~185 MB, none of it alive when the memory is read."""
    from vanishlab.sweep.memory import POOL_BYTES, WORKER_BYTES
    from vanishlab.sweep.preflight import check_memory

    cells = [vl.CellConfig(seq_len=20, hidden_size=16)]
    peak = cell_bytes(cells[0])
    two = POOL_BYTES + 2 * (peak + WORKER_BYTES)
    assert check_memory(cells, two, 4) == 2  # the old rule: 4 (free // peak is thousands)
    assert check_memory(cells, two - 1, 4) == 1  # one fits: it runs in this process
    assert check_memory(cells, two, 1) == 1
    assert check_memory(cells, 10 * two, 4) == 4
    assert check_memory(cells, None, 3) == 3  # memory unknown: as asked


def test_a_run_of_a_later_format_says_to_upgrade_and_is_left_as_it_was(run_dir, tmp_path):
    """A run that a later vanishlab wrote ("format": "vanishlab-run/2") was refused as damage:
    "restore it from a copy, or make the run again into a new directory", of a sound run that
    only a later release reads."""
    out = tmp_path / "later"
    shutil.copytree(run_dir, out)
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "format": "vanishlab-run/2"}))
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    said = (
        f"error: {out}/manifest.json was written by a later vanishlab (its format is "
        f"vanishlab-run/2; vanishlab {vl.__version__} reads vanishlab-run/1): upgrade vanishlab "
        "to read it; the run is left as it was\n"
    )
    for args in (["report", str(out)], ["sweep", "--smoke", "--out", str(out)]):
        result = runner.invoke(app, args)
        assert (result.exit_code, result.stderr) == (2, said), result.stderr
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before
    for other in ("vanishlab-run/0", "vanishlab-run/x", "vanishlab-run/\u0662"):  # not later
        (out / "manifest.json").write_text(json.dumps({**manifest, "format": other}))
        with pytest.raises(VanishlabError, match="restore it from a copy"):
            store.load_manifest(out)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # "(format: 'list')": read as a manifest whose "format" was 'list'
        ("[1, 2]", "it holds an array, not an object of keys"),
        ('"x"', "it holds a string, not an object of keys"),
        ("{}", 'it has no "format"'),
        ('{"format": "other/2"}', 'its "format" is "other/2"'),
    ],
)
def test_a_manifest_that_is_json_but_no_vanishlab_one_says_what_to_do(run_dir, tmp_path, text, why):
    """A manifest.json that is valid JSON but no vanishlab manifest said "(format: 'list')" of
    a list, as if its "format" were 'list', and with the malformed ones ("...; it was not
    written by vanishlab") nothing on what to do, where a corrupt one said "restore it from a
    copy, ...": each now says what it holds and ends in that advice."""
    out = tmp_path / "other"
    (out / "cells").mkdir(parents=True)
    (out / "manifest.json").write_text(text)
    said = f"{out}/manifest.json is not a vanishlab-run/1 manifest ({why}): restore it from a copy"
    for args in (["report", str(out)], ["sweep", "--smoke", "--dry-run", "--out", str(out)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.stderr
        assert result.stderr == f"error: {said}, or make the run again into a new directory\n"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    (run_dir / "manifest.json").write_text(json.dumps({**manifest, "n_cells": -1}))
    with pytest.raises(VanishlabError) as err:
        vl.load_manifest(run_dir)
    assert str(err.value).endswith(
        "is malformed: 'n_cells' must be a count (an integer >= 0), not -1; restore it from a "
        "copy, or make the run again into a new directory"
    )


@pytest.mark.parametrize("text", ['{"format', "\udcff", "", "[" * 100_000])
def test_a_corrupt_manifest_is_one_line_that_says_what_to_do(tmp_path, text):
    """A truncated, undecodable or empty manifest.json was called "corrupt or unreadable", with
    nothing on what to do (helper 176); a run with no manifest cannot be resumed. Arrays nested
    deeper than json's stack ("[[[[...") raised RecursionError, a traceback."""
    out = tmp_path / "run"
    (out / "cells").mkdir(parents=True)
    (out / "manifest.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    for args in (["report", str(out)], ["sweep", "--smoke", "--dry-run", "--out", str(out)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "manifest.json is corrupt or unreadable (" in lines[0], lines
        assert lines[0].endswith(
            "restore it from a copy, or make the run again into a new directory"
        ), lines
    # vl.load_manifest's message, the same: no flag of a command that Python users never ran
    with pytest.raises(VanishlabError, match="corrupt or unreadable") as err:
        vl.load_manifest(out)
    assert str(err.value) == lines[0].removeprefix("error: ") and "--out" not in str(err.value)


def test_fewer_workers_than_asked_are_said(tmp_path, monkeypatch):
    """`--workers 2` on a machine whose memory fits one worker ran the cells in this process
    without a word (helper 180): a note says how many run, and why."""
    from vanishlab.sweep import plan
    from vanishlab.sweep import runner as sweep_runner
    from vanishlab.sweep.memory import POOL_BYTES, WORKER_BYTES

    # the run's check, and the plan's memory, which the note reads
    for module in (sweep_runner, plan):
        monkeypatch.setattr(module, "available_bytes", lambda: POOL_BYTES + WORKER_BYTES + 2**24)
    # and what the workers share, which the count divides (core.allocation.shared_bytes)
    monkeypatch.setattr(sweep_runner, "shared_bytes", lambda: POOL_BYTES + WORKER_BYTES + 2**24)
    args = ["sweep", "--smoke", "--seq-len", "3", "--workers", "2", "--out", str(tmp_path / "r")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and notes[0].startswith(
        "note: the cells run in this process, not 2 workers: each needs about "
    ), result.stderr
    assert notes[0].endswith(" is available"), notes
    quiet = runner.invoke(app, [*args[:-1], str(tmp_path / "q"), "--quiet"])
    assert quiet.exit_code == 0 and "note: " not in quiet.stderr
    # more workers asked than cells: the note counts those that would have run (8 cells)
    args[args.index("2")] = "20"
    many = runner.invoke(app, [*args[:-1], str(tmp_path / "m")])
    assert many.exit_code == 0 and "in this process, not 8 workers:" in many.stderr, many.stderr


def test_a_cells_time_leaves_out_the_one_off_code_digest(monkeypatch):
    """A process's first cell recorded the summary's code digest (parsing ~60 modules: ~1.2 s,
    where a quick grid's cell takes 0.2 s) as its own time (helper 179): it is taken first."""
    from types import SimpleNamespace

    from vanishlab.sweep import measure

    now = [0.0]
    monkeypatch.setattr(measure, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    real = measure.code_digest

    def slow_digest() -> str:
        now[0] += 100.0  # the first parse
        return real()

    monkeypatch.setattr(measure, "code_digest", slow_digest)
    _, meta = measure.run_cell(vl.CellConfig(seq_len=3, hidden_size=4, input_size=2, batch=1))
    assert meta["status"] == "ok" and meta["summary"] is not None
    assert meta["elapsed_s"] == 0.0  # the clock moved only in the digest


def test_the_fewer_workers_note_states_what_it_counted():
    """Mutation review: the note's need without the worker's own memory, the forkserver's
    shown as a worker's, the first cell's estimate where the largest counts, and a count of 0
    workers (memory for the cell, none for the forkserver beside it) each passed every test."""
    from vanishlab.sweep.memory import POOL_BYTES, WORKER_BYTES, format_bytes
    from vanishlab.sweep.preflight import check_memory, fewer_workers_line

    cells = [vl.CellConfig(seq_len=20, hidden_size=16), vl.CellConfig(seq_len=20, hidden_size=64)]
    peak = cell_bytes(cells[1])
    assert peak > cell_bytes(cells[0])
    free = POOL_BYTES + 2 * (peak + WORKER_BYTES)
    assert check_memory(cells, free, 4) == 2
    assert fewer_workers_line(4, 2, cells, free) == (
        f"note: the cells run in 2 workers, not 4 workers: each needs about "
        f"{format_bytes(peak + WORKER_BYTES)} (its largest cell and its own) beside 256.0 MiB "
        f"for the process that starts them, and {format_bytes(free)} is available"
    )
    assert check_memory(cells, peak, 4) == 1  # the cell fits: it runs in this process


def test_workers_not_asked_for_are_as_many_as_fit_without_a_note(tmp_path, monkeypatch, capsys):
    """Without --workers the sweep takes a worker a core, as many as fit in the memory available
    (mutants that fitted only a number asked for, or said the note for the cores, passed)."""
    from vanishlab.sweep import plan
    from vanishlab.sweep import runner as sweep_runner
    from vanishlab.sweep.memory import POOL_BYTES, WORKER_BYTES

    used: list[str] = []
    from vanishlab.sweep import capacity

    for module in (sweep_runner, capacity):  # the run's count of workers, and its checks
        monkeypatch.setattr(module, "cores", lambda: 4)
    for module in (sweep_runner, plan):  # the run's check, and the plan's memory
        monkeypatch.setattr(module, "available_bytes", lambda: POOL_BYTES + WORKER_BYTES + 2**24)
    # and what the workers share, which the count divides (core.allocation.shared_bytes)
    monkeypatch.setattr(sweep_runner, "shared_bytes", lambda: POOL_BYTES + WORKER_BYTES + 2**24)
    monkeypatch.setattr(sweep_runner, "run_processes", lambda *args: used.append("processes"))
    real_run_here = sweep_runner.run_here
    monkeypatch.setattr(
        sweep_runner, "run_here", lambda *args: used.append("here") or real_run_here(*args)
    )
    sweep = vl.Sweep(hidden_size=[4], seq_len=[3], input_size=[2], batch=[1], seed=[0, 1, 2])
    vl.run_sweep(sweep, out=tmp_path / "run")
    assert used == ["here"]
    assert "note: " not in capsys.readouterr().err


def test_reports_advice_names_its_output_option_as_its_refusals_do(run_dir, tmp_path):
    """The refusals named the option "-o/--output" (typer does not say which was typed), but
    their advice said "give -o a path outside it" and "or -o FILE", also to a user who typed
    --output: one option, named one way in every message (docs/cli.md)."""
    other = tmp_path / "notes.html"
    other.write_text("mine")
    for spelling in ("-o", "--output"):
        for out, said in (
            (run_dir / "r.html", "is inside the run directory"),
            (tmp_path, "is a directory"),
            (other, "exists and is not a vanishlab report"),
        ):
            result = runner.invoke(app, ["report", str(run_dir), spelling, str(out)])
            line = one_error_line(result, said)
            assert "-o/--output" in line and " -o " not in line, line
    assert other.read_text() == "mine"
