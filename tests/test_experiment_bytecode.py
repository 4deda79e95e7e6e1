"""An experiment file runs from its own bytes, as a script does: no bytecode cache beside it.

This project's machines set PYTHONDONTWRITEBYTECODE=1, which hid both defects from the suite:
each test sets ``sys.dont_write_bytecode`` itself."""

from __future__ import annotations

import os
import sys

import pytest

from vanishlab.sweep import experiments

_SOURCE = "import vanishlab as vl\n\nSWEEP = vl.Sweep(seq_len={}, hidden_size=8)\n"


@pytest.fixture
def user_file(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # a user's Python
    path = tmp_path / "experiments" / "mine.py"
    path.parent.mkdir()
    path.write_text(_SOURCE.format(111))
    yield path
    sys.modules.pop("_vl_test_mine", None)
    experiments.LOADED_FROM.pop("_vl_test_mine", None)


def test_loading_an_experiment_writes_nothing_beside_it(user_file):
    module = experiments.import_file("_vl_test_mine", user_file)
    assert module.SWEEP.seq_len == (111,)
    assert sorted(p.name for p in user_file.parent.iterdir()) == ["mine.py"]


def test_an_edit_of_the_same_size_within_the_second_runs(user_file):
    # The cache's key is the source's size and whole seconds of its time: a one-digit edit in
    # the same second (a script's edit, an archive's or rsync's kept times) ran the old code,
    # while the manifest's digest was the new file's.
    stamp = user_file.stat().st_mtime_ns
    assert experiments.import_file("_vl_test_mine", user_file).SWEEP.seq_len == (111,)
    user_file.write_text(_SOURCE.format(222))
    os.utime(user_file, ns=(stamp, stamp))
    module = experiments.import_file("_vl_test_mine", user_file)
    assert module.SWEEP.seq_len == (222,)
    assert experiments.LOADED_FROM["_vl_test_mine"] == experiments.file_digest(user_file)
