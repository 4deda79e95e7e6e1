"""The environment refusing memory, threads or files is said in one line (status 2), and a
sound shard read under such a refusal is never called corrupt, moved aside or measured again.

Found under ``ulimit -v``: `vanishlab report` called a sound shard corrupt (pyarrow's "Failed
to launch worker thread"), and a sweep or analysis would have moved it aside; torch's import
("failed to map segment from shared object"), a figure's MemoryError and a thread's start
ended in tracebacks with status 1.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer

import vanishlab as vl
from vanishlab.cli._app import user_errors
from vanishlab.errors import VanishlabError
from vanishlab.sweep import shard_file
from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT

REFUSALS = [
    pa.ArrowMemoryError("malloc of size 4096 failed"),
    pa.ArrowException("Unknown error: Failed to launch worker thread: Resource unavailable"),
]


@pytest.fixture
def run_dir(smoke_run_dir, tmp_path) -> Path:
    return Path(shutil.copytree(smoke_run_dir, tmp_path / "run"))


def _refuse_opening(monkeypatch, err: BaseException) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise err

    monkeypatch.setattr(shard_file.pq, "ParquetFile", refuse)


@pytest.mark.parametrize("err", REFUSALS, ids=["memory", "thread"])
def test_a_shard_read_without_memory_is_not_corrupt_and_stays(run_dir, monkeypatch, err):
    before = sorted(p.name for p in (run_dir / "cells").iterdir())
    _refuse_opening(monkeypatch, err)
    with pytest.raises(VanishlabError, match="not a damaged file, left as it is") as raised:
        vl.run_sweep(DEFAULT_EXPERIMENT, run_dir, smoke=True, workers=1, progress=False)
    assert "is corrupt" not in str(raised.value)
    assert sorted(p.name for p in (run_dir / "cells").iterdir()) == before
    assert not (run_dir / "corrupt").exists()


def test_rows_read_without_memory_are_not_corrupt(run_dir, monkeypatch):
    def refuse(self: pq.ParquetFile, *args: object, **kwargs: object) -> None:
        raise pa.ArrowMemoryError("malloc of size 4096 failed")

    monkeypatch.setattr(pq.ParquetFile, "read", refuse)
    with pytest.raises(VanishlabError, match="not a damaged file"):
        vl.load_results(run_dir)
    with pytest.raises(VanishlabError, match="not a damaged file"):
        vl.run_sweep(DEFAULT_EXPERIMENT, run_dir, smoke=True, workers=1, progress=False)
    assert not (run_dir / "corrupt").exists()


def test_too_many_open_files_is_not_a_corrupt_shard(run_dir, monkeypatch):
    real_open = open
    cells = str(run_dir / "cells")

    def no_fd(file: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if str(file).startswith(cells):
            raise OSError(errno.EMFILE, "Too many open files")
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", no_fd)
    with pytest.raises(OSError, match="Too many open files") as raised:
        vl.run_sweep(DEFAULT_EXPERIMENT, run_dir, smoke=True, workers=1, progress=False)
    assert raised.value.filename.startswith(cells)
    assert not (run_dir / "corrupt").exists()


@pytest.mark.parametrize(
    "err",
    [
        MemoryError(),
        ImportError("libtorch_cpu.so: failed to map segment from shared object"),
        RuntimeError("can't start new thread"),
    ],
    ids=["MemoryError", "mmap", "thread"],
)
def test_a_command_refused_memory_ends_in_one_line(capsys, err):
    @user_errors(stopped="no report written")
    def command() -> None:
        raise err

    with pytest.raises(typer.Exit) as stopped:
        command()
    assert stopped.value.exit_code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: out of memory"), lines
    assert lines[0].endswith("; no report written")


def test_a_thread_refused_names_the_limit_on_threads_too(capsys):
    """'can't start new thread' comes from a limit on threads (ulimit -u, a cgroup's) as often
    as from a stack refused memory: it was told to raise ulimit -v alone."""

    @user_errors(stopped="")
    def command() -> None:
        raise RuntimeError("can't start new thread")

    with pytest.raises(typer.Exit):
        command()
    line = capsys.readouterr().err.strip()
    assert line.startswith("error: out of memory or threads (can't start new thread)")
    assert "ulimit -u" in line


@pytest.mark.parametrize(
    "err", [RuntimeError("a bug"), ImportError("No module named 'nothing_here'")]
)
def test_other_errors_keep_their_traceback(err):
    @user_errors
    def command() -> None:
        raise err

    with pytest.raises(type(err)):
        command()


def test_a_library_on_a_noexec_file_system_is_not_called_out_of_memory(capsys, monkeypatch):
    """A Python extension on a file system mounted noexec fails to load in the words of a
    refused mapping (seen: '/mnt/x/myext.so: failed to map segment from shared object' on a
    noexec tmpfs); it was said as 'out of memory ...; raise its limit (ulimit -v ...)', which
    no limit mends."""
    library = "/venv/lib/site-packages/pyarrow/lib.cpython-311-x86_64-linux-gnu.so"
    real_statvfs = os.statvfs

    def noexec(path: str) -> os.statvfs_result:
        if path != library:
            return real_statvfs(path)
        values = list(real_statvfs("/"))
        values[8] |= os.ST_NOEXEC  # f_flag
        return os.statvfs_result(values)

    monkeypatch.setattr(os, "statvfs", noexec)

    @user_errors(stopped="no report written")
    def command() -> None:
        raise ImportError(f"{library}: failed to map segment from shared object")

    with pytest.raises(typer.Exit) as stopped:
        command()
    assert stopped.value.exit_code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "out of memory" not in lines[0], lines
    assert f"cannot load {library}: it lies on a file system mounted noexec" in lines[0]


def test_an_io_error_reading_a_shard_leaves_it_where_it_is(run_dir, monkeypatch):
    """EIO (a failing disk, a network file system that lost its server) says nothing of a
    file's bytes: the shard was called corrupt ("unreadable: [Errno 5] ..."), moved aside to
    corrupt/ and its cell measured again. It is now left as it is, in one line."""
    real_open = open
    cells = str(run_dir / "cells")

    def io_error(file: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if str(file).startswith(cells) and (args[:1] or (kwargs.get("mode"),)) == ("rb",):
            raise OSError(errno.EIO, "Input/output error")  # a read: writes go on
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    before = sorted(p.name for p in (run_dir / "cells").iterdir())
    monkeypatch.setattr("builtins.open", io_error)
    with pytest.raises(VanishlabError, match="Input/output error") as raised:
        vl.run_sweep(DEFAULT_EXPERIMENT, run_dir, smoke=True, workers=1, progress=False)
    assert "is corrupt" not in str(raised.value) and "left as it is" in str(raised.value)
    assert str(raised.value).startswith(f"cannot read {cells}")
    assert sorted(p.name for p in (run_dir / "cells").iterdir()) == before
    assert not (run_dir / "corrupt").exists()


def _report_raising(monkeypatch, tmp_path, run_dir, make_error):
    """``vanishlab report RUN -o tmp/r.html`` where the rendering raises ``make_error()``."""
    from typer.testing import CliRunner

    from vanishlab.cli import app

    def render(*args: object, **kwargs: object) -> None:
        raise make_error()

    monkeypatch.setattr("vanishlab.report.render_report", render)
    return CliRunner().invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "r.html")])


def _torch_refused() -> BaseException:
    """torch's own error for an allocation its CPU allocator cannot make (1 EiB)."""
    import torch

    try:
        torch.empty(2**60, dtype=torch.uint8)
    except RuntimeError as err:
        return err
    raise AssertionError("1 EiB was allocated")


