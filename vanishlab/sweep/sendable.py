"""Whether local worker processes can start a sweep's cells: each init pickles, and by a name
the workers can import (not one of a notebook's cell), and the main file they re-run does not
start the sweep again (not read from stdin, the call under ``if __name__ == "__main__":``).
Checked before anything is written (:mod:`.preflight`)."""

from __future__ import annotations

import ast
import functools
import os
import pickle
import sys
from collections.abc import Iterable
from pathlib import Path

from ..errors import VanishlabError
from .inits import Init

__all__ = ["check_importable", "check_main_file", "check_sendable"]


def check_sendable(inits: Iterable[Init]) -> None:
    """Worker processes and Dask receive each cell's init by pickling: refuse one that cannot
    be pickled (a lambda, a nested function) before anything is written. It raised pickle's
    own error as a traceback once the run directory had been made."""
    for init in inits:
        if not _pickles(init):  # said in words of its own: pickle's name a memory address
            raise VanishlabError(
                f"init {init.name!r} cannot be sent to worker processes: {_unsendable(init)}; "
                "define it with def at the top level of a module (workers import it by name), "
                "or run with --workers 1 (workers=1)"
            )


def _pickles(value: object) -> bool:
    try:
        pickle.dumps(value)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _unsendable(init: Init) -> str:
    """What of ``init`` cannot be pickled: its ``apply`` or ``variances``, said to be a lambda
    or a nested function when it is one."""
    for what in ("apply", "variances"):
        fn = getattr(init, what)
        if _pickles(fn):
            continue
        name = getattr(fn, "__qualname__", None)
        if isinstance(name, str) and "<lambda>" in name:
            return f"its {what} is a lambda"
        if isinstance(name, str) and "<locals>" in name:
            return f"its {what} is a function nested in another ({name})"
        return f"its {what} ({type(fn).__name__}) cannot be pickled"
    return "it cannot be pickled"


def check_importable(inits: Iterable[Init]) -> None:
    """Local worker processes unpickle an init's functions by name: one defined in ``__main__``
    is found there only where they re-run the main file (:func:`_main_reruns`). A function of a
    notebook's cell (or of a REPL, ``python -c``, a package's ``__main__.py``) pickles here and
    is missing there: every worker printed its own traceback ("Can't get attribute 'apply' on
    <module '__main__' (built-in)>") and the run stopped with "a worker process exited with
    status 1 ... run the same command to start again", which failed the same way. Dask sends
    such a function by value (cloudpickle) and is not refused. A ``functools.partial`` is
    looked into: it pickles its function by name too (its ``__module__`` is functools')."""
    if _main_reruns():
        return
    for init in inits:
        for what in ("apply", "variances"):
            fn = getattr(init, what)
            while isinstance(fn, functools.partial):
                fn = fn.func
            if getattr(fn, "__module__", None) == "__main__":
                name = getattr(fn, "__qualname__", what)
                raise VanishlabError(
                    f"init {init.name!r} cannot be sent to worker processes: its {what} "
                    f"({name}) is defined in this interactive session (a notebook's cell), which "
                    "they cannot import; define it in a module file and import it from there, "
                    "or run with --workers 1 (workers=1)"
                )


def _main_reruns() -> bool:
    """Whether local worker processes re-run the main module, as ``multiprocessing.spawn``
    decides (``_fixup_main_from_name``, ``_fixup_main_from_path``): by its module name unless
    that is a ``__main__.py``'s, else by its file; a notebook's or a REPL's has neither."""
    main = sys.modules.get("__main__")
    spec = getattr(getattr(main, "__spec__", None), "name", None)
    if isinstance(spec, str):
        return not (spec == "__main__" or spec.endswith(".__main__"))
    path = getattr(main, "__file__", None)
    return isinstance(path, str) and not (path.startswith("<") and path.endswith(">"))


