"""Two writers of one new run folder at once: the first (P1) fails before its manifest and
removes the empty folders it made just after the second (P2) found them there, before P2
wrote in them. P2 was refused in one line, "cannot write the run directory ...: No such file
or directory"; it now makes them again and goes on. Removed after its probe, before its
.lock, they were made again unlisted, and left behind where P2 failed too. A folder that
cannot be made at all is still refused in one line, at once."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from vanishlab.errors import VanishlabError
from vanishlab.sweep import files, preflight
from vanishlab.sweep.rundir import held_new_or_run


def _removed_once_by_p1(monkeypatch, p1_made: list[Path]) -> list[Path]:
    """``preflight._probe`` that first removes ``p1_made`` (P1's remove_folders, landing
    between P2's check of the folder and its write), then probes; the folders it probed."""
    real, probed = preflight._probe, []

    def probe(folder: Path) -> None:
        if not probed:
            files.remove_folders(p1_made)  # empty: gone
        probed.append(folder)
        real(folder)

    monkeypatch.setattr(preflight, "_probe", probe)
    return probed


@pytest.mark.parametrize("depth", [1, 2], ids=["the folder", "the folder and its parent"])
def test_a_run_folder_another_writer_removed_before_this_one_wrote_is_made_again(
    tmp_path, monkeypatch, depth
):
    run_dir = tmp_path / "new" / "run"
    p1_made = [run_dir.parent, run_dir][-depth:]  # by P1, the shallowest first
    run_dir.mkdir(parents=True)
    probed = _removed_once_by_p1(monkeypatch, p1_made)
    made = preflight.make_dir(run_dir)
    assert run_dir.is_dir() and list(run_dir.iterdir()) == []
    assert made == p1_made  # P2's own now: removed where P2 fails before its manifest
    assert probed == [run_dir, run_dir]


def test_a_writer_whose_run_folder_vanished_holds_it_and_removes_it_where_it_fails(
    tmp_path, monkeypatch
):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    _removed_once_by_p1(monkeypatch, [run_dir])
    with pytest.raises(KeyboardInterrupt), held_new_or_run(run_dir) as lock:
        assert lock.made and (run_dir / ".lock").read_text() == str(os.getpid())
        raise KeyboardInterrupt  # P2's own stop before its manifest
    assert list(tmp_path.iterdir()) == []  # P2 made it again, so P2 removed it


def _counted(monkeypatch) -> list[Path]:
    """Every run folder ``make_dir`` tries to make (its calls of ``folders_made``)."""
    real, tried = files.folders_made, []

    def counted(folder: Path, made=None):
        tried.append(folder)
        return real(folder, made)

    monkeypatch.setattr(preflight, "folders_made", counted)
    return tried


def test_a_run_folder_below_a_regular_file_is_refused_at_once(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    tried = _counted(monkeypatch)
    with pytest.raises(VanishlabError) as refused:
        preflight.make_dir(tmp_path / "file" / "run")
    assert str(refused.value) == (
        f"cannot write the run directory {tmp_path / 'file' / 'run'}: Not a directory; give "
        "out= another directory"
    )
    assert len(tried) == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_a_run_folder_that_cannot_be_written_is_refused_at_once(tmp_path, monkeypatch, code):
    """A read-only or denied parent (forced here: the tests may run as root, whom a mode
    bit does not stop)."""

    def refused(folder: Path) -> None:
        raise OSError(code, os.strerror(code), str(folder / "probe"))

    monkeypatch.setattr(preflight, "_probe", refused)
    tried = _counted(monkeypatch)
    with pytest.raises(VanishlabError, match=os.strerror(code)) as refused_:
        preflight.make_dir(tmp_path / "new" / "run")
    assert "\n" not in str(refused_.value)
    assert len(tried) == 1 and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_a_run_folder_below_a_broken_link_is_refused_after_its_few_tries(tmp_path, monkeypatch):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    tried = _counted(monkeypatch)
    with pytest.raises(VanishlabError) as refused:
        preflight.make_dir(tmp_path / "link" / "run")
    assert str(refused.value) == (
        f"cannot write the run directory {tmp_path / 'link' / 'run'}: No such file or "
        "directory; give out= another directory"
    )
    assert len(tried) == preflight._MAKE_TRIES and sorted(os.listdir(tmp_path)) == ["link"]


@pytest.mark.parametrize("depth", [1, 2], ids=["the folder", "the folder and its parent"])
def test_a_run_folder_removed_after_its_probe_is_made_again_and_removed_where_it_fails(
    tmp_path, monkeypatch, depth
):
    """P1's removal landing after P2's probe, before P2's .lock: the lock made the folders
    again, unlisted, and P2, failing before its manifest too, left them behind, empty."""
    from vanishlab.sweep import rundir

    run_dir = tmp_path / "new" / "run"
    p1_made = [run_dir.parent, run_dir][-depth:]
    run_dir.mkdir(parents=True)

    def made_then_removed(folder: Path, **kwargs) -> list[Path]:
        made = preflight.make_dir(folder, **kwargs)
        files.remove_folders(p1_made)
        return made

    monkeypatch.setattr(rundir, "make_dir", made_then_removed)
    with pytest.raises(KeyboardInterrupt), held_new_or_run(run_dir) as lock:
        assert lock.made and (run_dir / ".lock").read_text() == str(os.getpid())
        raise KeyboardInterrupt  # P2's own stop before its manifest
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == ([] if depth == 2 else ["new"])  # P2 found new/ (depth 1): it stays
