"""Mutation review of the package changes of session 57 (5565c12a..bcabe919): each test here
failed on a small plausible change of the code it names that passed the tests of that code,
and passes on the code as it is.

Mutants tried / killed by the tests before / killed with these (2026-12-07; each run against
the test files of its code, ``pytest -x -p no:randomly -m "not slow"``; after: this file):
  report/format.spread_decimals, rate_text's decimals                          10 /  7 /  9
  rate_cells (rate_cell, mean_rate_text, spread_digits), rate_heatmaps, the
  rates, theory and models tables' cells and captions                          15 /  9 / 13
  manifest_digest (digested, manifest_change, say_change, changes_said,
  changes_said_per_call) and read_manifest's, render_report's, summarize's,
  the CLI's use                                                                26 / 20 / 24
  measured_by (other_code, mixes_code, check_same_code, carried_versions),
  SweepPlan.kept and sound, run_manifest's versions, the monitor's words       22 / 10 / 19
  core/allocation._address_space_available and available_bytes                 8 /  4 /  8
  core/lyapunov._refuse_beyond_memory and _SPECTRUM_ARRAYS (5, 8)             12 /  9 / 12
  trained/torch_file's words for a link to nothing                             3 /  3 /  3
In all 96 / 62 / 88. The 8 left are equivalent: spread_decimals without ``decimals >= 0 and``
(where it is negative the clamp to 0 gives the same); ``_spread_shown`` with ``finite > 0``,
and ``mean_rate_text`` without it (a setting of one finite seed has an sd of NaN, pandas'
std of one value, which spread_decimals already reads as 3 decimals); read_manifest digesting
after its fills (they change nothing of a manifest vanishlab wrote, and are silent only where
they give back what was written: what is read is what was written); say_change's key without
its text's digest (differs only where the file changes twice within one call); mixes_code
without ``not plan.reinit`` or ``plan.is_run_dir`` (neither has a sound shard: kept is 0);
carried_versions without its ``isinstance(v, Mapping)`` (load_manifest refuses such entries
first).
Each survivor killed was a gap in its tests. One defect found, fixed after
the round: the ManifestChangedWarning of ``vl.summarize``, ``load_results``, ``load_cells`` and
``render_report`` pointed inside vanishlab (summary.py, store.py, manifest_digest.py's
``changes_said_per_call``), its fixed stacklevel 4 right for ``vl.load_manifest`` alone; it now
walks to the first frame outside vanishlab, as own_forward's ``_caller_level`` does. Of note: the
test of the refusal's count read ``_SPECTRUM_ARRAYS`` from the module, so any count passed;
the child test of the address-space limit set it from the function it tested and read a
14 MiB process, where RSS for VmSize and kB of 1000 bytes both passed.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.errors import MemoryRefusedError, VanishlabError
from vanishlab.report import build_report
from vanishlab.report.format import spread_decimals
from vanishlab.report.model import HeatmapGrid, Table
from vanishlab.report.sections.rate_cells import rate_cell
from vanishlab.sweep import store
from vanishlab.sweep.config import Sweep
from vanishlab.sweep.experiments import Experiment
from vanishlab.sweep.json_text import canonical_json
from vanishlab.sweep.manifest import package_versions
from vanishlab.sweep.manifest_digest import (
    DIGEST,
    changes_said,
    changes_said_per_call,
    digested,
    manifest_change,
)
from vanishlab.sweep.measured_by import (
    EARLIER_VERSIONS,
    carried_versions,
    check_same_code,
    earlier_versions,
    mixes_code,
)
from vanishlab.sweep.plan import SweepPlan

# --- report/format.py: spread_decimals; rate_cells, rate_heatmaps, rates, theory, models ---


@pytest.mark.parametrize(("sd", "decimals"), [(99.7, 0), (123.4, 0), (5e3, 0), (math.inf, 3)])
def test_a_spread_of_a_hundred_or_more_has_no_decimals_and_an_infinite_one_three(sd, decimals):
    """The tests' largest sd was 12.0 (0 decimals, the clamp never reached): without
    ``max(0, ...)`` an sd of 123.4 asked for -1 decimals, and ``fixed`` raised; without
    ``math.isfinite`` an infinite one reached ``math.floor(inf)`` (OverflowError)."""
    assert spread_decimals(sd) == decimals
    if math.isfinite(sd):
        rec = {"rate": -150.4, "sd": sd, "n": 2, "n_zero": 0}
        assert rate_cell(rec).startswith("−150\u00a0±\u00a0")


def _captions(run: Path, grid: Sweep, sections: list[str]) -> dict[str, str]:
    """The captions of ``grid``'s report's tables, by title, and of its heatmap ("heatmap")."""
    vl.run_sweep(grid, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01",
        sections=sections,
    )  # fmt: skip
    blocks = [b for s in report.sections for b in s.blocks]
    out = {b.title: b.caption for b in blocks if isinstance(b, Table)}
    out.update(("heatmap", b.caption) for b in blocks if isinstance(b, HeatmapGrid))
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[int, dict[str, str]]:
    """1: one seed of RNNs at two gains and inits (rates); 2: two seeds of an RNN and
    an LSTM (models)."""
    root = tmp_path_factory.mktemp("s57-reports")
    tiny = {"hidden_size": 4, "input_size": 2, "seq_len": 8, "batch": 2}
    one = Sweep(gain=(1.5, 3.0), init=("default", "normal"), **tiny)
    two = Sweep(model=("rnn", "lstm"), seed=(0, 1), **tiny)
    return {
        1: _captions(root / "one", one, ["rates"]),
        2: _captions(root / "two", two, ["models"]),
    }


DIGITS = "the sd's two significant digits, at most three"


def test_the_models_table_says_its_digits_and_one_seeds_captions_say_none(reports) -> None:
    """The models table's rates are rate_cell's as the rates table's; its caption's words were
    untested (dropping them passed). With one seed there is no ±: neither the tables' captions
    (``seeds < 1``) nor the heatmap's "(to the decimals of the table below)" (``seeds >= 1``)
    may say digits of a spread, and r² is "one seed"'s (``seeds >= 1`` said "each seed's,
    mean over seeds")."""
    two, one = reports[2], reports[1]
    assert DIGITS in two["Rates and horizons by model"]
    assert "Each cell gives the rate and the horizon h" in one["heatmap"]
    assert "sd's" not in one["Decay rates by setting"]
    assert "r²: of the least-squares line (one seed;" in one["Decay rates by setting"]