def check_main_file() -> None:
    """Local worker processes (forkserver, spawn) re-run the calling program's main file:
    a program read from stdin (``python - < script.py``) has none, and a script that starts
    the sweep from its top level outside ``if __name__ == "__main__":`` started it again in
    every worker. Either way every worker died at once, after the run directory was made,
    with "a worker process died (out of memory?)". A package's, folder's or zip file's
    ``__main__.py`` (``python -m pkg``, ``python folder``) is the exception: multiprocessing
    does not re-run it in the workers, so a sweep at its top level runs once, as it should."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if isinstance(path, str) and path.startswith("<") and path.endswith(">"):  # "<stdin>"
        raise VanishlabError(
            f"worker processes cannot start from a program read from {path} (they re-run its "
            "main file): save it to a file and run that, or run with --workers 1 (workers=1)"
        )
    if not _main_reruns():
        return  # a __main__.py's, a notebook's: multiprocessing's own rule, not re-run
    line = _unguarded_line(path)
    if line is not None:
        raise VanishlabError(
            f"worker processes re-run the main file {path}, whose line {line} starts this "
            'sweep outside `if __name__ == "__main__":`, so each of them would start it again: '
            "put that call under the guard, or run with workers=1"
        )


def _unguarded_line(path: object) -> int | None:
    """The line of the main file's top-level code that is running now (the one that led to
    this call), unless it lies in a branch of an ``if`` statement whose test reads ``__name__``
    that a worker does not take (:func:`_in_worker`: the body of ``if __name__ ==
    "__main__":``, not its ``else:``; a test it cannot tell counts as a guard); None too when no
    such code is running or its file cannot be read or parsed."""
    if not isinstance(path, str):
        return None
    frame = sys._getframe(1)
    target = os.path.abspath(path)
    while frame is not None and not (
        frame.f_code.co_name == "<module>" and os.path.abspath(frame.f_code.co_filename) == target
    ):
        frame = frame.f_back
    if frame is None:
        return None
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and node.lineno <= line <= (node.end_lineno or node.lineno)
            and any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(node.test))
            and _in_worker(node.test) is not _taken(node, line)
        ):
            return None
    return line


def _taken(node: ast.If, line: int) -> bool | None:
    """What ``node``'s test is when ``line`` runs: True in its body, False in its ``else:``
    (or ``elif``), None elsewhere (the test itself)."""
    for branch, value in ((node.body, True), (node.orelse, False)):
        if branch and branch[0].lineno <= line <= (branch[-1].end_lineno or line):
            return value
    return None


#: What the main file's ``__name__`` is in a worker process (multiprocessing runs it so).
_WORKER_NAME = "__mp_main__"


def _in_worker(test: ast.expr) -> bool | None:
    """The value of an ``if`` statement's ``test`` in a worker process, where ``__name__`` is
    ``"__mp_main__"``, for tests of ``__name__`` against literals (``==``, ``!=``, ``in``,
    ``not in``, with ``and``, ``or``, ``not``); None where it cannot be told from the test
    alone. ``__name__ in ("__main__", "__mp_main__")`` is true there: no guard."""
    if isinstance(test, ast.BoolOp):
        values = [_in_worker(v) for v in test.values]
        decides = isinstance(test.op, ast.Or)  # True decides an or, False an and
        if decides in values:
            return decides
        return None if None in values else not decides
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        value = _in_worker(test.operand)
        return None if value is None else not value
    if not isinstance(test, ast.Compare):
        return None
    try:
        operands = [_worker_value(e) for e in (test.left, *test.comparators)]
        for op, a, b in zip(test.ops, operands, operands[1:], strict=False):
            if isinstance(op, ast.Eq | ast.NotEq):
                holds = (a == b) is isinstance(op, ast.Eq)
            elif isinstance(op, ast.In | ast.NotIn):
                holds = (a in b) is isinstance(op, ast.In)
            else:
                return None
            if not holds:
                return False
    except (TypeError, ValueError):  # an operand that is no literal, or cannot hold another
        return None
    return True


def _worker_value(node: ast.expr) -> object:
    """``node``'s value in a worker: ``__name__``'s, or a literal's; ValueError otherwise."""
    if isinstance(node, ast.Name) and node.id == "__name__":
        return _WORKER_NAME
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ValueError("not a literal") from None
