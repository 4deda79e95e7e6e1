"""A run's ``started`` and ``finished``: one form for every writer (UTC to the second, ending in
Z), and a sweep's written before in ``+00:00`` still read, shown on the page in the same form."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import vanishlab as vl
from vanishlab.report.format import time_text
from vanishlab.sweep.manifest import load_manifest, utc_now, write_manifest

Z_FORM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_a_new_sweep_records_its_times_in_the_z_form(smoke_run_dir) -> None:
    # the sweep wrote "...+00:00" where an analysis and a monitor wrote "...Z"
    assert Z_FORM.match(utc_now())
    manifest = load_manifest(smoke_run_dir)
    assert Z_FORM.match(manifest["started"]), manifest["started"]
    assert Z_FORM.match(manifest["finished"]), manifest["finished"]


def test_an_old_record_in_the_plus_00_00_form_still_reads(smoke_run_dir, tmp_path) -> None:
    run = Path(shutil.copytree(smoke_run_dir, tmp_path / "run"))
    manifest = load_manifest(run)
    manifest.update(started="2026-11-30T09:15:02+00:00", finished="2026-11-30T09:16:40+00:00")
    write_manifest(run, manifest)
    assert load_manifest(run)["started"] == "2026-11-30T09:15:02+00:00"  # kept as written
    page = vl.render_report(run, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<dd>2026-11-30T09:15:02Z</dd>" in page and "<dd>2026-11-30T09:16:40Z</dd>" in page
    assert "+00:00" not in page


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-11-30T09:15:02+00:00", "2026-11-30T09:15:02Z"),
        ("2026-11-30T09:15:02Z", "2026-11-30T09:15:02Z"),
        ("2026-11-30T10:15:02+01:00", "2026-11-30T10:15:02+01:00"),  # another zone: as written
        ("2026-11-30T09:15:02", "2026-11-30T09:15:02"),  # no zone: not taken for UTC
        ("yesterday", "yesterday"),  # hand-edited: as written
        (None, "not finished"),
        ("", "not finished"),
    ],
)
def test_a_recorded_time_is_shown_in_one_form_or_as_written(value, shown) -> None:
    assert time_text(value, "not finished") == shown