def _refused_inside_c() -> BaseException:
    """A C function that returned a result with a MemoryError set: a SystemError caused by it."""
    err = SystemError("<built-in function x> returned a result with an exception set")
    err.__cause__ = MemoryError()
    return err


@pytest.mark.parametrize(
    ("make_error", "said"),
    [
        (_torch_refused, "out of memory (DefaultCPUAllocator: can't allocate memory: you tried"),
        (lambda: RuntimeError("std::bad_alloc"), "out of memory (std::bad_alloc): the process"),
        (_refused_inside_c, "out of memory (MemoryError): the process was refused memory"),
    ],
    ids=["allocator", "bad_alloc", "SystemError"],
)
def test_torch_refused_memory_in_a_command_ends_in_one_line(
    run_dir, tmp_path, monkeypatch, make_error, said
):
    """torch's CPU allocator refused (ulimit -v) ended a command in a RuntimeError traceback,
    status 1, where a MemoryError was one line: now the same line, status 2, nothing written."""
    result = _report_raising(monkeypatch, tmp_path, run_dir, make_error)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {said}"), lines
    assert lines[0].endswith("; no report written") and "[enforce fail" not in lines[0]
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "make_error",
    [
        lambda: RuntimeError("bad_alloc_count went below zero"),  # not torch's words
        lambda: SystemError("error return without exception set"),  # no MemoryError behind it
        lambda: type("OutOfMemoryError", (RuntimeError,), {})(
            "CUDA out of memory. DefaultCPUAllocator: can't allocate memory"
        ),  # a subclass (a GPU's): left as it is
    ],
    ids=["other", "SystemError", "subclass"],
)
def test_other_runtime_and_system_errors_keep_their_traceback(
    run_dir, tmp_path, monkeypatch, make_error
):
    result = _report_raising(monkeypatch, tmp_path, run_dir, make_error)
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError | SystemError)


