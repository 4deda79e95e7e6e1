"""A run's ``manifest.json``: written whole, validated on every load, and the identity that a
report carries so it is never taken for another run's.

Keys (all optional but ``format`` and ``axes``, which every run vanishlab wrote has; each
checked for its type when present): ``format``
(:data:`FORMAT`), ``run_id`` (random, given when the directory is created), ``name``,
``experiment``, ``description``, ``axes`` (the union of the grids: every axis to a list of
values), ``grids`` (one per command that brought cells), ``commands`` (those commands, in
order) and ``command`` (the last), ``inits`` (each init name of the grids to what it stood for
when its cells were measured: ``"built-in"``, ``"built-in NAME"`` or ``"module:function"``,
``"module:<lambda> (line 12)"``, ``"functools.partial(module:function, gain=0.5)"``:
:func:`~vanishlab.sweep.init_records.init_definition`),
``sections``, ``versions`` (those of the last invocation that measured cells),
``earlier_versions`` (a list of the ``versions`` of each other vanishlab whose cells a resumed
sweep kept: :mod:`.measured_by`), ``started``, ``finished`` (UTC, ISO 8601 to the second,
``2026-01-01T00:00:00Z``: :func:`utc_now`; earlier releases ended a sweep's in ``+00:00``,
read alike), ``elapsed_s`` (wall time summed over
every invocation, interrupted ones too, but for one killed outright, SIGKILL, after which
nothing runs to add it: a finite number >= 0), ``n_cells`` (a count; a sweep's no more than its
``axes`` combine into), and a training monitor's ``model`` ``every`` (a positive integer).
Every value of a grid must be of its axis's type (an integer, a finite number, true or false, a
string; null only for an axis that applies to some models) within the axis's bounds and choices
(as its command-line flag checks them; an init is not looked up, since a run may name one
registered by another process), so that a hand-edited ``"8"`` or ``-8`` for ``hidden_size`` or
``"bogus"`` for ``activation`` is refused in one line, naming the field; ``axes`` is the
union of ``grids`` where both are there. ``name``, ``experiment`` and ``description`` are one
line of text each (the name is printed on every line that names the run, the description on
the report's page): a control character in them (a tab, an escape) is U+FFFD
(:func:`~.files.line_text`), as they are written, and as a manifest written before so (a run
named after a folder holding a tab) is read. Every write adds ``digest``, which a read pops
and checks: a change since is read as it is, and said (:mod:`.manifest_digest`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._version import __version__
from ..core.training_facts import chance_level
from ..errors import VanishlabError
from .config import AXES, AXIS_TABLE, LATER_AXES
from .corrupt_shard import refused_read
from .cpu import cpu_text
from .files import as_path, atomic_write, line_text, link_problem, loop_problem
from .json_numbers import json_number, read_json_number, read_seconds
from .json_text import parse_json, read_json_text
from .links import link_remedy
from .manifest_digest import DIGEST, digested, manifest_change, say_change
from .measured_by import EARLIER_VERSIONS
from .package_digest import PACKAGE_DIGEST_KEY, package_digest
from .run_name import not_text

__all__ = [
    "FORMAT",
    "MANIFEST",
    "MONITOR",
    "ONE_LINE_KEYS",
    "SINGLE_MODEL",
    "SWEEP",
    "as_shards_hold",
    "json_number",
    "load_manifest",
    "manifest_link_refused",
    "monitor_steps",
    "package_versions",
    "read_json_number",
    "read_manifest",
    "read_seconds",
    "run_kind_words",
    "union_axes",
    "utc_now",
    "utc_text",
    "write_manifest",
]

#: The kinds of run (a manifest's optional ``kind``; a sweep's manifest has none): an analysis
#: of one checkpoint and a training monitor each get a report page of their own.
SWEEP, SINGLE_MODEL, MONITOR = "sweep", "single-model", "monitor"


def run_kind_words(manifest: Mapping[str, Any]) -> str:
    """What made the run of ``manifest``, in a user's words, for the one line that refuses to
    add another kind of run to it: the refusals said the manifest's own ``kind`` (``"a1 holds
    another kind of run (single-model, not a sweep)"``), a word no command or page uses."""
    return {
        SINGLE_MODEL: "the analysis of one model (vanishlab analyze)",
        MONITOR: "a training monitor's run (vl.JacobianMonitor)",
    }.get(manifest.get("kind"), "a sweep (vanishlab sweep)")


