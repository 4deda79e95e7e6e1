"""Experiment modules: finding them, loading them, listing them.

An experiment is a small declarative Python module (``experiments/<name>.py``), in the spirit of
big_vision's configs but without string mini-languages::

    \"\"\"Effect of sequence length on gradient decay.\"\"\"   # first line: the description
    import vanishlab as vl
    SWEEP = vl.Sweep(seq_len=(25, 50, 100, 200), ...)      # the study
    SMOKE = SWEEP.replace(hidden_size=8, seq_len=(5, 10), seed=0)  # seconds (tests, --smoke)
    SECTIONS = ["decay", "rates"]                          # optional: report sections wanted

It must have no side effects on import. It is loaded with ``importlib`` from its file (never
``exec`` of a string), by path, or by name from the ``experiments/`` folders searched in order
(:mod:`.experiment_search`): ``./experiments`` (the working directory's), then the built-in
ones (the repository's top-level ``experiments/``, which an installed copy holds as
``vanishlab/experiments/``). Its folder is first on ``sys.path`` while it runs, so that it
imports the modules beside it (:func:`import_file`). Listing reads only each module's
docstring (``ast``), importing nothing.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import importlib.util
import io
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import GridTooLargeError, VanishlabError
from .config import AXES, AXIS_TABLE, QUICK_SWEEP, Sweep
from .experiment_prints import prints_to_stderr
from .experiment_search import (
    builtin_experiments_dir,
    experiment_dirs,
    find_experiment,
    module_files,
    unsearched,
)
from .files import line_text, name_text, path_name
from .grid_text import (
    OTHER_AXES_TEXT,
    applies_to_no_model,
    axes_text,
    grid_digest,
    values_brief,
    values_text,
)
from .init_records import EXPERIMENT_MODULE_PREFIX
from .nearest import unknown_names
from .section_names import SWEEP_SECTION_NAMES

__all__ = [
    "DEFAULT_EXPERIMENT",
    "EXPERIMENT_MODULE_PREFIX",
    "LOADED_FROM",
    "Experiment",
    "builtin_experiments_dir",
    "experiment_dirs",
    "file_digest",
    "grid_digest",
    "import_file",
    "list_experiments",
    "load_experiment",
    "module_named",
    "unsearched",
    "variant",
]


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment: what to sweep and how to present it.

    ``name`` is the module's name (its file stem); ``path`` the module file (None for the
    built-in default grid); ``ref`` how the user named it (name or path), kept to write the
    command that reproduces a run; ``sections`` the report sections it asks for (None: all);
    ``base`` the module's own ``SWEEP`` where ``sweep`` is a variant of it (:func:`variant`),
    what a command naming ``ref`` gets for an axis it gives no flag (None: ``sweep`` is it).
    """

    name: str
    description: str
    sweep: Sweep
    smoke: Sweep | None = None
    sections: tuple[str, ...] | None = None
    path: Path | None = None
    ref: str | None = None
    base: Sweep | None = None

    def __post_init__(self) -> None:
        # A typo would only show when the run is reported (which leaves it out).
        if self.sections is not None:
            # A list or a tuple only: a string was read letter by letter, and a generator
            # emptied by this very check.
            if not isinstance(self.sections, list | tuple) or not all(
                isinstance(k, str) for k in self.sections
            ):
                raise VanishlabError(
                    f"experiment {self.name}: SECTIONS must be a list or tuple of section "
                    f"names, got {self.sections!r}"
                )
            object.__setattr__(self, "sections", tuple(self.sections))  # hashable, as frozen
            unknown = unknown_names(self.sections, SWEEP_SECTION_NAMES, "report section")
            if unknown:  # was "unknown report sections ['gian'] in SECTIONS; known: ..."
                raise VanishlabError(f"experiment {self.name}: SECTIONS: {unknown}")


DEFAULT_EXPERIMENT = Experiment(
    name="default",
    description=(
        "Quick default grid: tanh and relu, 1-2 layers, four inits at gains 0.5, 1, 2 "
        "(H = 32, T = 100, 2 seeds)"
    ),
    sweep=QUICK_SWEEP,
    smoke=QUICK_SWEEP.replace(
        hidden_size=8,
        input_size=4,
        seq_len=10,
        batch=2,
        init=("default", "orthogonal"),
        gain=1.0,
        seed=0,
    ),
)
"""What ``vanishlab sweep`` runs with no argument: :data:`vanishlab.sweep.config.QUICK_SWEEP`,
and its smoke variant derived from it (8 tiny cells). Its name, ``default``, is its runs' and an
experiment name too (``vanishlab sweep default``, ``load_experiment("default")``, listed by
``vanishlab experiments``) where no module of that name is found first (:func:`module_named`)."""


