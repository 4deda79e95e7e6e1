"""Where an experiment is found: by its path, or by its name in the ``experiments/`` folders
searched in order (:func:`experiment_dirs`), which :mod:`.experiments` loads and lists."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import VanishlabError
from .files import as_text
from .links import link_problem, link_remedy
from .nearest import did_you_mean

__all__ = [
    "builtin_experiments_dir",
    "experiment_dirs",
    "find_experiment",
    "module_files",
    "unsearched",
]


def builtin_experiments_dir() -> Path:
    """The folder of the built-in experiments: the repository's top-level ``experiments/``,
    beside ``vanishlab/`` in a checkout (an editable install too), and ``vanishlab/experiments/``
    in an installed copy, where a wheel puts it (pyproject.toml maps the one to the other).
    An installed copy never looks beside itself: ``site-packages/experiments`` is no folder of
    vanishlab's (another distribution's top-level package, if anything)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "experiments"
    return installed if installed.is_dir() else package.parent / "experiments"


def experiment_dirs() -> list[Path]:
    """The folders searched for experiments by name, in order (existing ones only): the
    working directory's ``experiments/``, then :func:`builtin_experiments_dir`."""
    candidates = [Path.cwd() / "experiments", builtin_experiments_dir()]
    out: list[Path] = []
    for d in candidates:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def unsearched() -> str:
    """A note where something other than a folder holds the name of the working directory's
    ``experiments`` (a file, a symbolic link to nothing or that loops: :func:`link_problem`'s
    words, where a dangling one was said to be "not a folder"): :func:`experiment_dirs` leaves
    it out, which the search and the listing said nothing of; "" where there is none."""
    d = Path.cwd() / "experiments"
    if d.is_dir() or not (d.exists() or d.is_symlink()):
        return ""
    return f"{d} {link_problem(d) or 'is not a folder'}, so it is not searched"


def module_files(folder: Path) -> list[Path]:
    """The experiments in ``folder`` that a name finds (:func:`find_experiment`): ``my-exp.py`` or
    ``my exp.py`` is run by its path only, and was listed, and offered, as a name it refuses."""
    return sorted(
        p
        for p in folder.glob("*.py")
        if not p.name.startswith(("_", ".")) and _is_name(p.stem) and p.is_file()
    )


def _is_name(stem: str) -> bool:
    """Whether ``stem`` (a file's, or a name typed) is an experiment's name: a Python identifier
    as text, its bytes read as UTF-8 (:func:`~.files.as_text`). Under an ASCII locale without
    Python's UTF-8 mode (LC_ALL=C PYTHONUTF8=0) Python keeps the é of ``mé.py`` as two escaped
    bytes, no identifier: ``vanishlab experiments`` left it out and ``vanishlab sweep mé``
    refused it ("not an experiment name"), which a UTF-8 locale lists and runs."""
    return as_text(stem).isidentifier()


def _link_words(path: Path) -> str | None:
    """An experiment that is a symbolic link to nothing or that loops, and what to do: "mend
    it" was said of a loop, which has no target to restore."""
    link = link_problem(path)
    return None if link is None else f"{link}; {link_remedy(path, 'the experiment module')}"


def find_experiment(ref: str, known: tuple[str, ...] = ()) -> Path:
    looks_like_path = ref.endswith(".py") or os.sep in ref or (os.altsep or os.sep) in ref
    if looks_like_path:
        path = Path(ref)
        if not path.is_file():
            what = "is not a file" if path.exists() else _link_words(path) or "does not exist"
            with_py = Path(f"{ref}.py")
            hint = f" (did you mean {with_py}?)" if not path.exists() and with_py.is_file() else ""
            raise VanishlabError(f"experiment file {ref} {what}{hint}")
        if path.suffix != ".py":  # importlib finds no loader: "cannot load experiment module"
            raise VanishlabError(f"experiment file {ref} is not a Python file (.py)")
        return path
    if not _is_name(ref):
        raise VanishlabError(f"{ref!r} is not an experiment name or a path to a .py file")
    dirs = experiment_dirs()
    for d in dirs:
        path = d / f"{ref}.py"
        if path.is_file():
            return path
        # the name's first entry in the search, where no module: a link to nothing (or that
        # loops) or a folder was said to be no experiment of that name, or let a built-in run
        what = _link_words(path) or ("is not a file; mend it" if path.exists() else None)
        if what is not None:
            raise VanishlabError(f"experiment {ref!r}: {path} {what}, or remove it")
    names = sorted({p.stem for d in dirs for p in module_files(d)} | set(known))
    where = ", ".join(str(d) for d in dirs) or "no experiments/ folder found"
    where = "; ".join(filter(None, (where, unsearched())))
    available = f"; available: {', '.join(names)}" if names else ""
    meant = did_you_mean(ref, names)  # `gatd`: the name said first, before the list
    here = f"./{ref}.py"  # a name finds ./experiments/, not the current folder: say so
    path = f"; {here} is run by its path: vanishlab sweep {here}" if Path(here).is_file() else ""
    raise VanishlabError(f"no experiment named {ref!r}{meant} (looked in {where}){available}{path}")