FORMAT = "vanishlab-run/1"
MANIFEST = "manifest.json"


def write_manifest(run_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Write ``RUN_DIR/manifest.json`` atomically, digested (:mod:`.manifest_digest`): as JSON
    reads it back, any earlier digest replaced."""
    if manifest.get("format") != FORMAT:
        raise ValueError(f"a manifest must have format {FORMAT!r}")
    plain = json.loads(json.dumps(_one_line_texts(dict(manifest)), allow_nan=False))
    text = json.dumps(digested(plain), indent=2, allow_nan=False) + "\n"
    path = Path(run_dir) / MANIFEST
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path


def load_manifest(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The run's manifest as a dict (see the module docstring for its keys).

    A manifest changed since vanishlab wrote it (by hand, or damaged) is read as it is now and
    said, in a :class:`~vanishlab.errors.ManifestChangedWarning` naming the keys that differ.
    Raises VanishlabError if ``run_dir`` is not a run directory or its manifest is corrupt.
    """
    return read_manifest(run_dir)[0]


def read_manifest(run_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], str | None]:
    """:func:`load_manifest`'s manifest, and what changed in it since vanishlab wrote it
    (:func:`~.manifest_digest.manifest_change`; None: nothing, or no digest to tell), said
    (:func:`~.manifest_digest.say_change`)."""
    path = as_path(run_dir, "run_dir") / MANIFEST
    if path.is_dir():  # "no manifest.json" sent the user looking for a file that is there
        raise VanishlabError(f"{path} is a directory, not a manifest: move it aside")
    if path.exists() and not path.is_file():
        # a FIFO, a socket or a device, or a link to one: "(no manifest.json)" of a name that
        # `ls` lists (a link to nothing, or one that loops, is said below)
        raise VanishlabError(f"{path} is not a regular file, not a manifest: move it aside")
    if not path.is_file():
        # "(no manifest.json)" for a mistyped path sent the user looking inside a folder that
        # is not there
        loop = loop_problem(run_dir)
        if loop is None:
            manifest_link_refused(path)
        why = (
            f"it {loop}"
            if loop is not None
            else "it does not exist"
            if not os.path.lexists(run_dir)
            else f"no {MANIFEST}"
            if os.path.isdir(run_dir)
            else "it is a file, not a directory"
        )
        raise VanishlabError(f"{run_dir} is not a vanishlab run directory ({why})")
    try:
        text = read_json_text(path)
        manifest = parse_json(text)
    except PermissionError:
        raise VanishlabError(f"permission denied: {path}") from None
    except (OSError, MemoryError, ValueError) as err:  # ValueError: parse_json's every failure
        # An I/O error (EIO) or a refused resource (too many open files, memory) is the
        # device's or the process's, not damage: "corrupt or unreadable ... restore it from a
        # copy" sent the user to replace a sound manifest, as a shard's read did.
        if refused := refused_read(path, err, persists=_RESTORE):
            raise refused from None
        raise VanishlabError(f"{path} is corrupt or unreadable ({err}): {_RESTORE}") from None
    if (later := _later_format(manifest)) is not None:  # "restore it from a copy, or make the
        # run again" of a sound run that a later release wrote: the way on is that release
        raise VanishlabError(
            f"{path} was written by a later vanishlab (its format is {later}; vanishlab "
            f"{__version__} reads {FORMAT}): upgrade vanishlab to read it; the run is left as "
            "it was"
        )
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise VanishlabError(
            f"{path} is not a {FORMAT} manifest ({_not_ours(manifest)}): {_RESTORE}"
        )
    if "axes" not in manifest:  # {"format": ...} alone was read, and reported as an empty run
        raise VanishlabError(
            f"{path} is incomplete: it has no 'axes' (the settings of the run's cells, which "
            f"vanishlab writes into every run's manifest); {_RESTORE}"
        )
    if manifest.get("kind") in (SINGLE_MODEL, MONITOR) and "model" not in manifest:
        # every release that writes these kinds writes it: the monitor said such a run
        # "monitors another module or probe", the report drew a page without its module
        raise VanishlabError(
            f"{path} is incomplete: it has no 'model' (the record of the module measured, "
            f"which vanishlab writes into every analysis's and monitor's manifest); {_RESTORE}"
        )
    change = manifest_change(manifest)  # as parsed: before the fills below
    manifest.pop(DIGEST, None)
    _fill_later_axes(manifest)
    _no_seed_beside_a_file(manifest)
    _one_line_texts(manifest)  # as written now; earlier releases kept a folder's tab in a name
    problem = _manifest_problem(manifest)
    if problem:
        raise VanishlabError(f"{path} is malformed: {problem}; {_RESTORE}")
    if change is not None:  # said once it is read (a refusal is the one line)
        say_change(path, text, change)
    return manifest, change


