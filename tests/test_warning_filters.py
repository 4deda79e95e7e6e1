"""The process's warning filters, which vanishlab's silenced stretches save, change and restore
(torch.load's warnings in a checkpoint's load, cuDNN's in the recurrence kernel, matplotlib's
in a report's figures), stay as they were when vanishlab runs in several threads at once."""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

import vanishlab as vl
from vanishlab.core import forward
from vanishlab.report.figure_layout import pinned
from vanishlab.trained import torch_file

STRETCHES = {"kernel": forward.recurrence_kernel, "figure": pinned}


@pytest.mark.parametrize("other", ["kernel", "figure", "load"])
@pytest.mark.parametrize("main", ["kernel", "figure"])
def test_one_thread_at_a_time_changes_the_filters(tmp_path, monkeypatch, main, other):
    """Before, each stretch but the recurrence kernel's saved and restored the filters on its
    own (and the kernel under a lock of its own): the main thread leaving its stretch while the
    other thread was inside one dropped the other's filter, and the other thread, leaving last,
    put the main thread's back for good. The other thread now waits for the main one."""
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    other_in, main_out = threading.Event(), threading.Event()
    real_load = torch.load

    def held(fn):
        def inner(*args, **kwargs):
            other_in.set()
            assert main_out.wait(5)
            return fn(*args, **kwargs)

        return inner

    def other_thread() -> None:
        if other == "load":
            monkeypatch.setattr(torch, "load", held(real_load))
            torch_file.load_file(tmp_path / "m.pt", "checkpoint")
        else:
            with STRETCHES[other]():
                held(lambda: None)()

    saved = list(warnings.filters)
    try:
        thread = threading.Thread(target=other_thread)
        with STRETCHES[main]():
            thread.start()
            other_in.wait(0.2)  # before: the other thread is inside by now
        main_out.set()
        thread.join()
        assert warnings.filters == saved
    finally:
        warnings.filters[:] = saved


def test_analyses_in_a_thread_pool_leave_the_filters_as_they_were(tmp_path, monkeypatch):
    """vl.analyze_checkpoint from a thread pool (an LSTM: a checkpoint load, then the
    recurrence kernel), beside reports' figure settings: nothing raised, the filters kept."""
    torch.manual_seed(0)
    torch.save(torch.nn.LSTM(2, 3).state_dict(), tmp_path / "m.pt")
    real_load = torch.load

    def slow_load(*args, **kwargs):  # every load overlaps another thread's stretch
        threading.Event().wait(0.02)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", slow_load)

    def analyze(i: int) -> str:
        return vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / f"run{i}", seq_len=4).status

    def figure(_: int) -> None:
        with pinned():
            threading.Event().wait(0.01)

    saved = list(warnings.filters)
    try:
        with ThreadPoolExecutor(8) as pool:
            done = [pool.submit(analyze, i) for i in range(8)]
            drawn = [pool.submit(figure, i) for i in range(8)]
            assert [f.result() for f in done] == ["ok"] * 8
            assert [f.result() for f in drawn] == [None] * 8
        assert warnings.filters == saved
    finally:
        warnings.filters[:] = saved