# --- sweep/manifest_digest.py: the digest's form, a digest of other values, the warning ---


def test_a_key_s_digest_is_the_first_16_hex_digits_of_its_canonical_json_s_sha256() -> None:
    """The form the module documents, and what every run written since 2026-12-07 holds: a
    reader of another length (``[:8]``) would read each of them as changed, though the write
    and the read in one release agree."""
    value = {"b": [1, 2.5], "a": "é"}
    text = '{"a":"\\u00e9","b":[1,2.5]}'
    assert canonical_json(value) == text
    want = hashlib.sha256(text.encode()).hexdigest()[:16]
    assert digested({"x": value, DIGEST: {"x": "0"}}) == {"x": value, DIGEST: {"x": want}}


@pytest.mark.parametrize("digest", [{"name": 5}, {"name": None}, {"name": ["0" * 16]}])
def test_a_digest_that_is_a_mapping_of_other_than_text_is_not_as_vanishlab_writes_it(digest):
    """The damaged digest tested was ``"x"``, no mapping: one of numbers was compared key by
    key without the ``all(isinstance(v, str) ...)`` check, and said "'name' changed"."""
    assert manifest_change({"name": "a", DIGEST: digest}) == (
        f"its {DIGEST!r} is not as vanishlab writes it"
    )


def _edited(tmp_path: Path) -> Path:
    """A run whose manifest's name was edited since vanishlab wrote it."""
    run = tmp_path / "r"
    run.mkdir()
    axes = {a: list(v) for a, v in Sweep(hidden_size=4, input_size=2).axes().items()}
    path = store.write_manifest(run, {"format": store.FORMAT, "name": "a", "axes": axes})
    path.write_text(path.read_text().replace('"name": "a"', '"name": "b"'))
    return run