@pytest.mark.parametrize(
    "make_error",
    [MemoryError, lambda: VanishlabError("no such run"), lambda: OSError(errno.EROFS, "ro")],
    ids=["MemoryError", "VanishlabError", "OSError"],
)
def test_vanishlab_traceback_shows_what_a_line_would_say(
    run_dir, tmp_path, monkeypatch, make_error
):
    """A MemoryError became one line, and with it went its traceback: also a shape bug's that
    asked numpy for 7 PiB. VANISHLAB_TRACEBACK=1 ends the command in its traceback instead;
    "0" or empty is unset, and so are the off words (false, no, off, in any case), which
    ended a user's mistake in a traceback."""
    for unset in ("", "0", "false", "False", "no", "OFF", " 0 "):
        monkeypatch.setenv("VANISHLAB_TRACEBACK", unset)
        assert _report_raising(monkeypatch, tmp_path, run_dir, make_error).exit_code == 2
    monkeypatch.setenv("VANISHLAB_TRACEBACK", "1")
    result = _report_raising(monkeypatch, tmp_path, run_dir, make_error)
    assert result.exit_code == 1 and type(result.exception) is type(make_error())
    assert result.stderr == ""


def test_a_path_with_a_byte_of_another_encoding_is_said_with_that_byte(tmp_path):
    """A path's byte that is no UTF-8 (kept by Python as a lone surrogate) was said '\\udcff'
    in an error's line, a surrogate's escape that names no byte; it is '\\xff' now, as the
    shell's $'...' writes it."""
    from typer.testing import CliRunner

    from vanishlab.cli import app

    missing = f"{tmp_path}/r\udcffx"
    result = CliRunner().invoke(app, ["report", missing])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {tmp_path}/r\\xffx is not a vanishlab run directory (it does not exist)\n"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["sweep", "n\udcffpe"], "'n\\xffpe' is not an experiment name"),
        (["sweep", "--init", "\udcff"], "--init: unknown init '\\xff'"),
        (["sweep", "--gain", "1\udcfe"], "--gain: '1\\xfe' is not a number"),
        (["sweep", "--init", "\\udcff"], "unknown init '\\\\udcff'"),  # typed: its own
    ],
)
def test_a_value_quoted_with_a_byte_of_another_encoding_is_said_with_that_byte(args, said):
    """A value an error's line quotes by its repr held such a byte as '\\udcff' still:
    `vanishlab sweep $'n\\xffpe'` said "'n\\udcffpe' is not an experiment name"."""
    from typer.testing import CliRunner

    from vanishlab.cli import app

    result = CliRunner().invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 2 and said in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("code", [errno.EIO, errno.EMFILE])