def manifest_link_refused(path: Path, also: str = "") -> None:
    """Raise VanishlabError where the manifest ``path`` is a symbolic link to nothing (its
    target on a disk not mounted now) or one that loops, in :func:`~.files.link_problem`'s
    words, ``also`` a way on of the caller's: "(no manifest.json)", and "a run whose manifest
    was removed" of a run holding cells, were said of one. The link is left as it is."""
    if (link := link_problem(path)) is not None:
        raise VanishlabError(
            f"cannot read {path}: it {link}, left as it is; "
            f"{link_remedy(path, 'a copy of the manifest')} and run the command again{also}"
        )


#: What to do about a manifest that cannot be read, or is not as vanishlab writes one: each
#: refusal ends in it ("it was not written by vanishlab" said what, not what to do), in words
#: for a command (its --out) and a function (its out=) alike.
_RESTORE = "restore it from a copy, or make the run again into a new directory"

#: A JSON document's type in JSON's words (a list was "(format: 'list')", read as the value
#: of a manifest's "format").
_JSON_TYPES = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}


def _later_format(found: object) -> str | None:
    """The ``"format"`` of a manifest a later release wrote (``vanishlab-run/2``), or None."""
    fmt = found.get("format") if isinstance(found, dict) else None
    family, _, number = FORMAT.rpartition("/")
    if not isinstance(fmt, str) or not fmt.startswith(f"{family}/"):
        return None
    later = fmt[len(family) + 1 :]
    return fmt if later.isascii() and later.isdigit() and int(later) > int(number) else None


def _not_ours(found: object) -> str:
    """Why ``found``, read from a manifest.json, is no vanishlab manifest: not an object of
    keys, no ``"format"``, or another."""
    if not isinstance(found, dict):
        return f"it holds {_JSON_TYPES.get(type(found), 'a number')}, not an object of keys"
    if "format" not in found:
        return 'it has no "format"'
    return f'its "format" is {json.dumps(found["format"], default=repr)[:60]}'


def monitor_steps(manifest: Mapping[str, Any], metas: Mapping[str, Any]) -> dict[str, Any]:
    """A monitored run's steps as its shards hold them (``metas``: ``{cell_id: metadata}``):
    the record a shard's metadata carries (``monitor``, under its checksum), else, for a shard
    written before shards carried it, the manifest's record of that shard. The two differ
    after a crash between the writes of a step's shard and of the manifest (the step's
    Lyapunov exponent read "not measured"), a shard deleted since (a step counted with no
    curves), or a damaged manifest that still parses (a flipped digit of a step's Lyapunov
    exponent was shown as measured: the manifest has no checksum); the monitor mends its
    manifest on reopening, readers take this."""
    from .schema import MONITOR_STEP  # pyarrow: here, not on the path of `vanishlab --help`

    steps = manifest.get("steps")
    found = {
        key: rec
        for key, rec in (steps.items() if isinstance(steps, dict) else ())
        if isinstance(rec, dict) and rec.get("cell_id") in metas
    }
    for meta in metas.values():
        record = dict(meta.get("monitor") or {}) if isinstance(meta, Mapping) else {}
        step = record.pop(MONITOR_STEP, None)
        if step is not None:
            found[str(step)] = record
    return found


