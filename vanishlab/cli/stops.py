"""How a command is stopped: SIGTERM and Ctrl-C raised in the main thread while it runs, and a
stop that Python ignored (raised in a finalizer) or that code swallowed (a bare ``except:``, a
C extension that clears the error) sent again. Standard library only: the command
line's help must not import more (:mod:`._app`), and the console command (:mod:`vanishlab.__main__`)
loads the command line inside :func:`terminable`, imported first."""

from __future__ import annotations

import _thread
import contextlib
import functools
import os
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Iterator

# typing.TYPE_CHECKING without importing typing: the console command imports this module
# before its SIGTERM handling is in place (vanishlab.__main__).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RESEND_S", "STOP_RAISES", "HungUp", "Terminated", "stop_word", "terminable"]


class Terminated(BaseException):
    """SIGTERM (``kill PID``, a batch system's stop) raised in the main thread while a command
    runs, as Ctrl-C raises KeyboardInterrupt: the command stops the same way (finished work
    kept, worker processes and their semaphores cleaned up) instead of dying at once, which
    left multiprocessing's resource tracker to print its leaked-semaphore warnings.
    ``signum``: the signal that raised it, by which the command ends once it has cleaned up."""

    signum: int = signal.SIGTERM


_SIGHUP: int = getattr(signal, "SIGHUP", signal.SIGTERM)  # (Windows has none)


class HungUp(Terminated):
    """SIGHUP (the terminal or the ssh session closed, ``kill -HUP PID``), stopped as SIGTERM
    is: it was the default's end, at once and without a word, which left a stopped sweep's
    half-written shard, its worker pool's leaked-semaphore warnings and a new analysis's
    folder behind."""

    signum: int = _SIGHUP


#: What each stop raises in a command's main thread; SIGHUP only where there is one (Windows
#: has none: there SIGTERM, which HungUp.signum falls back to, said "hung up").
STOP_RAISES: dict[int, type[BaseException]] = {
    signal.SIGINT: KeyboardInterrupt,
    signal.SIGTERM: Terminated,
    **({signal.SIGHUP: HungUp} if hasattr(signal, "SIGHUP") else {}),
}
_WORDS = {KeyboardInterrupt: "interrupted", Terminated: "terminated", HungUp: "hung up"}


def stop_word(signum: int) -> str:
    """The first word of a stop's line: "interrupted" (Ctrl-C), "terminated" or "hung up"."""
    return _WORDS[STOP_RAISES.get(signum, Terminated)]


#: Seconds between the looks for a stop that Python ignored (in a finalizer) or that was
#: swallowed, to send it again (once the hook that noted it has returned).
RESEND_S = 0.01

_MARK = "_vanishlab_stop"  # the attribute of a raised stop that holds its _Mark


class _Mark:
    """Hung on each stop raised: a weak reference to it dies with the exception, when the
    exception is let go of without ending the block (swallowed)."""


def _marked(
    error: BaseException, marks: list[tuple[int, Callable[[], object]]], signum: int
) -> BaseException:
    """``error``, with a :class:`_Mark` whose weak reference is added to ``marks``. (Made
    here, not in the handler: held by a local of the handler's frame, which its traceback
    holds, the exception would outlive its swallowing until the garbage collector ran.)"""
    mark = _Mark()
    setattr(error, _MARK, mark)
    marks.append((signum, weakref.ref(mark)))
    return error


_TORCH_INIT = os.sep + os.path.join("torch", "__init__.py")  # (not functorch/__init__.py)


def _loading_torch(code: Any) -> bool:
    """Whether ``code`` is the body of torch's ``__init__.py``, run as torch is imported: a
    stop raised in Python code that torch's C++ start-up calls there (``_autograd_init``,
    ``_c10d_init``) ends the process in ``terminate called after throwing an instance of
    'pybind11::error_already_set'`` and SIGABRT (about 1 in 150-270 Ctrl-Cs sent then)."""
    return code.co_name == "<module>" and code.co_filename.endswith(_TORCH_INIT)


