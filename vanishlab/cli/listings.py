"""``vanishlab inits`` and ``vanishlab experiments``: the two listings of what a sweep can be
given, the values of ``--init`` and the experiment modules found by name. Registered by
:mod:`vanishlab.cli.sweep`, after ``sweep``, the order ``vanishlab --help`` lists them in.
"""

from __future__ import annotations

from ..sweep.experiments import (
    DEFAULT_EXPERIMENT,
    builtin_experiments_dir,
    experiment_dirs,
    list_experiments,
    module_named,
    unsearched,
)
from ._app import say, user_errors
from .output import listing_lines

__all__ = ["experiments", "inits"]


@user_errors(stopped="")  # a listing: nothing to keep or resume
def inits() -> None:
    """List the weight initialisations (the values of --init), one line each: the --model
    values each applies to, whether the mean field's assumptions hold for it, and what --gain
    multiplies."""
    from ..sweep.inits import INITS  # the registry, without torch

    rows = [("init", "models", "mean field", "description")]
    rows += [(n, ",".join(i.models), i.validity, i.description) for n, i in INITS.items()]
    for line in listing_lines(rows):
        say(line)
    say(
        "\nmean field: iid (its assumptions hold; exact as H grows), approximate, or none "
        "(no prediction); for nn.RNN cells (LSTM and GRU cells have none)."
    )
    by_rule: dict[str, list[str]] = {}
    for name, init in INITS.items():
        by_rule.setdefault(init.gain_on or "not stated", []).append(name)
    for rule, names in by_rule.items():
        say(f"--gain multiplies, for {', '.join(names)}: {rule}.")


@user_errors(stopped="")  # a listing: nothing to keep or resume
def experiments() -> None:
    """List the experiment modules found by name, with their one-line descriptions, and the
    folders searched for them, in order: ./experiments, then the built-in ones (the
    repository's experiments/, installed as vanishlab/experiments/); and default, the quick
    grid that `vanishlab sweep` runs with no EXPERIMENT."""
    found = list_experiments()
    builtin = builtin_experiments_dir().resolve()
    dirs = ", ".join(
        f"{d} ({'built in' if d.resolve() == builtin else 'working directory'})"
        for d in experiment_dirs()
    )
    dirs = "; ".join(filter(None, (dirs, unsearched())))
    if not found:
        say(f"no experiment modules (searched: {dirs or 'none found'})")
        return
    rows = [(exp_name, description) for exp_name, description, _ in found]
    if not module_named(DEFAULT_EXPERIMENT.name):  # the built-in grid, which has no module
        rows.append(
            (
                DEFAULT_EXPERIMENT.name,
                f"{DEFAULT_EXPERIMENT.description}; what `vanishlab sweep` runs with no EXPERIMENT",
            )
        )
    # Padded in terminal columns (listing_lines): under an ASCII locale the é of mé.py is two
    # escaped bytes, two characters to len(), and a CJK character two columns to one.
    for line in listing_lines(sorted(rows)):
        say(line)
    say(f"\nsearched in this order (the first module of a name is the one run): {dirs}")