def test_the_warning_points_at_the_line_that_loads_the_manifest(tmp_path) -> None:
    """``vl.load_manifest``'s ManifestChangedWarning is the caller's (stacklevel 4: say_change,
    read_manifest, load_manifest, the caller): with 2 it named manifest.py, where a user's
    filter by module or a log's location would not find their own line."""
    run = _edited(tmp_path)
    with pytest.warns(vl.ManifestChangedWarning, match="'name' changed") as said:
        vl.load_manifest(run)
    assert [w.filename for w in said] == [__file__]


@pytest.mark.parametrize("read", ["summarize", "load_results", "load_cells", "render_report"])
def test_every_reader_s_warning_points_at_the_user_s_line(tmp_path, read) -> None:
    """The readers that say a changed manifest once a call (``changes_said_per_call``) warn at
    the user's line too: with stacklevel 4 they named summary.py, store.py or manifest_digest.py."""
    run = tmp_path / "run"
    vl.run_sweep(Sweep(**ONE), run, workers=1, progress=False)  # one cell
    path = run / "manifest.json"
    path.write_text(path.read_text().replace('"started": "', '"started": "1'))
    call = getattr(vl, read)
    args = (run, tmp_path / "r.html") if read == "render_report" else (run,)
    with pytest.warns(vl.ManifestChangedWarning, match="'started' changed") as said:
        call(*args)
    assert [w.filename for w in said] == [__file__]


def test_a_reader_within_a_writer_s_scope_says_the_writer_s_words_once(tmp_path) -> None:
    """An inner scope (a ``changes_said_per_call`` reader) takes the writer of the outer one (a
    sweep's, a monitor's) and shares what it said: without ``or outer.writer`` the edit was said
    without "this sweep writes it again"; the monitor's and the sweep's own reads come before
    their ``changes_said_per_call`` readers', so their tests passed."""
    run = _edited(tmp_path)
    with pytest.warns(vl.ManifestChangedWarning) as said, changes_said(writer="this sweep"):
        changes_said_per_call(vl.load_manifest)(run)
        vl.load_manifest(run)
    (line,) = [str(w.message) for w in said]
    assert line.endswith("read as it is now; this sweep writes it again with a new digest, "
                         "the edit kept but in what it records anew")  # fmt: skip


# --- sweep/measured_by.py, plan.py, run_manifest.py: a run of other code resumed ---

TINY = {"hidden_size": 4, "input_size": 2, "seq_len": 4, "batch": 2}
ONE = {"activation": ("tanh",), "num_layers": (1,), "init": ("default",), **TINY}


def _plan(done: dict[str, str], versions: dict[str, Any] | None = None) -> SweepPlan:
    """A plan of two cells (gains 0.5 and 1) of a run whose cells ``done`` maps to their
    status, measured by other code (``versions``, default none recorded)."""
    grid = Sweep(gain=(0.5, 1.0), **ONE)
    cells = grid.cells()
    ids = {f"g{c.gain}": c.cell_id for c in cells}
    return SweepPlan(
        experiment=Experiment(name="", description="", sweep=grid),
        run_dir=Path("old"),
        cells=cells,
        done={ids[k]: {"status": s} for k, s in done.items()},  # type: ignore[misc]
        is_run_dir=True,
        new_cells=0,
        sound=frozenset(ids[k] for k in done),
        recorded_versions=versions,
    )


def test_a_failed_cell_measured_again_is_no_kept_cell() -> None:
    """Its one shard failed, and ``retry_failed`` measures it again: nothing of the other code
    is kept, so nothing is refused (``len(self.sound)`` counted it kept and refused)."""
    plan = _plan({"g0.5": "failed"})
    assert (plan.kept(False), plan.kept(True)) == (1, 0)
    assert mixes_code(plan, False) and not mixes_code(plan, True)
    check_same_code(plan, force=False, retry_failed=True)