class _Whole:
    """A block's context manager whose way in and out are this module's own frames, around
    contextlib's: a stop that lands in contextlib's ``__enter__`` once the set-up is done, or
    in its ``__exit__`` before the clean-up has begun, is the block's (:func:`terminable`'s
    ``stop``). Raised there, it broke the ``with`` off with the clean-up never run: the
    block's handlers, hook and sending thread stayed behind, the sender sent the stop again
    into what came next (under Python 3.12, a SIGTERM sent again as a command returned landed
    in ``__exit__``, and the next command's Ctrl-C said "terminated", status 143), and the
    process hung at its exit, its clean-up waiting for a thread that could no longer run."""

    __slots__ = ("_block",)

    def __init__(self, block: contextlib.AbstractContextManager[list[int]]) -> None:
        self._block = block

    def __enter__(self) -> list[int]:
        return self._block.__enter__()

    def __exit__(self, *error: Any) -> bool | None:
        return self._block.__exit__(*error)


def _whole(body: Callable[[], Iterator[list[int]]]) -> Callable[[], _Whole]:
    """:func:`contextlib.contextmanager`, its block entered and left through :class:`_Whole`."""
    block = contextlib.contextmanager(body)

    @functools.wraps(body)
    def whole() -> _Whole:
        return _Whole(block())

    return whole


_ENTRY_AND_EXIT = (_Whole.__enter__.__code__, _Whole.__exit__.__code__)


