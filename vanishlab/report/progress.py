"""Progress of a report being made: a rich bar on stderr, shown only when it is worth it.

A report of a large run takes seconds (loading, one builder per section, one drawing per
figure). :class:`ReportProgress` counts those steps; its bar appears on stderr only when it is
enabled (by default: stderr is a terminal) and the report has already run for
:data:`SHOW_AFTER_S` seconds, so quick reports and pipes print nothing. The bar is transient:
it is erased when the report is written.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from ..sweep.progress import is_terminal

__all__ = ["SHOW_AFTER_S", "ReportProgress"]

SHOW_AFTER_S = 2.0  # seconds before the bar appears


class ReportProgress:
    """Steps of a report: ``stage(name, total)`` then ``step(label)`` per unit of work.

    Args:
        enabled: show the bar; None: when stderr is a terminal.
        show_after: seconds before the bar appears (0: at once).
    """

    def __init__(self, enabled: bool | None = None, show_after: float = SHOW_AFTER_S) -> None:
        self.enabled = is_terminal() if enabled is None else enabled
        self.show_after = show_after
        self.started = time.monotonic()
        self.steps = 0  # every step so far (also when the bar is off): what tests can count
        self._bar: Any = None
        self._task: Any = None
        self._stage = ("", 0, 0)  # name, total, done

    def __enter__(self) -> ReportProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def stage(self, name: str, total: int) -> None:
        """Start a stage of ``total`` steps (loading, sections, figures)."""
        self._stage = (name, total, 0)
        if self._bar is not None:
            self._bar.update(self._task, description=name, total=total, completed=0)
        self._maybe_show()

    def step(self, label: str = "") -> None:
        """One unit of the current stage is done (``label``: what comes next)."""
        self.steps += 1
        name, total, done = self._stage
        self._stage = (name, total, done + 1)
        if self._bar is not None:
            self._bar.update(self._task, advance=1, item=label)
        self._maybe_show()

    def _maybe_show(self) -> None:
        if self._bar is not None or not self.enabled:
            return
        if time.monotonic() - self.started < self.show_after:
            return
        from rich.console import Console  # rich is imported only when a bar is shown
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from ..sweep.progress import NARROW

        name, total, done = self._stage
        console = Console(stderr=True)
        stage, count = TextColumn("[bold]report[/] {task.description}"), MofNCompleteColumn()
        if console.width < NARROW:  # the stage and count only (a full row cut the count off)
            columns: tuple[Any, ...] = (stage, count)
        else:
            columns = (
                stage,
                BarColumn(),
                count,
                TimeElapsedColumn(),
                TextColumn("{task.fields[item]}"),
            )
        self._bar = Progress(*columns, console=console, transient=True)
        self._task = self._bar.add_task(name, total=total, completed=done, item="")
        self._bar.start()