def _first_line(doc: str | None) -> str:
    """A docstring's first line as an experiment's description (``vanishlab experiments``,
    the sweep's first line, the manifest): one line of text (:func:`~.files.line_text`)."""
    lines = (doc or "").strip().splitlines()
    return line_text(lines[0].strip()) if lines else ""


LOADED_FROM: dict[str, str] = {}
"""The :func:`file_digest` of the file each module :func:`import_file` loaded ran from: a Dask
worker lives on across sweeps, and loads a file again once it has changed."""


def file_digest(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of the file's bytes (hex)."""
    return _digest(Path(path).read_bytes())


def _digest(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def import_file(module_name: str, path: str | os.PathLike[str]) -> ModuleType:
    """Run the Python file ``path`` as the module ``module_name``, registered in
    ``sys.modules`` while (and after) it runs, as dataclasses and pickling expect of any
    imported module; unregistered again if it raises. Local workers load an experiment file
    this way too, under the name it had here (:mod:`vanishlab.sweep.executors`).

    While it runs, its folder comes first on ``sys.path``, as Python puts a script's: the file
    imports a module beside it (``from mylib import thing``) as it would when run itself. The
    folder is taken off again afterwards; what it imported stays in ``sys.modules``.

    What it prints goes to stderr (:func:`~.experiment_prints.prints_to_stderr`).

    It runs from the bytes read once, those its digest is of, as Python runs a script: no
    bytecode cache is read or written beside it. The loader's cache put a ``__pycache__`` in
    the user's folder (a ``--dry-run`` too) wherever PYTHONDONTWRITEBYTECODE was unset, and a
    file edited within the second it was cached, to the same size, ran as it was before (the
    cache's key is the source's size and whole seconds of its time), while the manifest
    recorded the digest of the file as edited."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always have one
        raise VanishlabError(f"cannot load experiment module {path}")
    module = importlib.util.module_from_spec(spec)
    source = Path(path).read_bytes()
    folder, digest = os.fspath(Path(path).resolve().parent), _digest(source)
    sys.modules[module_name] = module
    sys.path.insert(0, folder)
    try:
        with prints_to_stderr():
            code = compile(source, spec.origin or os.fspath(path), "exec", dont_inherit=True)
            exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        with contextlib.suppress(ValueError):  # the file may have taken it off itself
            sys.path.remove(folder)
    LOADED_FROM[module_name] = digest
    return module


class _Held(io.StringIO):
    """What an experiment module prints as it is loaded, held until it has loaded. It is the
    module's ``sys.stdout`` and ``sys.stderr`` then, which the module may close: its
    ``sys.stdout.close()`` closed this, and reading it after ended the sweep in a traceback
    (``ValueError: I/O operation on closed file``, status 1). Closing it closes nothing."""

    def close(self) -> None:
        pass


def _is_stop(err: BaseException) -> bool:
    """Whether ``err``, raised while an experiment module ran, is a stop of the command: Ctrl-C,
    or SIGTERM or SIGHUP, which the command line raises as its own BaseExceptions
    (``vanishlab.cli.stops``, a layer this one may not import). Any other BaseException is the
    module's failure: ``asyncio.CancelledError`` or ``GeneratorExit`` at its top level ended
    ``vanishlab sweep`` in a traceback, status 1."""
    if isinstance(err, KeyboardInterrupt):
        return True
    own = type(err).__module__.split(".")[0] == __name__.split(".")[0]
    return own and not isinstance(err, Exception)


def load_experiment(ref: str | os.PathLike[str]) -> Experiment:
    """Load an experiment module by name (``"seq_len"``) or path (``"my/study.py"``).

    Raises VanishlabError (one line) if it cannot be found, fails to import, or does not define
    ``SWEEP`` as a :class:`~vanishlab.sweep.config.Sweep` (``SMOKE`` likewise when present;
    ``SECTIONS`` a list or tuple of report section names).
    """
    if not isinstance(ref, str | os.PathLike):  # os.fspath said "expected str, bytes or
        # os.PathLike object, not NoneType", naming no argument
        raise TypeError(
            "ref must be an experiment's name or path (str or os.PathLike), got "
            f"{type(ref).__name__}"
        )
    ref = os.fspath(ref)
    if ref == DEFAULT_EXPERIMENT.name and not module_named(ref):
        return DEFAULT_EXPERIMENT  # by the name its runs take: `vanishlab sweep default`
    path = find_experiment(ref, known=(DEFAULT_EXPERIMENT.name,))
    name = name_text(path.stem)  # a byte of another encoding, a control character: U+FFFD
    # A unique module name per file (see import_file).
    digest = hashlib.sha256(os.fsencode(path.resolve())).hexdigest()[:8]
    module_name = f"{EXPERIMENT_MODULE_PREFIX}{name}_{digest}"
    # What the module prints on stderr is held: on failure the one line below says it all (a
    # script's argparse printed its usage, about the sweep's own arguments); else it is shown.
    said = _Held()
    try:
        with contextlib.redirect_stderr(said):
            module = import_file(module_name, path)
    except BaseException as err:  # SystemExit: sys.exit(), argparse in a script
        if _is_stop(err):
            raise
        detail = str(err).strip().splitlines()[0] if str(err).strip() else ""
        why = "exited while it was imported" if isinstance(err, SystemExit) else "failed to import"
        raise VanishlabError(
            f"experiment module {path} {why}: {type(err).__name__}: {detail}".rstrip(": ")
        ) from None
    # Shown where stderr takes it, else passed over, as a note is: written inside the try, a
    # stderr closed at the start (2>&-: None) said every experiment "failed to import:
    # AttributeError", and 2>/dev/full a module that printed there.
    if said.getvalue() and sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(said.getvalue())
            sys.stderr.flush()

    sweep = getattr(module, "SWEEP", None)
    if not isinstance(sweep, Sweep):  # a module without one said "(found NoneType)"
        if not hasattr(module, "SWEEP"):
            found = "it defines no SWEEP"
        elif sweep is None:
            found = "its SWEEP is None"
        else:
            kind = type(sweep).__name__  # "a int" read as a typo of the message
            found = f"its SWEEP is {'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"
        raise VanishlabError(
            f"experiment module {path} must define SWEEP = vanishlab.Sweep(...) ({found})"
        )
    smoke = getattr(module, "SMOKE", None)
    if smoke is not None and not isinstance(smoke, Sweep):
        raise VanishlabError(
            f"experiment module {path}: SMOKE must be a vanishlab.Sweep "
            f"(found {type(smoke).__name__})"
        )
    sections = getattr(module, "SECTIONS", None)
    if sections is not None:
        if not isinstance(sections, list | tuple) or not all(isinstance(s, str) for s in sections):
            raise VanishlabError(
                f"experiment module {path}: SECTIONS must be a list or tuple of section names"
            )
        sections = tuple(sections)
    return Experiment(
        name=name,
        description=_first_line(module.__doc__),
        sweep=sweep,
        smoke=smoke,
        sections=sections,
        path=path,
        ref=ref,
    )


def module_named(name: str) -> bool:
    """Whether a folder searched for experiments holds an entry ``name.py`` (a module, or a
    link or folder that :func:`find_experiment` says is none): it comes before the built-in
    grid of that name (:data:`DEFAULT_EXPERIMENT`), as ./experiments comes before the built-in
    modules."""
    return any(os.path.lexists(d / f"{name}.py") for d in experiment_dirs())


def list_experiments() -> list[tuple[str, str, Path]]:
    """``(name, one-line description, path)`` of every experiment found by name, importing
    nothing (the description is read from the docstring with ``ast``). A module that does not
    parse is listed with its error as description. The first folder wins on duplicate names."""
    found: dict[str, tuple[str, str, Path]] = {}
    for d in experiment_dirs():
        for path in module_files(d):
            if path.stem in found:
                continue
            try:
                # bytes, decoded as Python decodes a module: a UTF-8 byte-order mark or a
                # coding declaration (read as text, a BOM made a module that runs "broken")
                doc = ast.get_docstring(ast.parse(path.read_bytes()))
                description = _first_line(doc) or "(no description)"
            except (SyntaxError, UnicodeDecodeError, OSError) as err:
                description = f"(broken: {type(err).__name__})"
            found[path.stem] = (path.stem, description, path)
    return [found[k] for k in sorted(found)]


# --- the grid a command line asks for ------------------------------------------------------

_MAX_SLUG = 80


def _flag_hint(sweep: Sweep, overrides: Mapping[str, tuple[Any, ...]], origin: str) -> str:
    """``"; experiment x sets init = normal: give --init too, e.g. --init default"``: the
    axes of ``sweep`` not given as flags whose default alone, or else a part of their own
    values, would mend the grid that ``overrides`` made impossible (``gated --init chrono``:
    "experiment gated sets model = rnn,lstm,gru: give --model too, e.g. --model lstm,gru");
    "" when none would (the flags' own values are at fault). Whether a grid is possible is
    asked of its axes (``from_axes``), not of the flags: a flag that applies to none of its
    models (``--model lstm --activation relu``, AxisSet.refuse_dropped) mended nothing, and
    the quick grid's init clash lost its "give --init too"."""

    def possible(**axes: tuple[Any, ...]) -> bool:
        try:
            Sweep.from_axes({**sweep.axes(), **overrides, **axes})
        except VanishlabError:
            return False
        return True

    def mends(name: str, values: tuple[Any, ...]) -> bool:
        return possible(**{name: values})

    if possible():
        return ""  # the grid is, a flag is not (refuse_dropped): no other axis mends that
    mending = []
    axes = sweep.axes()
    for a in AXIS_TABLE:
        values = axes[a.name]
        if a.name in overrides or values == (a.default,):
            continue
        if mends(a.name, (a.default,)):
            mending.append((a, values, (a.default,)))
            continue
        part = tuple(v for v in values if mends(a.name, (v,)))
        if part and len(part) < len(values) and mends(a.name, part):
            mending.append((a, values, part))
    if not mending:
        return ""
    sets = " and ".join(f"{a.name} = {values_brief(v)}" for a, v, _ in mending)
    flags = " or ".join(a.flag for a, _, _ in mending)
    example = " or ".join(f"{a.flag} {values_text(fix)}" for a, _, fix in mending)
    return f"; {origin} sets {sets}: give {flags} too, e.g. {example}"


def variant(
    exp: Experiment,
    *,
    smoke: bool = False,
    overrides: Mapping[str, tuple[Any, ...]] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> Experiment:
    """The experiment a command asks for, named and described after its own grid.

    ``smoke`` takes the ``SMOKE`` grid, ``overrides`` (``{axis: values}``) then replace axes.
    When either changes the grid, the result is renamed so that its run, its directory and its
    report never pass for the experiment's own: its ``name`` is the name of ``out`` when given,
    else ``<name>-smoke`` and/or ``<name>-<axis>=<values>-...`` (``<name>-custom-<hash>`` when
    that is long), and its ``description`` lists the axes that differ from the experiment's.
    The experiment module itself is still named by ``path``. With neither, ``exp`` is returned
    renamed after ``out`` only.
    """
    overrides = dict(overrides or {})
    base_name = exp.name or "sweep"
    sweep, name, origin = exp.sweep, base_name, f"experiment {base_name}"
    if exp.path is None and base_name == DEFAULT_EXPERIMENT.name:
        origin = "the quick default grid"
    if smoke:
        if exp.smoke is None:
            raise VanishlabError(_no_smoke(exp))
        sweep, name = exp.smoke, f"{base_name}-smoke"
    if overrides:
        try:
            given = sweep.replace(**overrides)
        except GridTooLargeError:
            raise  # about its size, not about axes left to the experiment
        except VanishlabError as err:
            # The clash may be with an axis the user never gave (--model lstm vs an rnn init).
            raise VanishlabError(f"{err}{_flag_hint(sweep, overrides, origin)}") from None
        # A flag of an axis that applies to none of the grid's models is at its default here
        # (replace refuses another value, AxisSet.refuse_dropped) and changes no cell: the
        # grid is the one without it, and so are its name, description and digest. `--model
        # lstm --activation tanh` was named `default-model=lstm-activation=tanh`, a directory
        # apart for the same cells.
        grid = given.axes()
        kept = {a: v for a, v in overrides.items() if not applies_to_no_model(grid, a)}
        if len(kept) == len(overrides):
            sweep = given  # (the grid made once, where every flag applies)
        elif kept:
            sweep = sweep.replace(**kept)
        overrides = kept
    if overrides:
        slug = "-".join(f"{name}={values_text(sweep.axes()[name])}" for name in overrides)
        if len(slug) > _MAX_SLUG:
            slug = "custom-" + grid_digest(sweep)
        name = f"{name}-{slug}"
    if out is not None:
        name = path_name(out) or name
    if not smoke and not overrides:
        return dataclasses.replace(exp, name=name)
    base_axes = exp.sweep.axes()
    changed = [a for a in AXES if sweep.axes()[a] != base_axes[a]]
    description = (
        f"{'Smoke variant: ' if smoke else ''}{sweep.size} cell{'' if sweep.size == 1 else 's'}; "
        f"{axes_text(sweep.axes(), changed) or 'the same axes'}{OTHER_AXES_TEXT}{origin})"
    )
    base = exp.base if exp.base is not None else exp.sweep
    return dataclasses.replace(
        exp, name=name, description=description, sweep=sweep, smoke=None, base=base
    )


def _no_smoke(exp: Experiment) -> str:
    """The refusal of ``smoke`` for ``exp``, which has no SMOKE: what to define where, or
    to run without it (it said neither)."""
    if exp.path is not None:
        return (
            f"experiment {exp.name} has no SMOKE variant: define SMOKE = vanishlab.Sweep(...) "
            f"in {exp.path}, or drop --smoke (smoke=True)"
        )
    what = f"experiment {exp.name}" if exp.name else "a bare vl.Sweep"
    return (
        f"{what} has no SMOKE variant: give vl.Experiment(..., smoke=vl.Sweep(...)), or drop "
        "smoke=True"
    )
