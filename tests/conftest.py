"""Shared pytest fixtures."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

RICH_STREAM_OVERRIDES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background by a shell (``make test &``) inherits an ignored
    Ctrl-C, as every command started so does, and so do the processes the tests start: the
    tests of Ctrl-C (held, delivered, ignored by the forkserver only) need Python's own
    handler, which a foreground start gives. An ignored SIGHUP (``nohup make test``) is kept:
    it is what keeps the suite alive when its terminal closes. The tests that hang this
    process up set their own handler first, and a child a test stops starts with the stops at
    their defaults (``_stops.stops_at_their_defaults``)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # The processes the tests start run as a user's do: PYTHONUNBUFFERED, which some
    # environments set (this project's machines do), is unset. Buffered, a write that fails
    # keeps its bytes, and Python's own flush at exit fails again: every command under
    # `> /dev/full` ended with status 120 for users while these tests, started unbuffered, saw 2.
    os.environ.pop("PYTHONUNBUFFERED", None)
    # Nor do they take rich's overrides of what a stream is (FORCE_COLOR, which CI services
    # and some shells set; TTY_COMPATIBLE, TTY_INTERACTIVE): under FORCE_COLOR=1 rich colours
    # the help piped to the tests, and 21 tests of its words failed where vanishlab was right.
    # The tests of a terminal set the ones they need themselves (tests/test_dumb_terminal.py).
    for name in RICH_STREAM_OVERRIDES:
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def _same_global_generator() -> None:
    """Every test starts from one state of torch's global generator, whichever tests ran
    before it in its pytest-xdist worker: some 385 tests draw from it unseeded (nn.RNN's own
    init, torch.randn), and two failed for 9 of 60 and 5 of 100 such states (relu units that
    never came on); which state a test met changed with the workers' share of the tests."""
    torch.manual_seed(0)


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Small nets on shared cores: one intra-op thread, as the sweep runs its cells (the
    training tests' ``pytestmark``)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture
def registry():
    """The init registry (``vanishlab.sweep.inits.INITS``), restored after the test: a test
    may register inits of its own."""
    from vanishlab.sweep.inits import INITS

    saved = dict(INITS)
    yield INITS
    INITS.clear()
    INITS.update(saved)


@pytest.fixture(scope="session")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``report_run(kind)``: a small measured run directory, made once per session.

    Kinds (see ``tests/_report_run.py``): "full" (every report section), "single" (one
    cell), "zeros" (exact zeros, an overflowing cell, norms beyond float32), "bare" (a copy
    of "single" whose manifest asks for no section but those every page has, ``sections:
    []`` as store.write_manifest writes it: a page of no figure, ~0.1 s of CPU where the
    cell's whole page took ~0.35, for the tests of a page's file, time or header). Treat the
    directories as read-only.
    """
    import shutil

    import _report_run as runs

    from vanishlab.sweep.store import load_manifest, write_manifest

    made: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind == "bare" and kind not in made:
            bare = Path(shutil.copytree(get("single"), tmp_path_factory.mktemp("run-bare") / "r"))
            write_manifest(bare, {**load_manifest(bare), "sections": []})
            made[kind] = bare
        if kind not in made:
            sweep = {"full": runs.FULL, "single": runs.SINGLE, "zeros": runs.ZEROS}[kind]
            made[kind] = runs.make_run(
                tmp_path_factory.mktemp(f"run-{kind}"), sweep, name=f"{kind} run"
            )
        return made[kind]

    return get


@pytest.fixture
def bare_copy(report_run, tmp_path: Path) -> Path:
    """A private copy of ``report_run("bare")`` (a page of no figure) as the sweep left it,
    without the summary's cache that a report writes in it: for the tests that change the run
    or watch what is written in it (a half-written file, nothing written at all)."""
    import shutil

    run = Path(shutil.copytree(report_run("bare"), tmp_path / "one-cell"))
    (run / "summary.parquet").unlink(missing_ok=True)
    return run


@pytest.fixture(scope="session")
def full_report(report_run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of ``report_run("full")``, rendered once per session with the timestamp
    2024-01-01T00:00:00Z. Treat it as read-only."""
    import vanishlab as vl

    out = tmp_path_factory.mktemp("full-report") / "full.html"
    return vl.render_report(report_run("full"), out, timestamp="2024-01-01T00:00:00Z")


@pytest.fixture(scope="session")
def full_report_data(report_run):
    """``build_report`` of ``report_run("full")`` with the timestamp 2024-01-01T00:00:00Z (the
    report ``full_report`` renders), built once per session: test_report, test_report_defects
    and test_report_theory each built it again (~1.5 s of CPU each on a quiet machine). Its
    dataclasses are frozen; treat its lists as read-only."""
    import _report_run as runs

    return runs.report_of(report_run("full"), timestamp="2024-01-01T00:00:00Z")


@pytest.fixture(scope="session")
def smoke_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run directory of the quick default grid's smoke variant (8 tiny cells),
    made by :func:`vanishlab.run_sweep` once per session. Treat it as read-only."""
    import vanishlab as vl
    from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT

    out = tmp_path_factory.mktemp("smoke-run") / "run"
    vl.run_sweep(DEFAULT_EXPERIMENT, out, smoke=True, workers=1, progress=False)
    return out
