"""A run's recorded commands ("Reproduce") rebuild the same cells when replayed in a fresh folder.

Two ways they did not, and what the manifest did not say (helper 411's audit):

- an axis left out of the command at its default (``model``, ``task``, ``train_steps``, ``lr``,
  ``optimizer``, ``clip``) took, when replayed, whatever the experiment module or the defaults
  held then: a module edited since (``model="lstm"``, ``lr=0.001``) rebuilt other cells under
  the same command, silently;
- a run extended with ``--force`` after its folder moved recorded two ``--out``s: replayed in
  order, its commands split the run between two folders;
- the CPU: its vector instructions choose MKL's kernels, and so a cell's last bits.
"""

from __future__ import annotations

import json
import shlex

import pytest
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep import commands
from vanishlab.sweep.commands import reproducing_command, with_name
from vanishlab.sweep.config import AXES
from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT, load_experiment

runner = CliRunner()

MODULE = '''"""One tiny RNN cell at every default but its size."""
import vanishlab as vl
SWEEP = vl.Sweep(hidden_size=2, input_size=2, seq_len=3, batch=1, seed=0, init="default")
'''

EDITED = '''"""The same module, edited for the next study."""
import vanishlab as vl
SWEEP = vl.Sweep(hidden_size=2, input_size=2, seq_len=3, batch=1, seed=0, init="default",
                 model="lstm", task="adding", train_steps=5, lr=0.001, optimizer="sgd", clip=0.0)
'''


def _dry_run_axes(words: list[str]) -> dict[str, str]:
    """The grid ``vanishlab sweep WORDS --dry-run`` would sweep: its listing, axis -> values."""
    result = runner.invoke(app, [*words, "--dry-run"])
    assert result.exit_code == 0, result.output
    axes = {}
    for line in result.output.splitlines():
        parts = line.split(None, 1)
        if line.startswith("  ") and len(parts) == 2 and parts[0] in AXES:
            axes[parts[0]] = parts[1].split(" (")[0]
    assert set(axes) == set(AXES), result.output
    return axes


def test_every_axis_is_a_flag_of_the_recorded_command(tmp_path):
    """The quick grid's command names every axis, so a later default cannot move it."""
    words = shlex.split(reproducing_command(DEFAULT_EXPERIMENT, tmp_path / "run", "r"))
    for axis in AXES:
        assert "--" + axis.replace("_", "-") in words, axis


def test_a_command_replayed_after_its_module_was_edited_sweeps_the_same_grid(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.py").write_text(MODULE)
    command = reproducing_command(load_experiment("study.py"), "run", "study")
    before = _dry_run_axes(shlex.split(command)[1:])
    assert before["model"] == "rnn" and before["train_steps"] == "0"
    (tmp_path / "study.py").write_text(EDITED)  # the next study, in the same file
    after = _dry_run_axes(shlex.split(command)[1:])
    assert after == before


def test_with_out_sets_the_folder_of_sweep_s_own_commands_only():
    with_out = commands.with_out
    command = "vanishlab sweep gated --model rnn --out runs/a --name 'my run' --force"
    assert with_out(command, "runs/b") == (
        "vanishlab sweep gated --model rnn --out runs/b --name 'my run' --force"
    )
    assert with_out(with_name(command, "x"), "runs/b") == (
        "vanishlab sweep gated --model rnn --out runs/b --name x --force"
    )
    assert with_out("vanishlab sweep --out a --name=n", "b") == "vanishlab sweep --out b --name=n"
    for other in ("vanishlab sweep --out a && echo", "python x.py --out a --name n", "ls"):
        assert with_out(other, "b") == other


@pytest.mark.timeout(120)
def test_a_run_extended_after_its_folder_moved_replays_into_one_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    grid = vl.Sweep(hidden_size=2, input_size=2, seq_len=3, batch=1, seed=0, gain=1.0)
    vl.run_sweep(grid, "first", workers=1, progress=False)
    (tmp_path / "first").rename(tmp_path / "moved")
    vl.run_sweep(grid.replace(gain=2.0), "moved", workers=1, progress=False, force=True)
    commands = json.loads((tmp_path / "moved" / "manifest.json").read_text())["commands"]
    assert [shlex.split(c)[shlex.split(c).index("--out") + 1] for c in commands] == ["moved"] * 2

    (fresh := tmp_path / "fresh").mkdir()
    monkeypatch.chdir(fresh)
    for command in commands:
        result = runner.invoke(app, [*shlex.split(command)[1:], "--workers", "1", "--quiet"])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in fresh.iterdir()) == ["moved"]
    replayed = vl.load_results(fresh / "moved")
    original = vl.load_results(tmp_path / "moved")
    keys = ["cell_id", "source", "layer", "lag"]
    assert (
        replayed.sort_values(keys)
        .reset_index(drop=True)
        .equals(original.sort_values(keys).reset_index(drop=True))
    )


def test_the_manifest_records_the_cpu_and_the_settings_that_choose_its_kernels(monkeypatch):
    """MKL's products round by the instructions they run on: the same chaotic cell read 0.88
    apart in log10 on an AVX-512 and an AVX2 path (docs/cli.md, "Another CPU"), and the
    manifest said only the platform, `Linux-...-x86_64`."""
    import torch

    from vanishlab.sweep.manifest import package_versions

    monkeypatch.setenv("MKL_CBWR", "AVX2")
    monkeypatch.delenv("MKL_ENABLE_INSTRUCTIONS", raising=False)
    cpu = package_versions()["cpu"]
    assert torch.backends.cpu.get_cpu_capability() in cpu.split("; ")
    assert "MKL_CBWR=AVX2" in cpu.split("; ") and "MKL_ENABLE_INSTRUCTIONS" not in cpu


def test_a_dask_run_s_cpu_says_it_is_the_client_s_not_the_cells():
    """With --scheduler the cells are measured on the workers, and the manifest's ``cpu`` is
    this process's: the page's Versions block said "cpu: Intel(R) Xeon(R) Processor; AVX512"
    of a run whose cells no such CPU had measured, as a local run's says it."""
    from vanishlab.sweep.cpu import CLIENT_ONLY
    from vanishlab.sweep.manifest import package_versions

    assert package_versions(dask=True)["cpu"].endswith("; " + CLIENT_ONLY)
    assert CLIENT_ONLY not in package_versions()["cpu"]
