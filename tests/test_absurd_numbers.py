"""A hand-edited record's absurd number (an integer of 401 digits, too large for a float; times
whose sum overflows to inf) is read as a malformed value is, never a traceback."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.report.format import LONGEST_S, duration
from vanishlab.report.sections.trained import seconds_text
from vanishlab.sweep import store
from vanishlab.sweep.checksums import meta_digest
from vanishlab.sweep.manifest import read_json_number

HUGE = 10**400  # JSON's 1 and 400 zeros: float() raises OverflowError


def test_read_json_number_reads_an_integer_beyond_a_float_as_no_number():
    assert read_json_number(HUGE) is None and read_json_number(-HUGE) is None
    assert read_json_number(10**300) == 1e300 and read_json_number("1e400") == math.inf


@pytest.mark.parametrize(
    "seconds",
    [HUGE, -HUGE, math.inf, -math.inf, math.nan],
    ids=["huge", "-huge", "inf", "-inf", "nan"],
)
def test_duration_of_a_number_that_is_no_finite_time_is_unknown(seconds):
    assert duration(seconds) == "—"


@pytest.mark.parametrize("seconds", [-1, -1e-9, 1e12, LONGEST_S * 1.01])
def test_duration_of_no_time_a_run_can_take_is_unknown(seconds):
    """A negative elapsed time (a clock set back) read "-1.0 s" and a trillion seconds
    "277777777 h 46 min"."""
    assert duration(seconds) == "—"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (59.94, "59.9 s"),
        (59.96, "1 min 0 s"),  # was "60.0 s"
        (119.4, "1 min 59 s"),
        (119.7, "2 min 0 s"),  # was "1 min 60 s"
        (3599.4, "59 min 59 s"),
        (3599.6, "1 h 0 min"),  # was "59 min 60 s"
        (88.5, "1 min 29 s"),  # halves up, not to even (round() wrote "1 min 28 s")
        (89.5, "1 min 30 s"),
        (-0.0, "0.0 s"),  # was "-0.0 s"
        (LONGEST_S, "87660 h 0 min"),
    ],
)
def test_duration_rounds_before_it_chooses_its_units(seconds, text):
    assert duration(seconds) == text


def test_a_short_time_just_under_a_second_is_one_second_not_1000_ms():
    assert [seconds_text(s) for s in (0.9994, 0.9996)] == ["999 ms", "1.0 s"]


def test_duration_of_finite_times_is_unchanged():
    assert [duration(s) for s in (5, 12.34, 245, 7380.0)] == [
        "5.0 s",
        "12.3 s",
        "4 min 5 s",
        "2 h 3 min",
    ]


@pytest.fixture(scope="module")
def old_monitor_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A monitor's run as a release before shards kept a step's record wrote it: the steps'
    records are the manifest's, which has no checksum."""
    out = tmp_path_factory.mktemp("absurd") / "m"
    torch.manual_seed(0)
    rnn = torch.nn.RNN(2, 6)
    with vl.JacobianMonitor(rnn, torch.randn(8, 2, 2), out=out, every=1) as mon:
        for n in range(3):
            mon.step(n, loss=0.5)
    for path in (out / "cells").glob("*.parquet"):
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
        del meta["monitor"], meta["meta_digest"]
        meta["meta_digest"] = meta_digest(meta)
        table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
        pq.write_table(table, path, write_page_checksum=True)
    return out


def _edited(run: Path, tmp_path: Path, edit) -> Path:
    manifest = json.loads((run / "manifest.json").read_text())
    for n, record in manifest["steps"].items():
        edit(int(n), record)
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "cells").symlink_to(run / "cells")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
@pytest.mark.parametrize("field", ["lyapunov", "loss"])
def test_a_steps_number_beyond_a_float_reads_as_none(old_monitor_run, tmp_path, field):
    """The report (and vl.summarize, for the exponent) ended in an OverflowError traceback;
    the step's value reads as not measured, the others' as they were."""
    edit = {field: HUGE}
    run = _edited(old_monitor_run, tmp_path, lambda n, r: r.update(edit if n == 1 else {}))
    if field == "lyapunov":
        lyap = vl.summarize(run).sort_values("step")["lyapunov"]
        assert math.isnan(lyap.iloc[1]) and lyap.iloc[[0, 2]].notna().all()
    result = CliRunner().invoke(app, ["report", str(run), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert (tmp_path / "r.html").is_file()


def test_step_times_whose_sum_overflows_are_shown_as_unknown(old_monitor_run, tmp_path):
    """Each finite (1e308 s), their sum inf: "cannot convert float NaN to integer"."""
    run = _edited(old_monitor_run, tmp_path, lambda n, r: r.update(elapsed_s=1e308))
    result = CliRunner().invoke(app, ["report", str(run), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "— in all, — per recorded step" in (tmp_path / "r.html").read_text()
