"""``vanishlab report RUN_DIR``: render a run directory as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, user_errors


@app.command()
@user_errors
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run directory written by `vanishlab sweep`.",
            metavar="RUN_DIR",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the HTML file. Default: reports/<run name>.html.",
            show_default=False,
        ),
    ] = None,
    timestamp: Annotated[
        str | None,
        typer.Option(
            help="The 'generated' time shown on the page (e.g. 2024-01-01T00:00:00Z); pin it "
            "for byte-identical output. Default: $SOURCE_DATE_EPOCH, else now.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Render RUN_DIR as one HTML report (no network needed to view it) and print its path."""
    from ..report import render_report

    typer.echo(str(render_report(run_dir, output, timestamp=timestamp)))
