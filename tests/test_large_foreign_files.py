"""A large file that is not what its name says (a 2 GiB sparse file: `truncate -s 2G`) in a
run directory is refused from its first bytes, not read whole first: a shard, the summary's
cache or the manifest named so took 4.3 GB of memory and 22 s before its one line (the cache:
before it was computed afresh)."""

from __future__ import annotations

import builtins

import pytest
from _tiny_run import tiny_run_dir

import vanishlab as vl
import vanishlab.sweep.json_text as json_text
import vanishlab.sweep.shard_file as shard_file
import vanishlab.sweep.summary as summary
from vanishlab.errors import VanishlabError
from vanishlab.sweep import store
from vanishlab.sweep.corrupt_shard import CorruptShardError

SIZE = 64 << 20  # sparse: no disk taken, and a read of it whole is 64 MiB


class _Counted:
    """A file whose reads are counted in ``read_bytes``."""

    read_bytes = 0

    def __init__(self, *args, **kwargs) -> None:
        self._f = builtins.open(*args, **kwargs)  # noqa: SIM115 (closed in __exit__)

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        _Counted.read_bytes += len(data)
        return data

    def __getattr__(self, name: str):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()


@pytest.fixture
def counted(monkeypatch):
    _Counted.read_bytes = 0
    for module in (shard_file, summary, json_text):
        monkeypatch.setattr(module, "open", _Counted, raising=False)
    return _Counted


def _sparse(path, size: int = SIZE) -> None:
    with builtins.open(path, "wb") as f:
        f.truncate(size)


def test_a_large_file_named_as_a_shard_is_refused_from_its_first_bytes(tmp_path, counted):
    run, path = tiny_run_dir(tmp_path)
    _sparse(path)
    with pytest.raises(CorruptShardError, match="not parquet's magic bytes at its start and end"):
        vl.load_results(run)
    assert counted.read_bytes < 1024


def test_a_large_file_named_as_the_summarys_cache_is_computed_afresh_unread(tmp_path, counted):
    run, _ = tiny_run_dir(tmp_path)
    _sparse(run / summary.SUMMARY)
    counted.read_bytes = 0
    rows = vl.summarize(run, cache=True)
    assert len(rows) == 1
    assert counted.read_bytes < SIZE // 2  # the shard and the cache's start and end: not all
    assert (run / summary.SUMMARY).stat().st_size < SIZE  # written anew


def test_a_large_file_named_as_the_manifest_is_refused_unread(tmp_path, counted):
    """Its characters read stop at json_text.MAX_CHARS (64 MiB), a manifest's text far beyond
    any vanishlab writes; it said "corrupt or unreadable (Expecting value: line 1 column 1
    (char 0))" once it had read all of it."""
    run, _ = tiny_run_dir(tmp_path)
    _sparse(run / "manifest.json", json_text.MAX_CHARS + SIZE)
    with pytest.raises(VanishlabError, match=r"is corrupt or unreadable \(more than 64 MiB of"):
        vl.load_results(run)
    assert counted.read_bytes <= json_text.MAX_CHARS + 1


def test_a_shard_removed_after_it_was_listed_is_said_so_not_called_corrupt(tmp_path, monkeypatch):
    """A shard listed, then removed before it was read (moved aside by a sweep writing the run
    while its report read it) was "corrupt (unexpected file)", with the advice to run the
    command that moves it aside."""
    run, path = tiny_run_dir(tmp_path)
    listed = list(store.shard_paths(run))
    assert listed == [path]
    path.unlink()
    monkeypatch.setattr(store, "shard_paths", lambda run_dir: iter(listed))
    with pytest.raises(VanishlabError, match="was removed while the run was read") as err:
        vl.load_results(run)
    assert not isinstance(err.value, CorruptShardError)


def test_a_shard_removed_as_it_is_opened_is_said_so_not_called_corrupt(tmp_path, monkeypatch):
    """The same race, later: the shard still there when its folder was looked at, gone when it
    was opened. It was "corrupt (unreadable: [Errno 2] No such file or directory)", with the
    advice to run the command that moves it aside."""
    run, path = tiny_run_dir(tmp_path)

    def removed_first(file, *args, **kwargs):
        if file == path:
            path.unlink()
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(shard_file, "open", removed_first, raising=False)
    with pytest.raises(VanishlabError, match="was removed while the run was read") as err:
        vl.load_results(run)
    assert not isinstance(err.value, CorruptShardError)
    assert not path.exists()
