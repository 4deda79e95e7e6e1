"""A run that an older vanishlab measured, resumed or extended by this one (sweep/measured_by.py).

A cell's id is its config alone, so a resume keeps every cell the run holds. Runs made by this
repository's code of 2026-11-26 (a716af41), resumed by that of 2026-12-06, kept 16 cells that
read up to 1.19 in log10 off what the new code measures of the same cells (48 cells of a
longer grid: up to 16.1) and put 8 new cells beside them, the manifest naming the new versions
alone. The old runs here are this code's runs hand-edited into the shape an older one wrote:
``versions`` without ``vanishlab_code`` (recorded since 2026-12-06) or with another one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _cli_lines import one_error_line
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.errors import VanishlabError
from vanishlab.report.sections.provenance import versions_block
from vanishlab.sweep.config import Sweep
from vanishlab.sweep.manifest_digest import DIGEST
from vanishlab.sweep.package_digest import PACKAGE_DIGEST_KEY

runner = CliRunner()
TINY = {"hidden_size": 4, "input_size": 2, "seq_len": 4, "batch": 2}
FLAGS = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "2"]
FLAGS += ["--activation", "tanh", "--num-layers", "1", "--init", "default", "--seeds", "1"]


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


def _older_run(tmp_path: Path, code: str | None = None) -> tuple[Sweep, Path, dict[str, Any]]:
    """A two-cell run as a vanishlab of other code left it (its versions' ``vanishlab_code``
    ``code``, or none recorded), interrupted: one shard of the two. Returns the grid, the run
    and its old versions."""
    grid = Sweep(gain=(0.5, 1.0), activation=("tanh",), num_layers=(1,), init=("default",), **TINY)
    out = tmp_path / "old"
    vl.run_sweep(grid, out, workers=1, progress=False)
    manifest = _manifest(out)
    versions = {k: v for k, v in manifest["versions"].items() if k != PACKAGE_DIGEST_KEY}
    if code is not None:
        versions[PACKAGE_DIGEST_KEY] = code
    manifest["versions"] = versions
    manifest.pop(DIGEST)  # none before 2026-12-07: an older vanishlab's run has none
    (out / "manifest.json").write_text(json.dumps(manifest))
    sorted((out / "cells").glob("*.parquet"))[0].unlink()
    return grid, out, versions


def test_a_resume_beside_cells_of_unrecorded_code_is_refused_in_one_line(tmp_path):
    grid, out, versions = _older_run(tmp_path)  # before 2026-12-06: no code digest
    with pytest.raises(VanishlabError, match="'s 1 cells were measured by vanishlab ") as err:
        vl.run_sweep(grid, out, workers=1, progress=False)
    assert "did not record" in str(err.value) and "force=True" in str(err.value)
    assert "up to 16 in log10" in str(err.value)
    line = one_error_line(
        runner.invoke(app, ["sweep", *FLAGS, "--gain", "0.5,1", "--out", str(out)]),
        "the 1 cells this sweep measures would lie beside them",
    )
    assert "--force to keep both" in line and "(force=True)" not in line
    dry = runner.invoke(app, ["sweep", *FLAGS, "--gain", "0.5,1", "--out", str(out), "--dry-run"])
    one_error_line(dry, "did not record")
    assert len(list((out / "cells").glob("*.parquet"))) == 1  # nothing measured
    assert _manifest(out)["versions"] == versions  # nor written


def test_a_resume_beside_cells_of_other_recorded_code_goes_on_warns_and_records(tmp_path):
    # The digest changes with any .py edit (an upgrade, a developer's one-line change) and most
    # change no number: an interrupted run resumed after one was refused until --force, the
    # flag that also accepts another grid and a redefined init.
    grid, out, versions = _older_run(tmp_path, "0" * 64)
    said = f"of other code ({PACKAGE_DIGEST_KEY} 000000000000...)"
    dry = runner.invoke(app, ["sweep", *FLAGS, "--gain", "0.5,1", "--out", str(out), "--dry-run"])
    assert dry.exit_code == 0 and f"kept cells were measured by vanishlab 0.1.0 {said}" in (
        dry.stdout
    )
    summary = vl.run_sweep(grid, out, workers=1, progress=False)
    assert summary.n_run == 1 and summary.mixed_code is not None
    assert "1 kept cells were measured by" in summary.mixed_code and said in summary.mixed_code
    assert summary.warning_lines()[0] == summary.mixed_code
    assert _manifest(out)["earlier_versions"] == [versions]
    # the command line's warning line, on stderr, exit status 0
    sorted((out / "cells").glob("*.parquet"))[0].unlink()
    manifest = _manifest(out)
    manifest["versions"] = {**manifest["versions"], PACKAGE_DIGEST_KEY: "1" * 64}
    manifest.pop(DIGEST)
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["sweep", *FLAGS, "--gain", "0.5,1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "kept cells were measured" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: ") and "--out " in warned[0]
    assert "(out=)" not in warned[0]
    assert [v[PACKAGE_DIGEST_KEY] for v in _manifest(out)["earlier_versions"]] == [
        "0" * 64,
        "1" * 64,
    ]
    # the same code resumes it (after a Ctrl-C): no warning, nothing more recorded
    sorted((out / "cells").glob("*.parquet"))[0].unlink()
    again = vl.run_sweep(grid, out, workers=1, progress=False)
    assert again.n_run == 1 and again.mixed_code is None
    assert len(_manifest(out)["earlier_versions"]) == 2


def test_force_keeps_both_and_the_manifest_and_page_say_so(tmp_path):
    grid, out, versions = _older_run(tmp_path)
    summary = vl.run_sweep(grid, out, workers=1, progress=False, force=True)
    assert summary.n_run == 1
    manifest = _manifest(out)
    assert manifest["earlier_versions"] == [versions]
    assert manifest["versions"][PACKAGE_DIGEST_KEY] != versions.get(PACKAGE_DIGEST_KEY)
    assert vl.load_manifest(out)["earlier_versions"] == [versions]
    block = versions_block(manifest)
    assert (
        block is not None
        and (
            "some cells measured by",
            "vanishlab 0.1.0 of code that it "
            "did not record (vanishlab records it since 2026-12-06)",
        )
        in block.items
    )
    page = tmp_path / "r.html"
    assert runner.invoke(app, ["report", str(out), "-o", str(page)]).exit_code == 0
    assert "some cells measured by" in page.read_text()
    # from now on its cells of other code are on record: this code resumes it, keeping the record
    sorted((out / "cells").glob("*.parquet"))[0].unlink()
    assert vl.run_sweep(grid, out, workers=1, progress=False).n_run == 1
    assert _manifest(out)["earlier_versions"] == [versions]


def test_a_resume_that_measures_nothing_keeps_the_versions_that_measured_the_cells(tmp_path):
    grid, out, versions = _older_run(tmp_path)
    one = Sweep(gain=(0.5,), activation=("tanh",), num_layers=(1,), init=("default",), **TINY)
    done = {p.stem for p in (out / "cells").glob("*.parquet")}
    if one.cells()[0].cell_id not in done:
        one = Sweep(gain=(1.0,), activation=("tanh",), num_layers=(1,), init=("default",), **TINY)
    assert vl.run_sweep(one, out, workers=1, progress=False).n_run == 0
    # it wrote "versions" of this code over the old ones, and the next resume mixed in silence
    assert _manifest(out)["versions"] == versions
    with pytest.raises(VanishlabError, match="were measured by vanishlab "):
        vl.run_sweep(grid, out, workers=1, progress=False)


def test_a_hand_edited_earlier_versions_that_is_no_list_of_mappings_is_refused(tmp_path):
    _, out, _ = _older_run(tmp_path)
    (out / "manifest.json").write_text(json.dumps({**_manifest(out), "earlier_versions": "x"}))
    with pytest.raises(VanishlabError, match="'earlier_versions' must be a list of mappings"):
        vl.load_manifest(out)


def test_a_monitor_reopened_on_another_vanishlab_s_steps_says_so(tmp_path):
    import torch

    torch.manual_seed(0)
    gru, probe, out = torch.nn.GRU(3, 4), torch.randn(5, 2, 3), tmp_path / "mon"
    with vl.JacobianMonitor(gru, probe, out, every=1) as mon:
        mon.step(0)
    manifest = _manifest(out)  # as a vanishlab of before 2026-12-06 wrote it
    old = {k: v for k, v in manifest["versions"].items() if k != PACKAGE_DIGEST_KEY}
    manifest.pop(DIGEST)  # nor a digest of its keys
    (out / "manifest.json").write_text(json.dumps({**manifest, "versions": old}))
    said = "1 recorded steps were measured by vanishlab 0.1.0"
    with pytest.warns(UserWarning, match=said), vl.JacobianMonitor(gru, probe, out) as mon:
        mon.step(1)
    assert _manifest(out)["earlier_versions"] == [old]
    assert sorted(vl.load_cells(out)["step"]) == [0, 1]


def test_the_warning_and_the_refusal_go_through_the_plans_cells_once(monkeypatch):
    """mixed_code_line and check_same_code each listed the pending cells four times (mixes_code
    twice, through kept, then kept and pending again for their counts): 0.77 ms of CPU for the
    four checks of a sweep of a 1,000-cell plan, 0.40 ms once each (a pass is ~57 us)."""
    from vanishlab.sweep.measured_by import check_same_code, mixed_code_line, mixes_code
    from vanishlab.sweep.plan import SweepPlan

    grid = Sweep(gain=(0.5, 1.0, 2.0), activation=("tanh",), num_layers=(1,), **TINY)
    cells = grid.cells()
    done = {c.cell_id: {"status": "ok"} for c in cells[:2]}
    plan = SweepPlan(
        experiment=vl.Experiment(name="", description="", sweep=grid),
        run_dir=Path("run"),
        cells=cells,
        done=done,  # type: ignore[arg-type]
        is_run_dir=True,
        new_cells=0,
        sound=frozenset(done),
        recorded_versions={"vanishlab": "0.0.1"},  # no code digest: refused without force
    )
    passes = []
    pending = SweepPlan.pending
    monkeypatch.setattr(
        SweepPlan, "pending", lambda self, r=False: passes.append(r) or pending(self, r)
    )
    assert mixes_code(plan)
    assert passes == [False]
    passes.clear()
    assert "'s 2 kept cells were measured by" in (mixed_code_line(plan, False) or "")
    assert "the 1 cells this sweep measures" in (mixed_code_line(plan, False) or "")
    assert passes == [False, False]  # two calls, one pass each
    passes.clear()
    with pytest.raises(VanishlabError, match=r"'s 2 cells were measured by .* the 1 cells this"):
        check_same_code(plan, force=False, retry_failed=False)
    assert passes == [False]
