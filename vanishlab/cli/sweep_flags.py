"""``vanishlab sweep``'s axis flags: one option per entry of
:data:`vanishlab.sweep.config.AXIS_TABLE` (flag, help, metavar ``LIST``), ``--seeds N`` just
before ``--seed``, and the values given, parsed (a flag given twice adds its values); and a
count option's value (``--seeds``, ``--workers``), at least 1.

:func:`vanishlab.cli.sweep.make_sweep_command` puts these options in the command's signature, which
typer reads. The axis table imports no torch, so ``vanishlab --help`` stays fast.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import typer

from ..errors import VanishlabError
from ..sweep.axis_entry import Axis
from ..sweep.flag_text import parse_number
from .params import merged

__all__ = ["SEEDS_BEFORE", "axis_overrides", "axis_parameters", "axis_texts", "positive"]

SEEDS_BEFORE = "seed"
"""The axis whose flag ``--seeds N`` (seeds 0..N-1) is listed before, and replaces."""


def _axis_parameter(a: Axis) -> inspect.Parameter:
    option = typer.Option(a.flag, help=a.help, metavar="LIST", show_default=False)
    return inspect.Parameter(
        a.name,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation=Annotated[list[str] | None, option],
    )


_SEEDS = inspect.Parameter(
    "seeds",
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    default=None,
    annotation=Annotated[
        list[str] | None,
        typer.Option(help="Use seeds 0..N-1.", metavar="N", show_default=False),
    ],
)


def positive(flag: str, text: str | None) -> int | None:
    if text is None:
        return None
    value = int(parse_number(flag, text, int))  # ASCII digits: int() took "1_0" as 10
    if value < 1:
        raise VanishlabError(f"{flag}: must be at least 1, got {value}")
    return value


def axis_texts(
    table: Sequence[Axis], flags: Mapping[str, list[str] | None]
) -> dict[str, str | None]:
    """``{axis: text}`` of the axis flags (``flags``: typer's lists, one per axis of ``table``),
    a flag given twice as one list (--activation tanh --activation relu = tanh,relu), each value
    refused where it looks like an option (:func:`~.params.merged`). Read before the experiment
    loads: ``--model --name x`` was "no experiment named x" (x, its EXPERIMENT)."""
    return {a.name: merged(a.flag, flags.get(a.name)) for a in table}


def axis_overrides(
    table: Sequence[Axis],
    parse: Callable[[str, str], tuple[Any, ...]],
    texts: Mapping[str, str | None],
    seeds: str | None,
) -> dict[str, Sequence[Any]]:
    """``{axis: values}`` of the axis flags given (``texts``: :func:`axis_texts`), each parsed
    by ``parse``; ``--seeds N`` (``seeds``: its one text) gives ``seed = 0..N-1``."""
    n_seeds = positive("--seeds", seeds)
    if n_seeds is not None and texts.get(SEEDS_BEFORE) is not None:
        raise VanishlabError("give either --seeds N or --seed LIST, not both")
    overrides = {
        a.name: parse(a.name, text)
        for a, text in ((a, texts.get(a.name)) for a in table)
        if text is not None
    }
    if n_seeds is not None:
        # A range, not a tuple: the axis check refuses a huge one before building its values.
        overrides[SEEDS_BEFORE] = range(n_seeds)
    return overrides


def axis_parameters(table: Sequence[Axis]) -> list[inspect.Parameter]:
    """One option per axis of ``table`` (flag, help, metavar ``LIST``), in its order, with
    ``--seeds N`` just before ``--seed`` (last where the table has no seed axis)."""
    axes: list[inspect.Parameter] = []
    for a in table:
        if a.name == SEEDS_BEFORE:
            axes.append(_SEEDS)
        axes.append(_axis_parameter(a))
    if SEEDS_BEFORE not in (a.name for a in table):
        axes.append(_SEEDS)
    return axes
