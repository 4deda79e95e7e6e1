"""``vanishlab demo``: the classic nn.RNN example, measured and summarised in a table."""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import app, user_errors


@app.command()
@user_errors
def demo(
    seq_len: Annotated[int, typer.Option(help="Sequence length T.", min=1)] = 60,
    seed: Annotated[int, typer.Option(help="Seed for weights and inputs.")] = 0,
) -> None:
    """Measure the README's example network (nn.RNN(10, 20, 2)) and print its decay table."""
    from ..demo import demo_table

    typer.echo(demo_table(seq_len=seq_len, seed=seed))
