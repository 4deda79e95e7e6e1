"""A run's manifest records a digest of vanishlab's code beside its version (docs/data.md,
"Publishing and citing"): the version number reads ``0.1.0`` at every commit, so a run measured
by one state of the code and one measured by another could not be told apart by their
manifests."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
from torch import nn

import vanishlab as vl
from vanishlab.sweep.package_digest import PACKAGE_DIGEST_KEY, folder_digest

PACKAGE = Path(vl.__file__).resolve().parent


def _by_hand(root: Path) -> str:
    """The digest as the module docstring words it, written out again."""
    digest = hashlib.sha256()
    paths = [
        p
        for p in root.rglob("*.py")
        if "__pycache__" not in p.relative_to(root).parts
        and "experiments" not in p.relative_to(root).parts[:-1]
    ]
    for path in sorted(paths, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(
            path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
        )
    return digest.hexdigest()


def _versions(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())["versions"]


def test_every_kind_of_run_records_the_code_it_was_measured_by(smoke_run_dir, tmp_path):
    """A sweep's, an analysis's and a monitor's manifest: the digest of the package's files."""
    want = _by_hand(PACKAGE)
    assert _versions(smoke_run_dir)[PACKAGE_DIGEST_KEY] == want
    torch.manual_seed(0)
    rnn = nn.RNN(2, 3)
    torch.save(rnn.state_dict(), tmp_path / "m.pt")
    vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "analysis", seq_len=4, batch=2)
    assert _versions(tmp_path / "analysis")[PACKAGE_DIGEST_KEY] == want
    with vl.JacobianMonitor(rnn, torch.randn(4, 2, 2), out=tmp_path / "monitor", every=1) as mon:
        mon.step(0)
    assert _versions(tmp_path / "monitor")[PACKAGE_DIGEST_KEY] == want


def test_the_digest_changes_with_the_code_and_not_with_caches_or_experiments(tmp_path):
    """One byte of one module changes it; a ``__pycache__`` file or an installed experiment
    module (``vanishlab/experiments/``, beside the package in a checkout) does not."""
    copy = tmp_path / "vanishlab"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = folder_digest(copy)
    assert before == _by_hand(copy)
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "x.py").write_text("cached = 1\n")
    (copy / "experiments").mkdir()
    (copy / "experiments" / "study.py").write_text('"""A study."""\n')
    assert folder_digest(copy) == before
    errors = copy / "errors.py"
    errors.write_bytes(errors.read_bytes() + b"\n")
    assert folder_digest(copy) != before