def as_shards_hold(manifest: Mapping[str, Any], metas: Mapping[str, Any]) -> dict[str, Any]:
    """``manifest`` with what a trained model's run keeps twice taken from its shards'
    metadata (``metas``: ``{cell_id: metadata}``), which a checksum covers, not from the
    manifest, which has none: a monitor's ``steps`` (:func:`monitor_steps`), and an
    analysis's top Lyapunov exponent ``model.lyapunov`` (its one shard's ``analysis`` record;
    the manifest's for a shard written before shards carried one; none without a shard, as a
    monitor's step). A damaged manifest that still parsed (a flipped digit of the exponent)
    was shown as measured. Every reader of these (``vl.summarize``, the report) reads them
    through this."""
    out = dict(manifest)
    if out.get("kind") == MONITOR:
        out["steps"] = monitor_steps(manifest, metas)
    elif out.get("kind") == SINGLE_MODEL and isinstance(out.get("model"), Mapping):
        held = [m.get("analysis") for m in metas.values() if isinstance(m, Mapping)]
        model = out["model"] = dict(out["model"])
        if not held:  # its shard gone (moved aside, never written): nothing measured is there
            model["lyapunov"] = None
        elif len(held) == 1 and isinstance(held[0], Mapping) and "lyapunov" in held[0]:
            model["lyapunov"] = held[0]["lyapunov"]
    return out


#: The manifest's texts shown on one line (a terminal's, a page's title): no control character.
ONE_LINE_KEYS = ("name", "experiment", "description")


def _one_line_texts(m: dict[str, Any]) -> dict[str, Any]:
    """``m`` with each text of :data:`ONE_LINE_KEYS` as :func:`~.files.line_text` makes it."""
    for key in ONE_LINE_KEYS:
        if isinstance(m.get(key), str):
            m[key] = line_text(m[key])
    return m


def _fill_later_axes(m: dict[str, Any]) -> None:
    """A grid written before an axis of :data:`LATER_AXES` existed holds that axis at its
    default: fill it in, so older run directories resume and report like new ones."""
    grids = [m.get("axes"), *(m.get("grids") if isinstance(m.get("grids"), list) else [])]
    for grid in grids:
        if isinstance(grid, dict) and set(AXES) - set(grid) <= set(LATER_AXES):
            for name in set(AXES) - set(grid):
                grid[name] = [LATER_AXES[name]]


def _no_seed_beside_a_file(m: dict[str, Any]) -> None:
    """An analysis of an inputs file written before its ``model.seed`` was null recorded 0
    there, which reads as the seed of Gaussian inputs it did not draw: null, as written now."""
    model = m.get("model")
    if m.get("kind") == SINGLE_MODEL and isinstance(model, dict) and "seed" in model:
        inputs = model.get("inputs")
        if isinstance(inputs, dict) and "gaussian" not in inputs:
            model["seed"] = None


def _is_grid(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == set(AXES)
        and all(isinstance(v, list) and v for v in value.values())
    )


def _combinations(m: dict[str, Any]) -> int:
    """How many settings a sweep's ``axes`` combine into: no grid of it holds more cells."""
    return math.prod(len(values) for values in m["axes"].values())