def test_a_manifest_the_device_or_the_process_cannot_read_is_not_called_corrupt(
    run_dir, monkeypatch, code
):
    """EIO reading manifest.json (or too many open files) was "manifest.json is corrupt or
    unreadable ([Errno 5] Input/output error): restore it from a copy, or make the run again":
    a sound manifest the user was sent to replace. It is said as a shard's is: one line,
    status 2, the file left as it is."""
    from typer.testing import CliRunner

    from vanishlab.cli import app
    from vanishlab.sweep import json_text

    manifest = run_dir / "manifest.json"
    before = manifest.read_bytes()

    def refused(path: object, *args: object, **kwargs: object) -> object:
        if Path(path) == manifest:  # type: ignore[arg-type]
            raise OSError(code, os.strerror(code))
        return open(path, *args, **kwargs)  # type: ignore[arg-type, call-overload]

    # every JSON file vanishlab reads is opened by json_text.read_json_text (a bounded read;
    # this test patched Path.read_text, which the manifest's readers no longer call)
    monkeypatch.setattr(json_text, "open", refused, raising=False)
    with pytest.raises((VanishlabError, OSError)) as raised:  # EMFILE: the OSError itself
        vl.run_sweep(DEFAULT_EXPERIMENT, run_dir, smoke=True, workers=1, progress=False)
    text = str(raised.value)
    assert "corrupt" not in text and "restore it from a copy, or" not in text.split("(")[0]
    assert os.strerror(code) in text and str(manifest) in text
    result = CliRunner().invoke(app, ["report", str(run_dir), "-o", str(run_dir.parent / "r.html")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "corrupt" not in lines[0] and str(manifest) in lines[0], lines
    if code == errno.EIO:
        assert lines[0].startswith(f"error: cannot read {manifest} now (Input/output error)")
        assert "left as it is" in lines[0]
    monkeypatch.undo()
    assert manifest.read_bytes() == before
    assert not (run_dir / "corrupt").exists()


def _full_disk(path: object) -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", str(path))


@pytest.mark.parametrize("stop", ["disk", pytest.param("ctrl-c", marks=pytest.mark.slow)])
def test_a_report_refused_or_stopped_says_the_earlier_one_is_still_there(
    run_dir, tmp_path, monkeypatch, stop
):
    """`ulimit -f 16; vanishlab report RUN -o r.html` over an earlier report of the run said
    "cannot write the report r.html: File too large (...)", and a Ctrl-C "interrupted: no
    report written", beside r.html, which still held the earlier report (fewer cells, another
    time) and read as this one. Both lines now say so; with no file there before, as ever."""
    from typer.testing import CliRunner

    from vanishlab.cli import app

    page = tmp_path / "r.html"
    assert CliRunner().invoke(app, ["report", str(run_dir), "-o", str(page)]).exit_code == 0
    earlier = page.read_bytes()

    def error() -> BaseException:
        return KeyboardInterrupt() if stop == "ctrl-c" else _full_disk(page)

    kept = f"; {page} still holds an earlier report, not this one\n"
    said = {
        "disk": f"error: cannot write {page}: No space left on device "
        "(the disk is full: free some space); no report written",
        "ctrl-c": "interrupted: no report written",
    }[stop]
    result = _report_raising(monkeypatch, tmp_path, run_dir, error)
    assert result.stderr == said + kept, result.stderr
    assert page.read_bytes() == earlier
    page.unlink()
    result = CliRunner().invoke(app, ["report", str(run_dir), "-o", str(page)])
    assert result.stderr == said + "\n", result.stderr


@pytest.mark.parametrize("stop", ["disk", "ctrl-c"])
def test_a_refused_report_over_a_file_of_the_user_s_does_not_call_it_a_report(
    run_dir, tmp_path, monkeypatch, stop
):
    """`vanishlab report RUN -o mine.html --force` over a page of the user's own (no vanishlab
    report), refused by the disk or stopped, said "mine.html still holds an earlier report, not
    this one": it holds what it held, which no vanishlab report ever was."""
    from typer.testing import CliRunner

    from vanishlab.cli import app

    page = tmp_path / "mine.html"
    page.write_text("<p>my own notes</p>")

    def render(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt() if stop == "ctrl-c" else _full_disk(page)

    monkeypatch.setattr("vanishlab.report.render_report", render)
    command = ["report", str(run_dir), "-o", str(page), "--force"]
    result = CliRunner().invoke(app, command)
    assert result.stderr.endswith(
        f"; {page} still holds the file that was there, not this report\n"
    ), result.stderr
    assert "earlier report" not in result.stderr
    assert page.read_text() == "<p>my own notes</p>"


def test_vanishlab_traceback_shows_the_os_error_a_write_line_said(run_dir, tmp_path, monkeypatch):
    """A report's write failure was raised ``from None``: VANISHLAB_TRACEBACK=1 showed the
    VanishlabError alone, without the OSError that caused it. Its line is as it was."""
    page = tmp_path / "r.html"
    monkeypatch.delenv("VANISHLAB_TRACEBACK", raising=False)
    result = _report_raising(monkeypatch, tmp_path, run_dir, lambda: _full_disk(page))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot write {page}: No space left on device "
        "(the disk is full: free some space); no report written\n"
    )
    monkeypatch.setenv("VANISHLAB_TRACEBACK", "1")
    result = _report_raising(monkeypatch, tmp_path, run_dir, lambda: _full_disk(page))
    assert result.exit_code == 1 and type(result.exception) is VanishlabError
    assert isinstance(result.exception.__cause__, OSError)
    assert result.exception.__cause__.errno == errno.ENOSPC


def test_a_standard_output_that_refuses_keeps_its_os_error_as_the_cause(run_dir, monkeypatch):
    from vanishlab.cli._app import say

    def echo(text: object = None, *args: object, err: bool = False, **kwargs: object) -> None:
        raise _full_disk("<stdout>")

    monkeypatch.setattr(typer, "echo", echo)
    with pytest.raises(VanishlabError, match="cannot write the standard output") as info:
        say("text")
    assert isinstance(info.value.__cause__, OSError)


def test_a_run_directory_that_cannot_be_written_keeps_its_os_error_as_the_cause(
    tmp_path, monkeypatch
):
    from vanishlab.sweep.preflight import check_shard_folders, make_dir

    (tmp_path / "run" / "cells").mkdir(parents=True)

    def full(self: Path, data: bytes) -> int:
        raise _full_disk(self)

    monkeypatch.setattr(Path, "write_bytes", full)  # the write probe's
    with pytest.raises(VanishlabError, match="cannot write the run directory") as info:
        make_dir(tmp_path / "new")
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(VanishlabError, match="No space left on device") as info:
        check_shard_folders(tmp_path / "run")
    assert isinstance(info.value.__cause__, OSError)


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_a_note_says_a_path_s_byte_of_another_encoding_as_an_error_line_does(tmp_path, monkeypatch):
    """A sweep's 'moved aside (corrupt; measured again): PATH' on stderr said a path's byte
    that is no UTF-8 '\\udcff', where an error's line said '\\xff': every line on stderr now
    has one writer (cli/output.note)."""
    from typer.testing import CliRunner

    from vanishlab.cli import app

    said: list[tuple[str, bool]] = []

    def echo(text: object = None, *args: object, err: bool = False, **kwargs: object) -> None:
        said.append((str(text), err))

    out = f"{tmp_path}/r\udcffx"
    small = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "3", "--batch", "2"]
    args = ["sweep", *small, "--seed", "0", "--workers", "1", "--quiet", "--out", out]
    monkeypatch.setattr(typer, "echo", echo)  # stdout: CliRunner's cannot take the byte
    assert CliRunner().invoke(app, args).exit_code == 0
    next((Path(out) / "cells").iterdir()).write_bytes(b"not parquet")
    said.clear()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.exception
    errs = [text for text, err in said if err] + result.stderr.splitlines()  # note's writer
    assert len(errs) == 1 and errs[0].startswith("moved aside (corrupt; measured again): ")
    assert f"{tmp_path}/r\\xffx/corrupt/" in errs[0] and "\udcff" not in errs[0]


def test_every_line_on_stderr_has_one_writer():
    """No command writes stderr itself (typer.echo(..., err=True)): cli/output.note does."""
    cli = Path(vl.__file__).parent / "cli"
    for path in cli.glob("*.py"):
        if path.name != "output.py":
            assert "err=True" not in path.read_text(), path.name