def test_earlier_versions_are_carried_only_beside_cells_or_steps_of_this_code() -> None:
    """``carried_versions``: the earlier code's ``versions`` are added only where this code
    mixes cells in (ignoring ``mixes`` recorded them after a resume that measured nothing),
    once (a run whose versions were already on record listed them twice), and as ``{}`` where
    the manifest recorded none (a mapping check recorded nothing of it)."""
    old = {"vanishlab": "0.1.0"}
    mine = package_versions()
    assert carried_versions({"versions": old}, mixes=False) == []
    assert carried_versions({"versions": old}, mixes=True) == [old]
    assert carried_versions({"versions": old, EARLIER_VERSIONS: [old]}, mixes=True) == [old]
    assert carried_versions({}, mixes=True) == [{}]
    assert carried_versions({"versions": mine, EARLIER_VERSIONS: [old]}, mixes=True) == [old]
    nothing_new = _plan({"g0.5": "ok", "g1.0": "ok"}, old)
    assert earlier_versions({"versions": old}, nothing_new, retry_failed=False) == []


@pytest.fixture(scope="module")
def older(tmp_path_factory) -> Path:
    """A two-cell run (gains 0.5 and 1) of this code with one of its shards removed, to be
    copied and edited into an older vanishlab's."""
    out = tmp_path_factory.mktemp("s57-older") / "run"
    vl.run_sweep(Sweep(gain=(0.5, 1.0), **ONE), out, workers=1, progress=False)
    sorted((out / "cells").glob("*.parquet"))[0].unlink()
    return out


def _as_older(older: Path, tmp_path: Path, **edit: Any) -> Path:
    """A copy of ``older`` whose manifest has ``edit``'s keys (None: removed), no digest."""
    out = Path(shutil.copytree(older, tmp_path / "old"))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop(DIGEST)
    for key, value in edit.items():
        if value is None:
            manifest.pop(key, None)
        else:
            manifest[key] = value
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def _kept(out: Path) -> Sweep:
    """The grid of the one cell ``out`` keeps."""
    for gain in (0.5, 1.0):
        grid = Sweep(gain=(gain,), **ONE)
        if (out / "cells" / f"{grid.cells()[0].cell_id}.parquet").exists():
            return grid
    raise AssertionError("no shard kept")


def test_a_run_that_recorded_no_versions_is_of_other_code(older, tmp_path) -> None:
    """A manifest without ``versions`` (the tests' older runs had versions without the code's
    digest): its kept cell is of other code, so new cells beside it are refused
    (``isinstance(versions, Mapping) and ...`` let them in); a resume that measures nothing
    records this code's versions (``resumed["versions"]`` without the ``isinstance`` check
    raised KeyError)."""
    out = _as_older(older, tmp_path, versions=None)
    with pytest.raises(VanishlabError, match="a vanishlab that recorded no versions"):
        vl.run_sweep(Sweep(gain=(0.5, 1.0), **ONE), out, workers=1, progress=False)
    assert vl.run_sweep(_kept(out), out, workers=1, progress=False).n_run == 0
    assert vl.load_manifest(out)["versions"] == package_versions()


def test_the_other_code_is_said_before_another_grid(older, tmp_path) -> None:
    """A grid of other cells (gain 2) than the run's, whose one kept cell is of other code:
    the code is refused first, as ``checked_plan`` says (after the grid's line, its
    ``--force`` would accept both unsaid), and it counts the kept cell of the other grid
    (``sound`` from this grid's shards alone counted none and said only the grid)."""
    out = _as_older(older, tmp_path, versions={"vanishlab": "0.1.0"})
    with pytest.raises(VanishlabError, match=r"'s 1 cells were measured by vanishlab 0\.1\.0 "):
        vl.run_sweep(Sweep(gain=(2.0,), **ONE), out, workers=1, progress=False)


def test_a_run_whose_only_shard_is_corrupt_keeps_nothing_of_the_other_code(older, tmp_path):
    """Its one shard damaged: moved aside and measured again, so no cell of the other code is
    kept and the resume is not refused (``kept >= 0`` refused it), nor records the other."""
    out = _as_older(older, tmp_path, versions={"vanishlab": "0.1.0"})
    (shard,) = (out / "cells").glob("*.parquet")
    shard.write_bytes(b"not parquet")
    assert vl.run_sweep(Sweep(gain=(0.5, 1.0), **ONE), out, workers=1, progress=False).n_run == 2
    assert EARLIER_VERSIONS not in vl.load_manifest(out)


