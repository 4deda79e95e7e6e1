"""The errors a run's shard reader raises for a file it cannot use: a damaged shard of the run
(:class:`CorruptShardError`, which the run moves aside and measures again) or a file that is no
shard of it."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import VanishlabError
from .files import CORRUPT, line_text

__all__ = ["CorruptShardError", "foreign"]

_SHARD_NAME = re.compile(r"^[0-9a-f]{16}\.parquet$")


class CorruptShardError(VanishlabError):
    """A shard of this run (named as one) whose bytes are damaged: never used. Running the
    command that wrote the run again moves it aside (to ``RUN_DIR/corrupt/``: see
    :func:`~vanishlab.sweep.store.sound_metas`); a sweep or an analysis then measures its cell
    again."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        super().__init__(
            f"{path} is corrupt ({why}); run the command that wrote this run again (the same "
            "vanishlab sweep or analyze, or its JacobianMonitor reopened): it moves the file "
            f"aside to {path.parent.parent / CORRUPT}, and a sweep or analysis measures that "
            "cell again"
        )


def foreign(path: Path, why: str) -> VanishlabError:
    """The error for ``path`` in a run's ``cells/``, unusable for ``why``: a
    :class:`CorruptShardError` when it is named as a shard, else a plain one (move it out)."""
    # One line, as every message: pyarrow's own text holds new lines ("Couldn't deserialize
    # thrift: ...\nDeserializing page header failed.\n") and can quote a raw byte.
    why = line_text(" ".join(why.split()))
    if _SHARD_NAME.match(path.name):
        return CorruptShardError(path, why)
    return VanishlabError(
        f"{path} is not a valid vanishlab shard ({why}); move it out of the run directory"
    )
