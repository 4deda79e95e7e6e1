"""Mutation review of session 46's code: each test here failed on a small plausible change of
the code it names (a check dropped, a branch dropped, a constant moved) that passed every other
test, and passes on the code as it is."""

from __future__ import annotations

import _thread
import importlib.util
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from test_stops import _swallowing

import vanishlab as vl
from vanishlab.cli import stops
from vanishlab.cli.stops import terminable
from vanishlab.errors import VanishlabError
from vanishlab.sweep.config import AXES

posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


# --- cli.stops: a stop sent again once, and held only in torch's own import ---


class _StoppedInDel:
    """A finalizer a stop lands in: raised there, Python ignores it (the hook owes it)."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass


class _RaisesStop:
    """A finalizer that raises a stop itself, no signal sent: the hook owes it all the same."""

    def __del__(self) -> None:
        raise KeyboardInterrupt


def _kept_then_quiet(seconds: float = 0.15, first_s: float = 30.0) -> list[BaseException]:
    """The stops that come in the command's work, each caught and kept (noted, not swallowed):
    the one sent again (waited for up to ``first_s``: a sender thread a loaded machine runs
    late; a fixed 1.5 s window let it miss), and none in ``3 * seconds`` after it (0.45 s,
    45 times the sender's RESEND_S: a sender that sends again sends many times in it)."""
    kept: list[BaseException] = []
    deadline = time.monotonic() + first_s
    while time.monotonic() < deadline:
        try:
            time.sleep(0.01)
        except KeyboardInterrupt as stop:
            if not kept:  # a second one is looked for this long after the first
                deadline = time.monotonic() + 3 * seconds
            kept.append(stop)
    return kept


@posix
def test_a_swallowed_stop_is_sent_again_once_by_one_thread(monkeypatch) -> None:
    # the sender sending owed[0] without taking it (every RESEND_S until the block ended), and a
    # sender thread started at each stop, passed: the existing test's block ended at once
    started: list[object] = []
    real = _thread.start_new_thread
    monkeypatch.setattr(_thread, "start_new_thread", lambda f, a: (started.append(f), real(f, a)))
    with terminable() as received:
        _swallowing(signal.SIGINT)
        kept = _kept_then_quiet()
    assert len(kept) == 1 and received == [signal.SIGINT] * 2 and len(started) == 1


@posix
def test_a_stop_python_ignored_in_a_finalizer_is_sent_again_once() -> None:
    # the hook owes it; its mark, let go of as the hook returns, must not make the sender owe
    # it a second time (dropping the hook's removal of the watched mark passed)
    with terminable() as received:
        _StoppedInDel()
        kept = _kept_then_quiet()
    assert len(kept) == 1 and received == [signal.SIGINT] * 2


@posix
def test_two_finalizers_a_stop_lands_in_at_once_owe_one_stop() -> None:
    # one already owed stops the command: the hook owing one more each time (a mutant) sent the
    # second into the command's clean-up
    with terminable():
        [_StoppedInDel(), _StoppedInDel()]  # both dropped at once
        kept = _kept_then_quiet()
    assert len(kept) == 1


@posix
def test_a_stop_a_finalizer_raises_itself_is_delivered_again() -> None:
    # no handler ran for it, so no sender had started: the hook starts one (dropping that
    # call passed, and the command ran to its end)
    with pytest.raises(KeyboardInterrupt), terminable() as received:
        _RaisesStop()
        deadline = time.monotonic() + 30  # the stop sent again ends it (at once)
        while time.monotonic() < deadline:
            time.sleep(0.01)
    assert received == [signal.SIGINT]  # the one sent again


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@posix
@pytest.mark.parametrize(
    ("finalizer", "signals"),
    [
        # the finalizer raises a stop itself, with no mark: the hook's stop is owed and the
        # swallowed one's dead mark dropped, one stop for both (keeping the mark, a mutant,
        # sent a second one into the command's clean-up)
        pytest.param("_RaisesStop", 2, id="raised-by-the-finalizer"),
        # the finalizer's stop is the handler's, with a mark: the hook dropped only that mark,
        # so the swallowed one's dead mark was owed by the sender after the hook's stop and
        # sent as a second stop, into the command's clean-up (5 of 5 runs)
        pytest.param("_StoppedInDel", 3, id="ignored-in-a-finalizer"),
    ],
)
def test_a_swallowed_stop_and_one_a_finalizer_raises_are_sent_again_once(
    monkeypatch, finalizer: str, signals: int
) -> None:
    # both before the sender's next look (RESEND_S made long)
    monkeypatch.setattr(stops, "RESEND_S", 0.3)
    with terminable() as received:
        _swallowing(signal.SIGINT)
        globals()[finalizer]()
        kept = _kept_then_quiet(0.8)
    assert len(kept) == 1 and received == [signal.SIGINT] * signals


def _stand_in(folder: Path, package: str, body: str) -> tuple[object, object]:
    """A module of ``body`` at ``folder/package/__init__.py``, and the loader that runs it."""
    init = folder / package / "__init__.py"
    init.parent.mkdir(parents=True)
    init.write_text(body)
    spec = importlib.util.spec_from_file_location(f"_stand_in_{package}", init)
    return importlib.util.module_from_spec(spec), spec.loader


_SIGNALS_ITSELF = (
    "os.kill(os.getpid(), signal.SIGINT)",
    "deadline = time.monotonic() + 0.3",
    "while time.monotonic() < deadline:  # the handler runs between these lines",
    "    pass",
)


@posix
def test_a_stop_in_functorch_s_import_is_raised_there(tmp_path) -> None:
    # held is the body of torch's own __init__.py: a path that ends in torch/__init__.py with no
    # separator before it (a mutant) held functorch's too
    body = "\n".join(("import os, signal, time", *_SIGNALS_ITSELF, "DONE = True\n"))
    module, loader = _stand_in(tmp_path, "functorch", body)
    with pytest.raises(KeyboardInterrupt), terminable():
        loader.exec_module(module)
    assert not hasattr(module, "DONE")


@posix
def test_a_stop_in_a_function_torch_s_init_defines_is_raised_there(tmp_path) -> None:
    # held is the body run as torch is imported (co_name '<module>'), not a function of that
    # file called later (torch.use_deterministic_algorithms ...): dropping the check held it
    lines = (*_SIGNALS_ITSELF, "done.append(1)")
    body = "import os, signal, time\n\ndef work(done):\n" + "".join(f"    {x}\n" for x in lines)
    module, loader = _stand_in(tmp_path, "torch", body)
    loader.exec_module(module)
    done: list[int] = []
    with pytest.raises(KeyboardInterrupt), terminable():
        module.work(done)
    assert done == []


# --- sweep.nearest: the nearest name, its cutoff, and the words of a refusal ---


def test_a_misspelt_axis_is_given_its_nearest_axis_above_the_cutoff_alone() -> None:
    # 'input_siz' is 0.95 from input_size and 0.78 from input_std (the last of difflib's
    # matches, a mutant, named input_std); 'hidden' 0.71 from hidden_size, under the cutoff of
    # 0.75 (0.7 named it)
    with pytest.raises(TypeError, match=r"'input_siz' \(did you mean 'input_size'\?\)$"):
        vl.Sweep(input_siz=[2])
    with pytest.raises(TypeError) as err:
        vl.Sweep(hidden=[4])
    assert str(err.value) == f"Sweep() got an unknown axis 'hidden' (axes are: {', '.join(AXES)})"


def test_misspelt_axes_are_named_in_order_with_the_list_where_one_has_none_near() -> None:
    # the list of axes where some name has none near (not only where none has: a mutant), the
    # names sorted (a set's order, a mutant, changes with the process' hash seed)
    with pytest.raises(TypeError) as err:
        vl.Sweep(zeta=1, gian=1, modle=1, aaa=1, seeds=1)
    assert str(err.value) == (
        "Sweep() got unknown axes 'aaa', 'gian' (did you mean 'gain'?), 'modle' (did you "
        f"mean 'model'?), 'seeds' (did you mean 'seed'?), 'zeta' (axes are: {', '.join(AXES)})"
    )


def test_a_config_key_that_is_no_string_is_refused_as_unknown_not_a_type_error() -> None:
    # difflib was handed the int (a mutant without nearest_name's string check): a TypeError
    with pytest.raises(VanishlabError) as err:
        vl.CellConfig.from_dict({1: 2})
    assert str(err.value) == f"unknown config field 1 (config fields are: {', '.join(AXES)})"


# --- sweep.manifest.read_seconds: a time as a float ---


def test_a_time_in_whole_seconds_is_read_as_a_float() -> None:
    # the docstring's float: an int handed on as itself (a mutant) passed every test
    from vanishlab.sweep.manifest import read_seconds

    for given, seconds in ((3, 3.0), (0, 0.0), (10**300, 1e300)):
        assert type(read_seconds(given)) is float and read_seconds(given) == seconds


# --- sweep.schema.meta_keys_readable: the keys a shard's metadata needs ---


def test_a_shard_lacking_a_needed_metadata_key_is_malformed_and_one_with_them_alone_is_read(
    tmp_path,
) -> None:
    # without the needed keys' check (a mutant), a shard missing one of them under a
    # recomputed checksum ended in a KeyError traceback from vl.load_cells (each of the six); a
    # superset check (a mutant) refused a shard of exactly the needed keys (an early
    # release's: no digest, summary or checksum), which this release reads
    import json

    import pyarrow.parquet as pq

    from vanishlab.sweep import store
    from vanishlab.sweep.checksums import META_DIGEST, meta_digest

    run = tmp_path / "run"
    vl.run_sweep(vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2), run, progress=False)
    (path,) = (run / "cells").glob("*.parquet")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
    del meta[META_DIGEST]

    def write(new: dict) -> None:
        text = json.dumps(new)
        pq.write_table(table.replace_schema_metadata({store.CELL_META_KEY: text}), path)

    for key in ("status", "reason", "n_rows", "elapsed_s"):
        lacking = {k: v for k, v in meta.items() if k != key}
        write({**lacking, META_DIGEST: meta_digest(lacking)})
        with pytest.raises(store.CorruptShardError, match=r"malformed vanishlab\.cell metadata"):
            vl.load_cells(run)
    needed = ("cell_id", "config", "status", "reason", "elapsed_s", "n_rows")
    write({k: meta[k] for k in needed})
    assert vl.load_cells(run)["cell_id"].tolist() == [meta["cell_id"]]