# --- core/allocation.py: _address_space_available ---


def _vm(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(key)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux's /proc")
def test_an_address_space_limit_counts_the_address_space_not_the_resident_memory(monkeypatch):
    """The limit is of VmSize (every mapping, torch's reserved ranges included), far above the
    resident set, in kB of 1024 bytes: RSS in its place read hundreds of MiB more left under a
    limit that leaves 256 MiB, kB of 1000 bytes some 15 MiB more (VmSize 623 MiB). The test in
    a child set its limit from the function it tested (both moved together) and read a
    process of 14 MiB (2% of which is within its slack)."""
    import resource

    from vanishlab.core import allocation

    size = _vm("VmSize")
    assert size > 2**29 and size - _vm("VmRSS") > 2**24  # torch's mappings, not resident
    monkeypatch.setattr(resource, "getrlimit", lambda _: (size + 2**28, resource.RLIM_INFINITY))
    monkeypatch.setattr(allocation, "_meminfo_available", lambda: 2**50)
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: None)
    assert abs(allocation.available_bytes() - 2**28) <= 2**22  # what the limit leaves, about


def test_an_address_space_beyond_its_limit_leaves_nothing(monkeypatch):
    """A limit lowered below what the process already maps (``setrlimit`` allows it) leaves
    0 bytes, not a negative number of them (without ``max(0, ...)``: -2 GiB); a process whose
    address space cannot be read is not limited to the whole limit (``soft`` in place of
    None read 1 GiB)."""
    import resource

    from vanishlab.core import allocation

    monkeypatch.setattr(resource, "getrlimit", lambda _which: (2**30, resource.RLIM_INFINITY))
    monkeypatch.setattr(allocation, "_address_space_used", lambda: 3 * 2**30)
    assert allocation.available_bytes() == 0
    # where the address space cannot be read (no /proc) the limit is not the figure: unknown
    monkeypatch.setattr(allocation, "_address_space_used", lambda: None)
    monkeypatch.setattr(allocation, "_meminfo_available", lambda: 5 * 2**30)
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: None)
    assert allocation.available_bytes() == 5 * 2**30


# --- core/lyapunov.py: _refuse_beyond_memory's count ---


@pytest.mark.parametrize(("available_gib", "refused"), [(23, True), (24, False)])
def test_the_full_spectrum_of_a_large_lstm_counts_six_arrays(monkeypatch, available_gib, refused):
    """nn.LSTM(32, 1024, num_layers=4) at B = 8: n = 8192, 512 MiB an array a sequence, 24 GiB
    counted (6 arrays: 8.2-27x was measured, benchmarks/lyapunov_memory.py), refused on 23 GiB
    available and not on 24. The test of the refusal read the count from the module's constant,
    so 5 (20 GiB: started on 22 GiB toward a 36 GiB peak) or 8 passed it. On the meta device:
    nothing is allocated."""
    from vanishlab.core import lyapunov

    lstm = nn.LSTM(32, 1024, num_layers=4, device="meta")
    x = torch.empty(100, 8, 32, device="meta")
    monkeypatch.setattr("vanishlab.core.allocation.available_bytes", lambda: available_gib * 2**30)
    if not refused:
        lyapunov._refuse_beyond_memory(lstm, x, None, None, "it")
        return
    with pytest.raises(MemoryRefusedError) as err:
        lyapunov._refuse_beyond_memory(lstm, x, None, None, "it")
    assert err.value.asked == 24 * 2**30
    assert "8 x 8192 x 8192 float64 directions are 4.0 GiB an array, some 6 of them" in str(
        err.value
    )


def test_a_k_of_true_is_refused_as_a_type_not_for_memory(monkeypatch):
    """``k=True`` is 1 to ``isinstance(k, int)``: without the bool check the count took it for
    one exponent and refused it for memory where none is left, before the check that says
    what is wrong with it."""
    monkeypatch.setattr("vanishlab.core.allocation.available_bytes", lambda: 0)
    with pytest.raises(TypeError, match=r"^k must be an integer, got True$"):
        vl.lyapunov_spectrum(nn.RNN(2, 3), torch.randn(5, 2), k=True)