def _manifest_problem(m: dict[str, Any]) -> str | None:
    """What is wrong with the keys a reader relies on, or None (missing keys are allowed, but
    ``axes``, which :func:`load_manifest` checks first)."""
    text_keys = ("run_id", "name", "experiment", "description", "command", "started", "finished")
    for key in text_keys:
        if m.get(key) is not None and not isinstance(m[key], str):
            return f"{key!r} must be a string, not {type(m[key]).__name__}"
    kind = m.get("kind")  # a sweep's manifest has none
    if kind is not None and kind not in (SINGLE_MODEL, MONITOR):
        return f"'kind' must be {SINGLE_MODEL!r} or {MONITOR!r} (a sweep has none), not {kind!r}"
    if kind is not None and not isinstance(m["model"], dict):  # "x": a reopened monitor's
        # AttributeError traceback
        return f"'model' must be a mapping (the module measured), not {type(m['model']).__name__}"
    for key in ("name", "description"):  # a lone surrogate ("\ud800"): no page can show it
        value = m.get(key)
        if isinstance(value, str) and any(map(not_text, value)):
            return f"{key!r} holds a character that is not text"
    if not _is_grid(m["axes"]):
        return f"'axes' must map each of {', '.join(AXES)} to a list of values"
    grids = m.get("grids")
    if grids is not None and not (isinstance(grids, list) and all(map(_is_grid, grids))):
        return "'grids' must be a list of grids like 'axes'"
    named = [("'axes'", m["axes"])]
    named += [(f"'grids'[{i}]", grid) for i, grid in enumerate(grids or [])]
    for where, grid in named:
        for a in AXIS_TABLE:
            problem = a.misfit(grid[a.name])
            if problem:
                return f"{where} {problem}"
    if grids and not _same_values(m["axes"], union_axes(grids)):
        return "'axes' is not the union of 'grids' (what every command swept)"
    for key in ("commands", "sections"):
        value = m.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return f"{key!r} must be a list of strings"
    inits = m.get("inits")
    if inits is not None and not (
        isinstance(inits, dict) and all(isinstance(v, str) for v in inits.values())
    ):
        return "'inits' must map init names to strings"
    if m.get("versions") is not None and not isinstance(m["versions"], dict):
        return "'versions' must be a mapping"
    earlier = m.get(EARLIER_VERSIONS)
    if earlier is not None and not (
        isinstance(earlier, list) and all(isinstance(v, dict) for v in earlier)
    ):
        return f"{EARLIER_VERSIONS!r} must be a list of mappings"
    n = m.get("n_cells")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        return f"'n_cells' must be a count (an integer >= 0), not {n!r:.40}"
    # a sweep's cells are combinations of its axes' values: more is a hand edit, which the
    # report's overview read as "64 of 10**30 planned ... this report is partial"
    if kind is None and n is not None and n > (most := _combinations(m)):
        return f"'n_cells' {n!s:.40} is more than its axes combine into ({most})"
    # a time below 0, NaN or inf (JSON's NaN, Infinity, which Python reads) is no time spent:
    # the report said "run time -5.0 s", and Infinity failed in its words (a traceback)
    t = m.get("elapsed_s")
    if t is not None and read_seconds(t) is None:
        return f"'elapsed_s' must be a finite number of seconds >= 0, not {t!r:.40}"
    model = m.get("model")
    every = model.get("every") if kind == MONITOR and isinstance(model, dict) else None
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        # "recorded every -3 training steps" on the page
        return f"'model' 'every' must be a positive integer, not {every!r:.40}"
    chance = model.get("chance_loss") if kind == MONITOR and isinstance(model, dict) else None
    if chance is not None and chance_level(chance) is None:  # a number, written ("0.5" is not)
        # the page draws it beside the training loss: "chance -1" on a log axis
        return f"'model' 'chance_loss' must be a finite number > 0, not {chance!r:.40}"
    return None


def union_axes(grids: list[dict[str, list[Any]]]) -> dict[str, list[Any]]:
    """Every axis's values over ``grids``, in order of first appearance: a manifest's ``axes``."""
    union: dict[str, list[Any]] = {axis: [] for axis in AXES}
    for grid in grids:
        for axis in AXES:
            union[axis] += [v for v in grid[axis] if v not in union[axis]]
    return union


def _same_values(axes: dict[str, list[Any]], union: dict[str, list[Any]]) -> bool:
    return all(
        all(v in union[a] for v in axes[a]) and all(v in axes[a] for v in union[a]) for a in AXES
    )


def utc_text(value: datetime) -> str:
    """``value`` in UTC as ISO 8601 to the second, ending in Z (``2026-01-01T00:00:00Z``): the
    one form of every time vanishlab writes (a naive ``value`` is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def utc_now() -> str:
    """The time now as :func:`utc_text` writes it: every manifest's ``started`` and
    ``finished`` (a sweep's, an analysis's, a training monitor's)."""
    return utc_text(datetime.now(UTC))


def package_versions(dask: bool = False) -> dict[str, str]:
    """The versions a manifest records: vanishlab, torch, python, numpy, pandas, pyarrow, the
    platform, the CPU (:func:`~.cpu.cpu_text`: where a scheduler is used, this process's, said
    so, not its workers'), the digest of vanishlab's code (:mod:`.package_digest`, which the
    version number alone does not pin from commit to commit), and dask/distributed when a
    scheduler is used."""
    import platform

    import numpy as np
    import pandas as pd
    import pyarrow
    import torch

    versions = {
        "vanishlab": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
        "cpu": cpu_text(client_only=dask),
        PACKAGE_DIGEST_KEY: package_digest(),
    }
    if dask:
        import dask as dask_mod
        import distributed

        versions["dask"] = dask_mod.__version__
        versions["distributed"] = distributed.__version__
    return versions
