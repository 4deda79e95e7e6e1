"""A long run name's ``custom-<hash>`` (docs/cli.md, "Naming a run"): written out up to 80
characters of axes, and past them 8 hex digits of a SHA-256 of the whole grid, every axis the
name has hashed since it was first made included at its default too."""

from __future__ import annotations

import hashlib
import json

import pytest

from vanishlab.sweep.config import QUICK_SWEEP, Sweep
from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT, grid_digest, variant


def _whole_grid_digest(sweep: Sweep) -> str:
    text = json.dumps({a: list(v) for a, v in sweep.axes().items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


@pytest.mark.parametrize(
    "sweep", [Sweep(), QUICK_SWEEP, QUICK_SWEEP.replace(seed=tuple(range(100)))]
)
def test_the_digest_hashes_every_axis_even_at_its_default(sweep):
    """A grid with (almost) every axis at its default: one left out of the hash there renames
    the runs made before under their default --out (a new directory, no resume)."""
    assert grid_digest(sweep) == _whole_grid_digest(sweep)


def test_axes_written_out_up_to_80_characters_then_hashed():
    at_80 = (*range(1000, 1014), 10000)  # seed=1000,...,1013,10000: 80 characters
    name = variant(DEFAULT_EXPERIMENT, overrides={"seed": at_80}).name
    assert name == "default-seed=" + ",".join(str(s) for s in at_80)
    assert len(name) - len("default-") == 80
    at_81 = (*range(1000, 1013), 10000, 10001)
    long = variant(DEFAULT_EXPERIMENT, overrides={"seed": at_81})
    assert long.name == f"default-custom-{_whole_grid_digest(long.sweep)}"
