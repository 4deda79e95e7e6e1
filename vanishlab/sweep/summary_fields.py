"""The columns, flags and thresholds of a summary row, and the digest of the code that computes
one: what the run-level table (:mod:`vanishlab.sweep.summary`) and a report need, without the
per-cell computation (:mod:`vanishlab.sweep.cell_summary`) and the torch it imports.
"""

from __future__ import annotations

import ast
import hashlib
import threading
from functools import lru_cache
from pathlib import Path

from ..analysis.meanfield import mean_field
from .config import AXES
from .schema import TRAIN_FIELDS

__all__ = [
    "CODE_ROOTS",
    "FLAGS",
    "NARROW_LIVE_UNITS",
    "NARROW_WIDTH",
    "NEAR_CRITICAL",
    "NO_SUMMARY",
    "POOR_FIT_R2",
    "RELU_DIVERGES",
    "SHORT_SEQ_LEN",
    "SUMMARY_COLUMNS",
    "SUMMARY_FIELDS",
    "code_digest",
    "code_modules",
    "diverges_meaning",
    "imported_names",
]

NEAR_CRITICAL = 0.05  # |0.5 ln chi_1| below this: chi_1 within about 10 % of 1
NO_SUMMARY = "No summary: computing it failed"
"""How the note of a cell whose summary row failed to compute begins (then its error)."""
NARROW_WIDTH = 64
NARROW_LIVE_UNITS = NARROW_WIDTH * mean_field("tanh", 3.0, 1.0).live_fraction  # 17.5
"""Effective units (H times :attr:`vanishlab.MeanField.live_fraction`) below which a cell is
"narrow" however large H is: those of chaotic tanh at g = 3, input std 1 and H = 64, the cell
whose finite-width bias of about 3/H per step the H < 64 rule accepts, so that the two rules
meet there (64/3, the rule's first value, flagged tanh at H = 64 from g = 2.45 on, as
gain_phase's g = 3 cells). Saturated tanh at g = 50 passes it at H ~ 1,100; its H = 64 fell
short of the prediction by 1.07 per step, unflagged by the H < 64 rule."""
SHORT_SEQ_LEN = 50
POOR_FIT_R2 = 0.9

RELU_DIVERGES = "relu with χ₁ = H·Var(W_hh)/2 ≥ 1"
"""When relu's activity diverges (:attr:`vanishlab.MeanField.diverges`), in words: chi_1 =
g_mf^2/2 >= 1 with g_mf^2 = H var_hh, the init's recurrent weight variance. Not gain^2 >= 2 for
every init: the gain where it starts depends on the init (sqrt(6) for ``default``, whose W_hh
has variance gain^2 / (3H)); :func:`vanishlab.sweep.critical.relu_divergence` gives it."""


def diverges_meaning(which: str) -> str:
    """What the ``diverges`` flag means, ``which`` saying where the page gives the gain it
    starts from (", the note says which": a flagged cell's note; "": nowhere). One wording for
    :data:`FLAGS` and the models table, whose rows have no note."""
    return (
        f"{RELU_DIVERGES}: the activity explodes (from a gain that depends on the init{which}; "
        "χ₁ still holds until the state overflows)"
    )


#: Flag keywords, in the order they are listed, and what each means.
FLAGS: dict[str, str] = {
    "failed": "nothing was measured: the forward pass overflowed, or an error stopped the "
    "cell (its note says which)",
    "no-theory": "no prediction: neither the linear regime nor the mean field applies, or it "
    "could not be computed (the note says why)",
    "exact-zero": "the curve is cut to an exact zero Jacobian in the fit window (relu units all "
    "off, or W_hh = 0 at gain 0): the rate is that of the decay before it, or −∞ when nothing is "
    "left before it",
    "diverges": diverges_meaning(", the note says which"),
    "near-critical": f"mean field: |½ ln χ₁| < {NEAR_CRITICAL}, χ₁ within about 10 % of 1, "
    "where finite width and finite windows move the measured rate most (never raised by the "
    "linear regime's ln ρ, the drawn W_hh's own rate)",
    "non-iid": "weights not drawn i.i.d. (orthogonal, or an init registered with validity "
    '"approximate"): the mean field is approximate',
    "narrow": f"H < {NARROW_WIDTH}, or fewer than {NARROW_LIVE_UNITS:.1f} effective units "
    "(H (E[φ′²])² / E[φ′⁴]: tanh saturated at a large gain passes the gradient through few "
    "units), mean field: finite-width corrections (about −1/(effective units) per step, −3/H "
    "for chaotic tanh at a moderate gain) and the seed-to-seed spread are comparable to the "
    "differences (not in the linear regime, whose ln ρ is the drawn W_hh's own, at any width)",
    "short": f"T < {SHORT_SEQ_LEN}: the fit window and the Lyapunov average include a "
    "transient: q_t's relaxation towards q* (mean field), or W_hh^k's approach to its top "
    "eigenvalue (linear regime; none when one layer's W_hh is a multiple of an orthogonal "
    "matrix); at any T, an undriven network's state still on its way to its fixed point after "
    "T // 4 steps (the note gives how long)",
    "poor-fit": f"r² < {POOR_FIT_R2} with |rate| ≥ {NEAR_CRITICAL}: the log-norm is not a "
    "straight line in the window",
}

SUMMARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("cell_id", "string"),
    ("status", "string"),
    ("rate", "double"),
    ("r2", "double"),
    ("lag_start", "int64"),
    ("lag_end", "int64"),
    ("horizon", "int64"),
    ("phase", "string"),
    ("rate_layer0", "double"),
    ("lyapunov", "double"),
    ("ln_rho", "double"),
    ("pascanu_slope", "double"),
    ("pascanu_ok", "bool"),
    ("mf_rate", "double"),
    ("mf_chi1", "double"),
    ("mf_q_star", "double"),
    ("mf_critical_gain", "double"),
    ("mf_validity", "string"),
    ("mf_reason", "string"),
    ("predicted_by", "string"),
    ("predicted_rate", "double"),
    ("predicted_rate_layer0", "double"),
    ("delta_rate", "double"),
    ("delta_rate_layer0", "double"),
    ("delta_lyapunov", "double"),
    ("flag", "string"),
    ("note", "string"),
    *TRAIN_FIELDS,  # a trained cell's outcome; null when not trained (docs/trainability.md)
)
"""The summary's own columns after the config columns, with their Arrow type names (the one
definition: :data:`SUMMARY_COLUMNS` and the parquet schema of :mod:`vanishlab.sweep.summary`
derive from it)."""

SUMMARY_COLUMNS: tuple[str, ...] = (*AXES, *(name for name, _ in SUMMARY_FIELDS))
"""Columns of a summary row, in order (config columns first, as :data:`AXES`)."""


#: Where the code of a summary row starts: the cell's measurement (which makes the row at
#: initialisation and adds its training's outcome) and the per-cell summary (which
#: :mod:`vanishlab.sweep.summary` calls for a shard without a row). Every vanishlab module they
#: import, at any depth, counts too (:func:`code_modules`), by ``importlib.import_module``
#: as well (the built-in inits' draws, imported on the first draw).
CODE_ROOTS = (
    "vanishlab.sweep.measure",
    "vanishlab.sweep.cell_summary",
)

_PACKAGE = Path(__file__).resolve().parents[1]  # the vanishlab package's folder


def _module_file(name: str) -> Path | None:
    """The file of vanishlab module ``name``, or None when ``name`` is not a module (a
    function or constant of one, as ``from .x import y`` names it)."""
    if name == "vanishlab":
        return _PACKAGE / "__init__.py"
    if not name.startswith("vanishlab."):
        return None
    parts = name.split(".")[1:]
    for path in (
        _PACKAGE.joinpath(*parts).with_suffix(".py"),
        _PACKAGE.joinpath(*parts, "__init__.py"),
    ):
        if path.is_file():
            return path
    return None


def _import_module_target(node: ast.AST, package: str) -> str | None:
    """The module that ``node`` imports when it is a call of ``importlib.import_module`` with a
    constant name, resolved against ``package`` where the name is relative
    (``import_module(".init_weights", __package__)``); None for any other node. An import all
    the same, which an ``import`` statement finder missed (:func:`imported_names`)."""
    if not (
        isinstance(node, ast.Call)
        and ast.unparse(node.func).endswith("import_module")
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return None
    target = str(node.args[0].value)
    level = len(target) - len(target.lstrip("."))
    return _absolute(package, level, target.lstrip(".")) if level else target


def _absolute(package: str, level: int, name: str) -> str:
    """The module a relative import of ``name`` with ``level`` dots names, from ``package``
    (``("vanishlab.sweep", 2, "core")``: ``vanishlab.core``; ``name`` "" for the package)."""
    parts = package.split(".")
    return ".".join([*parts[: len(parts) - level + 1], *([name] if name else [])])


def imported_names(name: str, source: bytes, *, package_init: bool) -> set[str]:
    """The vanishlab names that module ``name`` imports when it runs (at the top or in a
    function, by ``importlib.import_module`` too; not under ``if TYPE_CHECKING:``): each
    module, each name ``from`` one (a module or not), and the package of a ``from`` import.
    The one reading of a module's imports, for the code digest and the package's layer test
    (``tests/test_architecture.py``)."""
    package = name if package_init else name.rpartition(".")[0]
    out: set[str] = set()
    todo: list[ast.AST] = [ast.parse(source, filename=name)]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo += node.orelse
            continue
        todo += ast.iter_child_nodes(node)
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _absolute(package, node.level, base)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
        elif (target := _import_module_target(node, package)) is not None:
            out.add(target)
    return {n for n in out if n == "vanishlab" or n.startswith("vanishlab.")}


_PARSING = threading.Lock()


def _code_sources() -> dict[str, bytes]:
    """``{module: its source}`` of :func:`code_modules`, each file read once: by one thread at a
    time (Dask workers summarise cells in threads), as CPython 3.11's ``ast.parse`` keeps its
    recursion depth per process, and two parses at once can fail with "SystemError: AST
    constructor recursion depth mismatch" (seen once in a Dask worker thread)."""
    with _PARSING:
        return _read_code_sources()


@lru_cache(maxsize=1)
def _read_code_sources() -> dict[str, bytes]:
    seen: dict[str, bytes] = {}
    todo = list(CODE_ROOTS)
    while todo:
        name = todo.pop()
        path = None if name in seen else _module_file(name)
        if path is None:
            continue
        seen[name] = path.read_bytes()
        todo += imported_names(name, seen[name], package_init=path.name == "__init__.py")
        todo.append(name.rpartition(".")[0])  # its package's __init__ runs first
    return dict(sorted(seen.items()))


def code_modules() -> tuple[str, ...]:
    """The modules whose code computes a summary row: :data:`CODE_ROOTS`, every vanishlab
    module they import when they run, at any depth, and the packages those are in, found by
    reading their source (nothing is imported). A hand-kept list missed the gated Lyapunov
    exponent, the init catalog and the tasks."""
    return tuple(_code_sources())


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code that computes a summary row (the files of :func:`code_modules`),
    so that a row stored by other code (another vanishlab, an edited checkout) is computed
    afresh."""
    digest = hashlib.sha256()
    for name, source in _code_sources().items():
        digest.update(name.encode() + b"\0" + source)
    return digest.hexdigest()
