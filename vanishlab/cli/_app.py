"""The typer application object and the one place that turns user errors into exit status 2."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from ..errors import VanishlabError

app = typer.Typer(
    name="vanishlab",
    help="Measure vanishing and exploding gradients in torch.nn.RNN, and report them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

USAGE_ERROR = 2


def fail(message: str) -> typer.Exit:
    """Print ``message`` as one line on stderr and return the Exit(2) to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(USAGE_ERROR)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command so that a user's mistake is one line and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except VanishlabError as err:
            raise fail(str(err)) from None
        except KeyboardInterrupt:
            typer.echo(
                "interrupted: finished work is kept; run the same command to resume", err=True
            )
            raise typer.Exit(130) from None

    return wrapper


def main() -> None:  # pragma: no cover - console entry point
    app()
    sys.exit(0)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"vanishlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Measure vanishing and exploding gradients in torch.nn.RNN, and report them."""