@_whole
def terminable() -> Iterator[list[int]]:
    """SIGTERM raises :class:`Terminated`, SIGHUP :class:`HungUp` and Ctrl-C (SIGINT)
    KeyboardInterrupt inside the block
    (main thread only), each noted in the list yielded. One raised inside a ``__del__`` or a
    garbage collector's callback (a report's figures torn down), which Python ignores (with an
    "Exception ignored" traceback: not here), is delivered again. So is one that code in the
    block swallowed: a bare ``except: pass`` (Cython's, where an extension module registers
    its memoryview class with ``collections.abc`` as it loads, numpy.random's and pandas': a
    Ctrl-C in a sweep's first seconds was lost there, about 1 run in 65, and the sweep ran on
    to its end), a C extension that clears the error. Each stop raised here is watched until
    the block ends: one whose exception is let go of before that (a weak reference to a mark
    it carries dies) is sent again within :data:`RESEND_S`, by a thread started at the first
    stop. One swallowed and kept (stored somewhere), the caller finds noted when the block
    ends. One that comes while torch is imported is held until the import is done (raised
    inside it, it aborted the process). A signal the launcher ignores stays ignored.

    The block's own set-up and clean-up, and its way in and out (:class:`_Whole`), are never
    broken off by a stop (one raised there left the block's handlers, hook and sender behind,
    and the sender sent a stop into what came next): one that lands in the set-up or on the
    way in is sent again, into the block; one that lands on the way out, before the clean-up
    has set the block's end, is noted in the list; one that lands in the clean-up once it has
    (a second Ctrl-C, one sent again as the block ends) is raised once everything is
    put back (the sender ended, the hook and the handlers those before the block), as the
    block's own, unless the block already ends by a stop or by another BaseException
    (SystemExit): then it is only noted in the list. One that a handler just put back meets
    is that handler's (the one before the block); should that handler raise before the last
    is put back, each of the block's handlers still set acts as the one before it would, and
    puts it back."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    raises = STOP_RAISES
    previous = {s: signal.getsignal(s) for s in raises}
    hook = sys.unraisablehook
    owed: list[int] = []  # stops Python ignored, to send again
    late: list[int] = []  # stops that came in the clean-up, to raise at its end
    watched: list[tuple[int, Callable[[], object]]] = []  # stops raised, and their marks
    sender: list[Any] = []  # the lock the one sending thread holds while it runs
    ended = threading.Event()
    main = threading.main_thread().ident

    def held(frame: Any, codes: tuple[Any, ...] = ()) -> bool:
        """In the unraisable hook, or in torch's import (:func:`_loading_torch`): where a stop
        raised is ignored, or aborts the process; it is owed, and sent once it has left. Or
        in one of ``codes``."""
        while frame is not None:
            code = frame.f_code
            if code is quiet.__code__ or code in codes or _loading_torch(code):
                return True
            frame = frame.f_back
        return False

    def stop(signum: int, frame: Any) -> None:
        # In this block's set-up or clean-up, or its way in or out: never raised there
        mine = held(frame, (own, *_ENTRY_AND_EXIT))
        if ended.is_set() and not mine:  # still set after the block: see its end
            put_back(signum)
            signal.raise_signal(signum)  # to the handler before the block, as it would go
            return
        received.append(signum)
        start_sender()  # to send it when owed, or to watch it
        if mine and ended.is_set():
            late.append(signum)  # raised once the clean-up is done
        elif mine:  # raised here, Python would ignore it again (or abort): owed
            owed.append(signum)  # (in the set-up: sent again into the block)
        else:
            raise _marked(raises[signum](), watched, signum)

    def start_sender() -> None:
        # A bare thread: threading.Thread.start takes threading's lock, which the main thread,
        # interrupted here, may hold (a progress bar's thread being started): a deadlock.
        if not sender and not ended.is_set():  # none started in the clean-up: none outlives it
            running = _thread.allocate_lock()
            running.acquire()
            _thread.start_new_thread(send_again_then_release, (running,))
            sender.append(running)

    def send_again_then_release(running: Any) -> None:
        try:
            send_again()
        finally:
            running.release()

    def send_again() -> None:
        # Each owed stop is sent once the hook that noted it has returned: sent while the
        # main thread was still in the hook (a loaded machine: it waited for this thread to
        # start), it was raised there and ignored, and the command ran to its end. Python
        # ignores it again in another finalizer: the hook owes it again.
        while not ended.wait(RESEND_S):
            for entry in [e for e in watched if e[1]() is None]:  # let go of: swallowed
                try:
                    watched.remove(entry)
                except ValueError:  # owed by the hook instead, or taken by a second sender
                    continue
                owed.append(entry[0])
            if owed and not held(sys._current_frames().get(main)):
                with contextlib.suppress(IndexError):  # (taken by a second sender)
                    os.kill(os.getpid(), owed.pop(0))

    def quiet(unraisable: Any) -> None:  # noted above; its "Exception ignored" is no news
        raised = unraisable.exc_value
        if not isinstance(raised, Terminated | KeyboardInterrupt):
            return hook(unraisable)
        mark = getattr(raised, _MARK, None)  # owed here: not again when it is let go of
        # The dead marks go too, with a mark or none (a stop a finalizer raised itself): stops
        # swallowed that the sender has not yet owed, for which the one stop owed below is
        # sent, once (test_mutants_s46.py: ..._sent_again_once). Kept where this stop had a
        # mark, each was sent again after it, into the command's clean-up.
        watched[:] = [e for e in watched if (m := e[1]()) is not None and m is not mark]
        # Sent again from another thread (sent from here, it was raised in this hook, and
        # ignored): the command stops at its next step, not at its end (a sweep ran on to
        # its end).
        if not owed:  # one already owed stops the command as well
            owed.append(raised.signum if isinstance(raised, Terminated) else signal.SIGINT)
        start_sender()

    def put_back(signum: int) -> None:
        was = previous[signum]  # None: a handler not set from Python
        signal.signal(signum, signal.SIG_DFL if was is None else was)

    own = sys._getframe().f_code  # this block's set-up and clean-up (see held)
    for s, was in previous.items():
        if was != signal.SIG_IGN:
            signal.signal(s, stop)
    sys.unraisablehook = quiet
    stopped = False  # the block ends by a stop, or another BaseException (SystemExit)
    try:
        yield received
    except BaseException as error:
        stopped = not isinstance(error, Exception)  # (not the error itself: a cycle)
        raise
    finally:
        # Nothing here is broken off by a stop: this block's handler keeps one that lands here
        # for the end (late), and starts no sender once the block has ended.
        ended.set()
        for running in sender:  # a stop it sends now still finds this block's handler (late)
            running.acquire()  # and it outlives the block in nothing
        sys.unraisablehook = hook
        for s in previous:  # (a handler put back may raise at once: see stop)
            put_back(s)
        if late and not stopped:
            raise raises[late[0]]()  # the block's stop, only now that nothing is left to do
