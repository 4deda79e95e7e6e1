"""The report of a trained model: one model's page (``vanishlab analyze``) and a monitored
training run's page (``vl.JacobianMonitor``).

Real small runs: an ``nn.RNN`` (inside a model, keys prefixed) and an ``nn.LSTM`` (a bare
state_dict) saved with ``torch.save`` and analysed; an ``nn.RNN`` monitored over a few real
SGD steps. Each page holds its own sections and none of a sweep's; the numbers in its tables
are :func:`vanishlab.fit_decay` of the run's own rows and the manifest's Lyapunov exponents.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from _cdp import Browser, find_chromium
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.errors import VanishlabError
from vanishlab.report import build_report
from vanishlab.report.format import rate_text
from vanishlab.report.line_style import band_height_pt, hidden_band_note
from vanishlab.report.model import (
    Curve,
    KeyValues,
    LineGrid,
    LinePanel,
    Report,
    Section,
    Table,
)
from vanishlab.report.sections import (
    MONITOR_SECTIONS,
    PAGES,
    SECTIONS,
    SINGLE_MODEL_SECTIONS,
    page_kind,
    section_keys,
)
from vanishlab.report.sections.monitor import chosen_steps
from vanishlab.trained import MONITOR, SINGLE_MODEL, analyze_checkpoint

CHROMIUM = find_chromium()
SINGLE_KEYS = [
    "model",
    "long-dependencies",
    "curves",
    "fits",
    "lyapunov",
    "theory-trained",
    "provenance",
]
MONITOR_KEYS = [
    "monitor",
    "long-dependencies",
    "training",
    "curves-steps",
    "theory-trained",
    "provenance",
]
SWEEP_ONLY = ["overview", "decay", "input", "depth", "rates", "gain", "theory", "anomalies"]
MONITORED_STEPS = [0, 2, 4, 6, 8, 10, 12]


class _Classifier(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = torch.nn.RNN(3, 8, num_layers=2)
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][-1])


@pytest.fixture(scope="module")
def single_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"rnn": run, "lstm": run}``: two saved modules analysed by ``analyze_checkpoint``."""
    root = tmp_path_factory.mktemp("trained")
    torch.manual_seed(0)
    model = _Classifier()
    torch.save({"state_dict": model.state_dict(), "epoch": 3}, root / "rnn.pt")
    lstm = torch.nn.LSTM(3, 8, num_layers=2)
    torch.save(lstm.state_dict(), root / "lstm.pt")
    runs = {}
    for kind in ("rnn", "lstm"):
        analyze_checkpoint(root / f"{kind}.pt", root / kind, seq_len=24, batch=4)
        runs[kind] = root / kind
    return runs


@pytest.fixture(scope="module")
def monitor_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``nn.RNN`` learning to recall its first input, monitored every 2 of 12 SGD steps."""
    out = tmp_path_factory.mktemp("monitor") / "run"
    torch.manual_seed(0)
    model = _Classifier()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    probe = torch.randn(20, 4, 3)
    with vl.JacobianMonitor(model, probe, out=out, every=2) as mon:
        mon.step(0)
        for n in range(1, 13):
            x = torch.randn(20, 16, 3)
            loss = torch.nn.functional.mse_loss(model(x), x[0, :, :1])
            opt.zero_grad()
            loss.backward()
            opt.step()
            mon.step(n)
    return out


def _report(run: Path) -> Report:
    return build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )


def _section(report: Report, key: str) -> Section:
    return next(s for s in report.sections if s.key == key)


def _blocks(section: Section, kind: type) -> list:
    return [b for b in section.blocks if isinstance(b, kind)]


def _page_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', html)


def _layer(value: object) -> int | None:
    return None if value is None or value != value else int(value)  # NaN/NA: the input


# ---- which sections a page shows --------------------------------------------------------


def test_one_ordered_list_per_kind_of_page():
    assert PAGES == {
        "sweep": SECTIONS,
        SINGLE_MODEL: SINGLE_MODEL_SECTIONS,
        MONITOR: MONITOR_SECTIONS,
    }
    assert list(section_keys(SINGLE_MODEL)) == SINGLE_KEYS
    assert list(section_keys(MONITOR)) == MONITOR_KEYS
    assert list(section_keys()) == [k for k, _ in SECTIONS]  # a sweep's, as before
    assert page_kind({"kind": SINGLE_MODEL}) == SINGLE_MODEL
    assert page_kind({"kind": MONITOR}) == MONITOR
    assert page_kind({}) == page_kind({"kind": "something else"}) == "sweep"


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_single_model_page_has_its_sections_and_no_sweep_ones(single_runs, kind, tmp_path):
    run = single_runs[kind]
    page = vl.render_report(run, tmp_path / "page.html", timestamp="2024-01-01")
    html = page.read_text(encoding="utf-8")
    assert _page_ids(html) == SINGLE_KEYS
    assert not set(_page_ids(html)) & set(SWEEP_ONLY)
    for sweep_only in ("gain phase diagram", "Depth × lag", "Theory vs measurement"):
        assert sweep_only.lower() not in html.lower()
    assert not (run / "summary.parquet").exists()  # no sweep summary for one model
    manifest = vl.load_manifest(run)
    model = manifest["model"]
    assert model["checkpoint"] in html and model["sha256"] in html
    name = {"rnn": "nn.RNN(3, 8, num_layers=2, bias=True, nonlinearity=&#39;tanh&#39;)"}
    assert name.get(kind, "nn.LSTM(3, 8, num_layers=2, bias=True)") in html
    assert ("rnn (its keys&#39; prefix)" in html) == (kind == "rnn")
    assert "x ~ N(0, 1.0²), drawn with seed 0" in html
    assert rate_text(float(model["lyapunov"])) in html
    assert "None applies to this model" in html
    assert ("Pascanu" in html) == (kind == "rnn")  # the one bound that holds for any weights
    assert html.count('<svg class="fig"') == 1
    assert "<script" not in html and not re.search(r'(?:src|href)="(?!#|data:)', html)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_single_model_numbers_are_fit_decay_of_the_run(single_runs, kind):
    run = single_runs[kind]
    report = _report(run)
    rows = vl.load_results(run)
    keys = ["source", "layer", "lag"]
    by = vl.fit_decay(rows[[*keys, "log10_fro_mean"]], by=("source", "layer"))
    each = vl.fit_decay(rows[[*keys, "log10_fro_mean"]])
    spec = vl.fit_decay(rows[[*keys, "log10_spec_mean"]], norm="spec", by=("source", "layer"))
    (table,) = _blocks(_section(report, "fits"), Table)
    assert [r[0] for r in table.rows] == ["state, layer 1 (top)", "state, layer 0", "input"]
    shown = {r[0]: r for r in table.rows}
    for fit, one, sp in zip(
        by.to_dict("records"), each.to_dict("records"), spec.to_dict("records"), strict=True
    ):
        layer = _layer(fit["layer"])
        assert (one["source"], _layer(one["layer"])) == (fit["source"], layer)
        label = "input" if fit["source"] == "input" else f"state, layer {layer}"
        row = next(r for name, r in shown.items() if name.startswith(label))
        assert fit["n_curves"] == 1 and fit["rate_mean"] == one["rate"]
        assert row[2] == rate_text(fit["rate_mean"])
        assert row[3] == rate_text(sp["rate_mean"])
        assert row[4] == f"{one['r2']:.4f}"
        assert row[5] == f"{one['lag_start']}–{one['lag_end']}"
        assert row[6] == (str(one["horizon"]) if one["horizon"] is not None else "none")
        assert row[7] == fit["phase"]
    # The headline and the Lyapunov section say the same numbers.
    glance = dict(_blocks(_section(report, "model"), KeyValues)[0].items)
    top = by[(by["source"] == "state") & (by["layer"] == 1)].iloc[0]
    assert glance["decay rate, state, layer 1 (top)"].startswith(rate_text(top["rate_mean"]))
    lyap = float(vl.load_manifest(run)["model"]["lyapunov"])
    (facts,) = _blocks(_section(report, "lyapunov"), KeyValues)
    assert dict(facts.items)["top Lyapunov exponent λ₁"].startswith(rate_text(lyap))
    assert f"×{math.exp(lyap):.3g} per step" in dict(facts.items)["top Lyapunov exponent λ₁"]


def test_the_lyapunov_transient_is_the_documented_t_floordiv_4_steps():
    # measure.py's docstring said round(T/4) steps are discarded, where the code drops T // 4:
    # at T = 7, 2 steps against 1.
    from vanishlab.trained import measure

    torch.manual_seed(3)
    rnn, x = torch.nn.RNN(2, 4), torch.randn(7, 3, 2)
    q0 = torch.randn(4, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    by_discard = [float(vl.lyapunov_spectrum(rnn, x, k=1, discard=d, q0=q0).mean()) for d in (1, 2)]
    assert by_discard[0] != by_discard[1]
    assert measure.top_lyapunov(rnn, x) == pytest.approx(by_discard[0], rel=1e-12, abs=0)
    doc = " ".join(measure.__doc__.split())
    assert "the first T // 4 steps discarded" in doc and "round(T/4)" not in doc


def _lyapunov_items(run: Path) -> dict[str, str]:
    return dict(_blocks(_section(_report(run), "lyapunov"), KeyValues)[0].items)


def test_the_lyapunov_items_say_the_steps_averaged_and_an_extrapolation(single_runs, tmp_path):
    """At T = 1 the page read "a perturbation shrinks 1000-fold in 9.98 steps" from one
    step's growth, with nothing saying so. It now says the steps averaged, and where the
    1000-fold span runs beyond them; T read from a file of inputs too (batch first)."""
    items = _lyapunov_items(single_runs["rnn"])  # T = 24: 18 steps averaged, 6 discarded
    assert items["averaged over"] == "the last 18 steps of T = 24"
    assert "extrapolated" not in items[next(k for k in items if k.startswith("a perturbation"))]
    torch.manual_seed(0)
    torch.save(torch.nn.RNN(4, 8).state_dict(), tmp_path / "m.pt")
    analyze_checkpoint(tmp_path / "m.pt", tmp_path / "one", seq_len=1, batch=8)
    items = _lyapunov_items(tmp_path / "one")
    assert items["averaged over"] == "the last 1 step of T = 1"
    (key,) = [k for k in items if k.startswith("a perturbation")]
    assert items[key].endswith(" steps (extrapolated beyond the 1 step averaged)"), items[key]
    torch.save(torch.randn(8, 5, 4), tmp_path / "x.pt")  # (B, T, I)
    analyze_checkpoint(
        tmp_path / "m.pt", tmp_path / "file", inputs=tmp_path / "x.pt", batch_first=True
    )
    assert _lyapunov_items(tmp_path / "file")["averaged over"] == "the last 4 steps of T = 5"


def test_a_monitor_caption_says_the_probe_steps_its_lyapunov_exponent_averages(monitor_run):
    """The monitor page's λ₁ did not say which steps of the probe it averages (helper 161):
    the probe is 20 steps, the first 5 discarded."""
    rates = next(
        b
        for b in _section(_report(monitor_run), "training").blocks
        if isinstance(b, LineGrid) and b.title.startswith("Decay rates")
    )
    assert "along the probe (averaged over the last 15 of its 20 steps), in the same" in (
        rates.caption
    ), rates.caption


def test_single_model_curves_are_the_rows_and_fits_of_the_run(single_runs):
    run = single_runs["rnn"]
    report = _report(run)
    (grid,) = _blocks(_section(report, "curves"), LineGrid)
    rows = vl.load_results(run)
    assert grid.legend == ("state, layer 1 (top)", "state, layer 0", "input")
    state, inputs = grid.panels
    measured = [c for c in state.curves if not c.reference]
    assert [c.label for c in measured] == ["state, layer 1 (top)", "state, layer 0"]
    for curve, layer in zip(measured, (1, 0), strict=True):
        want = rows[(rows["source"] == "state") & (rows["layer"] == layer)].sort_values("lag")
        assert curve.x.tolist() == want["lag"].tolist()
        assert curve.y.tolist() == want["log10_fro_mean"].tolist()
    fitted = [c for c in inputs.curves if c.reference]
    fit = vl.fit_decay(rows[rows["source"] == "input"][["source", "lag", "log10_fro_mean"]])
    fit = fit.iloc[0]
    assert len(fitted) == 1 and fitted[0].x.tolist() == [fit["lag_start"], fit["lag_end"]]
    slope = (fitted[0].y[1] - fitted[0].y[0]) / (fitted[0].x[1] - fitted[0].x[0])
    assert slope * math.log(10) == pytest.approx(fit["rate"], rel=1e-12)


def test_the_curves_caption_names_the_rates_section_only_when_it_is_shown(single_runs):
    """The caption sent the reader to "the next section" for the rates and r², which a page
    of other sections, or of them in another order, made wrong: it names that section now."""
    run = single_runs["rnn"]
    args = (vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))

    def caption(sections: list[str]) -> str:
        report = build_report(*args, sections=sections, timestamp="2024-01-01")
        (grid,) = _blocks(_section(report, "curves"), LineGrid)
        return grid.caption

    fits_title = _section(_report(run), "fits").title
    for sections in (["curves", "fits"], ["fits", "curves"], ["curves", "lyapunov", "fits"]):
        text = caption(sections)
        assert "next section" not in text and f"; see {fits_title})." in text
        assert "its slope is the decay rate" in text
    alone = caption(["curves", "lyapunov"])
    assert "next section" not in alone and fits_title not in alone and "r² near 1" in alone


@pytest.mark.parametrize(("cell", "symbol"), [(torch.nn.LSTM, "ds"), (torch.nn.GRU, "dh")])
def test_an_lstms_state_panel_names_its_state_s(tmp_path, cell, symbol):
    """An LSTM's state panel read dh_T/dh^(l)_{T−k}; its rows are of s = [h | c]."""
    torch.save(cell(2, 3, 2).state_dict(), tmp_path / "m.pt")
    run = tmp_path / "run"
    analyze_checkpoint(tmp_path / "m.pt", run, seq_len=6, batch=2)
    (grid,) = _blocks(_section(_report(run), "curves"), LineGrid)
    assert grid.panels[0].title == f"state: dh_T/{symbol}^(l)_{{T−k}}"
    assert ("s = [h | c]" in grid.caption) == (symbol == "ds")


def test_a_failed_measurement_is_said_and_draws_nothing(tmp_path):
    rnn = torch.nn.RNN(2, 4, nonlinearity="relu")
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(1e30 * torch.eye(4))
        rnn.weight_ih_l0.fill_(1.0)
    torch.save(rnn.state_dict(), tmp_path / "huge.pt")
    run = tmp_path / "run"
    result = analyze_checkpoint(tmp_path / "huge.pt", run, nonlinearity="relu", seq_len=8)
    assert result.status == "failed"
    # As a sweep's overflowing cell (it was NaN: a filter on failure == "overflow" missed it)
    assert list(vl.load_cells(run)["failure"]) == ["overflow"]
    report = _report(run)
    keys = [s.key for s in report.sections]
    assert keys == ["model", "lyapunov", "theory-trained", "provenance"]
    facts = {k: v for b in _blocks(_section(report, "model"), KeyValues) for k, v in b.items}
    assert facts["status"].startswith("failed: ") and "At a glance" not in str(report)
    assert dict(_section(report, "lyapunov").blocks[0].items)["top Lyapunov exponent λ₁"] == (
        "not measured"
    )


def test_the_model_table_does_not_call_a_checkpoint_dict_a_bare_state_dict(tmp_path):
    """A module saved alone under "model" beside an optimizer's state was said to be "the
    whole file (a bare state_dict)": its keys have no prefix, and the file is a dict."""
    lstm = torch.nn.LSTM(3, 4)
    opt = torch.optim.Adam(lstm.parameters()).state_dict()
    torch.save({"model": lstm.state_dict(), "optimizer": opt}, tmp_path / "ck.pt")
    analyze_checkpoint(tmp_path / "ck.pt", tmp_path / "run", seq_len=6, batch=2)
    items = dict(_blocks(_section(_report(tmp_path / "run"), "model"), KeyValues)[1].items)
    assert items["module in the file"] == "top level (its keys have no prefix)"


def test_a_trained_page_refuses_a_sweep_section_by_name(single_runs):
    run = single_runs["lstm"]
    args = (vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))
    keys = [s.key for s in build_report(*args, sections=["fits"]).sections]
    assert keys == ["model", "fits", "provenance"]  # the model and provenance always are
    with pytest.raises(
        VanishlabError, match=r"unknown report section 'gain' \(report sections are: model, "
    ):
        build_report(*args, sections=["gain"])


def test_cli_report_of_an_analysed_model(single_runs, tmp_path):
    out = tmp_path / "lstm.html"
    result = CliRunner().invoke(app, ["report", str(single_runs["lstm"]), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert _page_ids(out.read_text(encoding="utf-8")) == SINGLE_KEYS


def test_an_analysis_without_its_shard_is_reported_as_not_measured(single_runs, tmp_path):
    # Its shard moved aside (damaged) or never written (the analysis stopped first): the page
    # said so in its status, then took the measuring time of the first cell: an IndexError.
    # The command refuses such a run in one line now (a page with nothing measured on it,
    # status 0, was no report); the page's data, built from the frames, still says so.
    run = tmp_path / "run"
    shutil.copytree(single_runs["rnn"], run)
    for shard in (run / "cells").iterdir():
        shard.unlink()
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(run), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists(), result.output
    assert result.stderr == (
        f"error: {run} holds no measured model (its shard is gone); nothing to report: run "
        "the same vanishlab analyze again to measure it\n"
    )
    facts = {k: v for b in _blocks(_section(_report(run), "model"), KeyValues) for k, v in b.items}
    assert facts["status"] == "not measured" and facts["measuring time"] == "—"


def _lyapunov_shown(run: Path, out: Path) -> tuple[float, str]:
    """The Lyapunov exponent ``vl.summarize`` gives an analysis, and its page's λ₁ text."""
    (lyap,) = vl.summarize(run, cache=False)["lyapunov"]
    html = vl.render_report(run, out).read_text()
    (shown,) = re.findall(r"top Lyapunov exponent λ₁</dt>\s*<dd>([^<]*)</dd>", html)[:1]
    return float(lyap), shown


def _damaged_exponent(single_runs, tmp_path):
    """A copy of the RNN analysis whose manifest's exponent is 0.25 off (a flipped digit): the
    run, its manifest's path and damaged contents, and the exponent measured."""
    run = tmp_path / "run"
    shutil.copytree(single_runs["rnn"], run)
    path = run / "manifest.json"
    manifest = json.loads(path.read_text())
    measured = manifest["model"]["lyapunov"]
    manifest["model"]["lyapunov"] = measured - 0.25
    path.write_text(json.dumps(manifest))
    return run, path, manifest, measured


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_damaged_manifest_that_still_parses_is_not_read_over_an_analysis_shard(
    single_runs, tmp_path
):
    """The analysis's top Lyapunov exponent was kept only in manifest.json, which has no
    checksum: a flipped digit there was shown as measured by vl.summarize and the page. It is
    in the shard's metadata now, under its checksum; the manifest's is read only for a shard
    written before, and none for a run without its shard."""
    from vanishlab.sweep import store
    from vanishlab.sweep.checksums import meta_digest

    run, _, _, measured = _damaged_exponent(single_runs, tmp_path)
    lyap, shown = _lyapunov_shown(run, tmp_path / "r.html")
    assert lyap == measured and shown.startswith(rate_text(measured) + " per step"), shown
    # A shard written before shards kept the exponent: the manifest's, as it was read then.
    (shard,) = (run / "cells").iterdir()
    table = pq.read_table(shard)
    meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
    assert meta.pop("analysis")["lyapunov"] == measured
    del meta["meta_digest"]
    meta["meta_digest"] = meta_digest(meta)
    table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
    pq.write_table(table, shard, write_page_checksum=True)
    lyap, shown = _lyapunov_shown(run, tmp_path / "r.html")
    assert lyap == measured - 0.25 and shown.startswith(rate_text(measured - 0.25)), shown
    shard.unlink()  # no shard: nothing measured is there, the manifest's exponent neither
    # (its page said "not measured" and nothing else, status 0: it is refused in one line now)
    with pytest.raises(vl.VanishlabError, match="holds no measured model") as refused:
        vl.render_report(run, tmp_path / "r.html")
    assert rate_text(measured - 0.25) not in str(refused.value)
    assert "run the same vanishlab analyze again" in str(refused.value)


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_running_an_analysis_again_mends_its_manifests_exponent_from_its_shard(
    single_runs, tmp_path
):
    """A damaged manifest's exponent (one digit changed) stayed in manifest.json for good when
    the same analysis was run again (it measures nothing): it is mended from the shard's, as a
    reopened monitor mends its steps; a sound manifest is left as it is."""
    run, path, manifest, measured = _damaged_exponent(single_runs, tmp_path)
    checkpoint = single_runs["rnn"].parent / "rnn.pt"
    assert not analyze_checkpoint(checkpoint, run, seq_len=24, batch=4).measured
    manifest["model"]["lyapunov"] = measured
    del manifest["digest"]  # the file's, which the reader pops: written anew by the mend
    assert vl.load_manifest(run) == manifest  # the rest as it was
    before = path.stat().st_mtime_ns, path.read_bytes()
    assert not analyze_checkpoint(checkpoint, run, seq_len=24, batch=4).measured
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_an_analysis_holding_another_runs_shard_is_refused_in_one_line(single_runs, tmp_path):
    # Its page shows one cell: with a second one (copied from another analysis) it failed in
    # fit_decay with a ValueError traceback ("frame has lag 0 more than once").
    run = tmp_path / "run"
    shutil.copytree(single_runs["rnn"], run)
    for shard in (single_runs["lstm"] / "cells").iterdir():
        shutil.copy(shard, run / "cells")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(run), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists(), result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "analysis of one model but holds 2 cells" in line
    # a library's message too (vl.build_report): no command's flag, which Python users never gave
    assert "--out" not in line and line.endswith("analyze the model again into a new directory")
    with pytest.raises(VanishlabError, match="holds 2 cells"):
        _report(run)


# ---- a monitored training run -------------------------------------------------------------


def test_chosen_steps_keep_the_first_and_the_last():
    assert chosen_steps([0, 5, 10]) == [0, 5, 10]
    assert chosen_steps(list(range(0, 101, 5))) == [0, 25, 50, 75, 100]
    assert chosen_steps(list(range(7)), limit=3) == [0, 3, 6]


def test_monitor_page_has_its_sections_and_no_sweep_ones(monitor_run, tmp_path):
    page = vl.render_report(monitor_run, tmp_path / "page.html", timestamp="2024-01-01")
    html = page.read_text(encoding="utf-8")
    assert _page_ids(html) == MONITOR_KEYS
    assert not set(_page_ids(html)) & set(SWEEP_ONLY)
    assert not (monitor_run / "summary.parquet").exists()
    manifest = vl.load_manifest(monitor_run)
    assert manifest["model"]["probe_sha256"] in html
    assert "20 × 4 × 3" in html and "2 training steps" in html
    assert f"{len(MONITORED_STEPS)} ({len(MONITORED_STEPS)} ok, 0 failed)" in html
    assert html.count('<svg class="fig"') == 3
    assert "None applies to this model" in html


def test_monitor_numbers_are_fit_decay_and_the_manifest(monitor_run):
    report = _report(monitor_run)
    section = _section(report, "training")
    (table,) = _blocks(section, Table)
    rows = vl.load_results(monitor_run)
    by = vl.fit_decay(
        rows[["step", "source", "layer", "lag", "log10_fro_mean"]], by=("step", "source", "layer")
    )
    each = vl.fit_decay(rows[["step", "source", "layer", "lag", "log10_fro_mean"]])
    steps = vl.load_manifest(monitor_run)["steps"]
    assert table.columns[:5] == (
        "step",
        "status",
        "rate, layer 1 (top)",
        "rate, layer 0",
        "rate, input",
    )
    assert [int(r[0]) for r in table.rows] == MONITORED_STEPS == sorted(int(s) for s in steps)
    column = {name: i for i, name in enumerate(table.columns)}
    for fit, one in zip(by.to_dict("records"), each.to_dict("records"), strict=True):
        layer = _layer(fit["layer"])
        label = "input" if fit["source"] == "input" else f"layer {layer}"
        label += " (top)" if layer == 1 else ""
        row = table.rows[MONITORED_STEPS.index(int(fit["step"]))]
        assert row[column[f"rate, {label}"]] == rate_text(fit["rate_mean"])
        horizon = one["horizon"]
        assert row[column[f"horizon, {label}"]] == ("none" if horizon is None else str(horizon))
    for row in table.rows:
        lyap = steps[row[0]]["lyapunov"]
        assert row[column["λ₁"]] == rate_text(float(lyap))
    # The figure draws the same rates and exponents against the step.
    rates = next(b for b in _blocks(section, LineGrid) if b.title.startswith("Decay rates"))
    (panel,) = rates.panels
    top = next(c for c in panel.curves if c.label == "state, layer 1 (top)")
    want = by[(by["source"] == "state") & (by["layer"] == 1)].sort_values("step")
    assert top.x.tolist() == want["step"].tolist()
    assert top.y.tolist() == want["rate_mean"].tolist()
    lyap_curve = panel.curves[-1]
    assert (
        lyap_curve.label == "top Lyapunov exponent λ₁" and lyap_curve.x.tolist() == top.x.tolist()
    )
    assert lyap_curve.y.tolist() == [float(steps[str(n)]["lyapunov"]) for n in MONITORED_STEPS]


def test_monitor_recording_and_first_to_last_facts(monitor_run):
    """The facts beside the tables, each from the manifest: the first and last steps, the
    measuring time in all and per step, and the first-to-last summary (its steps, and λ₁
    at each end)."""
    from vanishlab.report.sections.trained import seconds_text

    report = _report(monitor_run)
    steps = vl.load_manifest(monitor_run)["steps"]
    first, last = MONITORED_STEPS[0], MONITORED_STEPS[-1]
    (recording,) = [
        kv for kv in _blocks(_section(report, "monitor"), KeyValues) if kv.title == "Recording"
    ]
    facts = dict(recording.items)
    assert facts["first, last"] == f"{first}, {last}"
    spent = [float(steps[str(n)]["elapsed_s"]) for n in MONITORED_STEPS]
    total = math.fsum(spent)  # as the report sums them (rounded once)
    assert facts["measuring time"] == (
        f"{seconds_text(total)} in all, {seconds_text(total / len(spent))} per recorded step"
    )
    (ends,) = [kv for kv in _blocks(_section(report, "training"), KeyValues)]
    assert ends.title == f"From step {first} to step {last}"
    lyap = [rate_text(float(steps[str(n)]["lyapunov"])) for n in (first, last)]
    assert dict(ends.items)["top Lyapunov exponent λ₁"] == f"{lyap[0]} → {lyap[1]} per step"


def test_monitor_curves_at_chosen_steps(monitor_run):
    (grid,) = _blocks(_section(_report(monitor_run), "curves-steps"), LineGrid)
    shown = chosen_steps(MONITORED_STEPS)
    assert shown[0] == 0 and shown[-1] == 12 and len(shown) == 5
    assert grid.legend == tuple(f"step {n}" for n in shown)
    assert [p.title for p in grid.panels] == ["state, layer 1 (top)", "state, layer 0", "input"]
    rows = vl.load_results(monitor_run)
    last = grid.panels[2].curves[-1]
    want = rows[(rows["source"] == "input") & (rows["step"] == 12)].sort_values("lag")
    assert last.label == "step 12" and last.y.tolist() == want["log10_fro_mean"].tolist()


def _decay_panel(title: str, sd: float) -> LinePanel:
    """A panel of one curve falling 13 decades over 50 lags, with a band of ±``sd``."""
    x = np.arange(50.0)
    y = -0.26 * x
    return LinePanel(0, 0, title, (Curve("step 0", 0, x, y, lo=y - sd, hi=y + sd),))


def test_a_band_too_thin_to_see_is_said_in_the_caption(monitor_run):
    """A band of ±0.03 in log10 on an axis 13 decades tall (about 0.6 pt, under the 1.3 pt
    line: the adding example's tanh RNN) is said to be there but too thin to see, with its
    size, in the panels where it is; one that shows (±1, 20 pt) is not, nor is the test
    monitor's (3-13 pt)."""
    thin, wide = _decay_panel("state", 0.03), _decay_panel("input", 1.0)
    assert band_height_pt(thin) == pytest.approx(0.06 / (12.8 * 1.1) * 1.7 * 72)  # y and band
    note = hidden_band_note([thin])
    assert " The band is at most ±0.03 in log10: at most 0.6 pt tall" in note
    assert "too thin to see" in note
    assert hidden_band_note([thin, wide]).startswith(" In the 'state' panel the band is at most")
    assert hidden_band_note([wide]) == ""
    (grid,) = _blocks(_section(_report(monitor_run), "curves-steps"), LineGrid)
    assert min(band_height_pt(p) for p in grid.panels) > 2 * 1.3
    assert "too thin to see" not in grid.caption


def _monitor_with_a_failed_step(out: Path, recover: bool) -> Path:
    """Steps 0 (ok) and 1 (its forward pass overflows), then 2 (ok again) if ``recover``."""
    rnn = torch.nn.RNN(2, 4, nonlinearity="relu")
    good = {k: v.clone() for k, v in rnn.state_dict().items()}
    with vl.JacobianMonitor(rnn, torch.randn(8, 2, 2), out=out, every=1) as mon:
        mon.step(0)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(1e30 * torch.eye(4))
            rnn.weight_ih_l0.fill_(1.0)
        mon.step(1)
        if recover:
            rnn.load_state_dict(good)
            mon.step(2)
    return out


def test_the_chosen_steps_caption_says_how_many_of_which_steps(monitor_run, tmp_path):
    """The caption says "5 of the 7 recorded steps" where some are left out, and "every one
    of the 2 measured steps" where none is and a failed step was not measured: no test read it
    (a mutation audit's < -> <= of either count survived)."""
    (grid,) = _blocks(_section(_report(monitor_run), "curves-steps"), LineGrid)
    assert "at 5 of the 7 recorded steps (the first, the last" in grid.caption
    # 0, 2, 3, 4, 6 of 0-6 (numpy rounds 4.5 to 4): not evenly spaced, as it said
    assert "ones between, as evenly spaced as the recorded steps allow)" in grid.caption
    failed = _monitor_with_a_failed_step(tmp_path / "run", recover=True)
    (grid,) = _blocks(_section(_report(failed), "curves-steps"), LineGrid)
    assert "at every one of the 2 measured steps" in grid.caption
    failed = _monitor_with_a_failed_step(tmp_path / "one", recover=False)
    (grid,) = _blocks(_section(_report(failed), "curves-steps"), LineGrid)
    assert "against the lag k at the one measured step, one line" in grid.caption  # not
    # "every one of the 1 measured steps" (helper 262's walk-through: a monitor of one step)


def test_a_failed_monitored_step_is_listed_with_its_reason(tmp_path):
    out = _monitor_with_a_failed_step(tmp_path / "run", recover=False)
    (table,) = _blocks(_section(_report(out), "training"), Table)
    assert [r[:2] for r in table.rows] == [("0", "ok"), ("1", "failed: overflow")]
    assert table.rows[1][2] == "—" and table.rows[1][-1]  # no rate; the reason under its row
    assert table.detail == len(table.columns) - 1


def test_a_nan_step_and_an_overflowing_step_are_told_apart(tmp_path):
    """Both were recorded as "overflow" and shown as "failed"; a NaN is not an overflow."""
    out = tmp_path / "run"
    rnn = torch.nn.RNN(2, 4, nonlinearity="relu")
    with vl.JacobianMonitor(rnn, torch.randn(8, 2, 2), out=out, every=1) as mon:
        mon.step(0)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(1e30 * torch.eye(4))
            rnn.weight_ih_l0.fill_(1.0)
        mon.step(1)  # the forward pass reaches inf
        with torch.no_grad():
            rnn.weight_hh_l0[0, 0] = float("nan")
        mon.step(2)  # training made a weight NaN
    report = _report(out)
    (table,) = _blocks(_section(report, "training"), Table)
    assert [r[:2] for r in table.rows] == [
        ("0", "ok"),
        ("1", "failed: overflow"),
        ("2", "failed: NaN"),
    ]
    assert "overflow" in table.caption and "NaN" in table.caption
    recording = _blocks(_section(report, "monitor"), KeyValues)[1]
    assert dict(recording.items)["steps recorded"] == "3 (1 ok, 2 failed: 1 overflow, 1 NaN)"


def test_a_failed_step_without_a_failure_kind_still_reads(tmp_path):
    """A shard written before failed steps had a kind (failure null) reads as plain "failed"."""
    out = _monitor_with_a_failed_step(tmp_path / "run", recover=False)
    cells = vl.load_cells(out)
    cells["failure"] = None
    report = build_report(
        vl.load_results(out), cells, vl.load_manifest(out), timestamp="2024-01-01"
    )
    (table,) = _blocks(_section(report, "training"), Table)
    assert [r[:2] for r in table.rows] == [("0", "ok"), ("1", "failed")]
    recording = _blocks(_section(report, "monitor"), KeyValues)[1]
    assert dict(recording.items)["steps recorded"] == "2 (1 ok, 1 failed)"


def test_a_failed_step_is_a_gap_in_the_training_curves(tmp_path):
    """The lines were drawn straight across a failed step, as if it had been measured."""
    out = _monitor_with_a_failed_step(tmp_path / "run", recover=True)
    grids = _blocks(_section(_report(out), "training"), LineGrid)
    assert grids
    for grid in grids:
        assert "A gap" in grid.caption and "failed step" in grid.caption
        for curve in grid.panels[0].curves:
            assert curve.x.tolist() == [0.0, 1.0, 2.0], curve.label
            assert np.isnan(curve.y[1]), curve.label


def test_no_horizon_at_any_step_draws_no_empty_figure(tmp_path):
    """An IRNN whose norms never fall 1000-fold (the monitor example's) got a blank
    "Horizons over training" figure with axes from -0.05 to 0.05."""
    rnn = torch.nn.RNN(2, 4, nonlinearity="relu", bias=False)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(4))
        # Inputs in [0, 1) and input weights >= 0: every unit is active at every step, so
        # dh_T/dh_t = I whatever is drawn. The weights come from the global generator as the
        # tests before left it: with a negative input weight units could stay off at the
        # first steps (9 of seeds 0-59), the norms fell 1000-fold and the figure was drawn.
        rnn.weight_ih_l0.abs_()
    out = tmp_path / "run"
    with vl.JacobianMonitor(rnn, torch.rand(8, 2, 2), out=out, every=1) as mon:
        mon.step(0)
        mon.step(1)
    section = _section(_report(out), "training")
    titles = [g.title for g in _blocks(section, LineGrid)]
    assert titles == ["Decay rates and the top Lyapunov exponent over training"]
    assert "No horizon" in _blocks(section, LineGrid)[0].caption


def _in_chromium(page: Path, shot: Path) -> dict:
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.open(page, width=1400, height=3000)
        facts = {
            "sizes": browser.evaluate(
                "[...document.querySelectorAll('svg.fig')].map(s => {"
                " const r = s.getBoundingClientRect(); return [r.width, r.height]; })"
            ),
            "sections": browser.evaluate(
                "[...document.querySelectorAll('section')].map(s => s.id)"
            ),
            "overflow": browser.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            ),
            "cut": browser.evaluate(
                "[...document.querySelectorAll('.scroll')].map(s => s.scrollWidth - s.clientWidth)"
            ),
            "shot": browser.screenshot(shot, full_page=True),
            "problems": browser.problems(),
            "requests": browser.requests(),
        }
    keep = os.environ.get("VANISHLAB_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    return facts


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("which", ["lstm", pytest.param("monitor", marks=pytest.mark.slow)])
def test_trained_pages_in_chromium(single_runs, monitor_run, which, tmp_path):
    run = monitor_run if which == "monitor" else single_runs[which]
    page = vl.render_report(run, tmp_path / f"{which}.html", timestamp="2024-01-01")
    facts = _in_chromium(page, tmp_path / f"report-{which}.png")
    assert facts["problems"] == []
    assert [u for u in facts["requests"] if not u.startswith(("data:", page.as_uri()))] == []
    assert facts["sections"] == (MONITOR_KEYS if which == "monitor" else SINGLE_KEYS)
    assert facts["sizes"] and all(w > 200 and h > 100 for w, h in facts["sizes"])
    assert facts["overflow"] <= 0 and all(c <= 0 for c in facts["cut"]), facts["cut"]
    shot = facts["shot"]
    assert shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_manifest_kinds_are_the_trained_ones(single_runs, monitor_run):
    assert json.loads((single_runs["rnn"] / "manifest.json").read_text())["kind"] == SINGLE_MODEL
    assert json.loads((monitor_run / "manifest.json").read_text())["kind"] == MONITOR


def test_a_one_layer_gru_names_its_curves_without_layers(tmp_path):
    torch.manual_seed(0)
    torch.save(torch.nn.GRU(3, 6).state_dict(), tmp_path / "gru.pt")
    analyze_checkpoint(tmp_path / "gru.pt", tmp_path / "run", seq_len=12, batch=2)
    report = _report(tmp_path / "run")
    (table,) = _blocks(_section(report, "fits"), Table)
    assert [r[:2] for r in table.rows] == [("state", "dh_T/dh_{T−k}"), ("input", "dh_T/dx_{T−k}")]
    assert "Pascanu" not in _section(report, "theory-trained").intro
    (grid,) = _blocks(_section(report, "curves"), LineGrid)
    assert grid.legend == ("state", "input")


def _dead_relu() -> torch.nn.RNN:
    """A relu nn.RNN whose units are all off at every step (bias -5): every state Jacobian
    past lag 0 is exactly 0, so the norm falls 1000-fold at lag 1 by a zero, not a decay."""
    rnn = torch.nn.RNN(2, 4, nonlinearity="relu")
    with torch.no_grad():
        rnn.bias_ih_l0.fill_(-5.0)
    return rnn


def test_a_horizon_made_by_an_exact_zero_is_marked_on_the_trained_pages(tmp_path):
    """The rates, models and trainability tables mark such a horizon "(exact 0)"; the
    single-model page's fits table and "At a glance" box and the monitor page wrote a bare
    "1", which reads like a decay of 1000x in one step."""
    torch.manual_seed(0)
    torch.save(_dead_relu().state_dict(), tmp_path / "dead.pt")
    run = tmp_path / "run"
    analyze_checkpoint(tmp_path / "dead.pt", run, nonlinearity="relu", seq_len=8, batch=2)
    fit = vl.fit_decay(vl.load_results(run)[["source", "layer", "lag", "log10_fro_mean"]])
    state = fit[fit["source"] == "state"].iloc[0]
    assert state["horizon"] == 1 and state["zero_lag"] == 1  # the premise
    report = _report(run)
    (table,) = _blocks(_section(report, "fits"), Table)
    assert table.rows[0][0] == "state" and table.rows[0][6] == "1 (exact 0)"
    assert table.columns[6] == "horizon" and table.nowrap == (6,)  # never broken
    assert "'(exact 0)'" in table.caption
    glance = dict(_blocks(_section(report, "model"), KeyValues)[0].items)
    assert glance["horizon, state"] == "1 step (exact 0)"  # not "1 steps"
    assert "(exact 0)" in _section(report, "model").intro

    out = tmp_path / "monitor"
    with vl.JacobianMonitor(_dead_relu(), torch.randn(8, 2, 2), out=out, every=1) as mon:
        mon.step(0)
        mon.step(1)
    section = _section(_report(out), "training")
    (table,) = _blocks(section, Table)
    column = table.columns.index("horizon, state")
    assert [r[column] for r in table.rows] == ["1 (exact 0)", "1 (exact 0)"]
    # the horizons alone are never broken (one of them, or every column, passed a mutant)
    assert {table.columns[i] for i in table.nowrap} == {"horizon, state", "horizon, input"}
    assert "'(exact 0)'" in table.caption
    (glance,) = _blocks(section, KeyValues)
    assert "horizon 1 (exact 0) → 1 (exact 0)" in dict(glance.items)["state"]
    horizons = next(b for b in _blocks(section, LineGrid) if b.title.startswith("Horizons"))
    assert "exactly zero" in horizons.caption


def test_fit_lags_of_a_rate_that_fitted_nothing_read_a_dash(tmp_path):
    """A rate of −∞ (exactly 0 from lag 1) or NaN (T = 1: a window of one lag) fitted no lag.
    The per-curve table gave it its window ("2–8", "1–1") where the sweep report's rates table
    reads "—"; a finite rate keeps its window."""
    torch.manual_seed(0)
    torch.save(_dead_relu().state_dict(), tmp_path / "dead.pt")
    torch.save(torch.nn.RNN(2, 4).state_dict(), tmp_path / "live.pt")
    lags = {}
    for name, seq_len in (("dead", 8), ("live", 1), ("live", 8)):
        run = tmp_path / f"{name}{seq_len}"
        nonlinearity = "relu" if name == "dead" else "tanh"
        analyze_checkpoint(
            tmp_path / f"{name}.pt", run, nonlinearity=nonlinearity, seq_len=seq_len, batch=2
        )
        (table,) = _blocks(_section(_report(run), "fits"), Table)
        rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
        lags[name, seq_len] = rows["state"]["rate (Frobenius)"], rows["state"]["fit lags"]
    assert lags["dead", 8] == ("−∞", "—")
    assert lags["live", 1] == ("—", "—")
    assert lags["live", 8][1] == "2–8"
    assert "'—' where its rate is not finite" in table.caption


def test_an_input_jacobian_zero_at_every_lag_has_no_horizon_called_none(tmp_path):
    """A relu RNN whose units are all off (a large negative bias): dh_T/dx is exactly 0 from
    lag 0 on. Its horizon read "none within the lags measured", the words of a gradient that
    never fell 1000-fold, beside a rate of −∞."""
    rnn = torch.nn.RNN(2, 4, nonlinearity="relu")
    with torch.no_grad():
        rnn.bias_ih_l0.fill_(-100.0)
    torch.save(rnn.state_dict(), tmp_path / "off.pt")
    run = tmp_path / "run"
    analyze_checkpoint(tmp_path / "off.pt", run, nonlinearity="relu", seq_len=8, batch=2)
    report = _report(run)
    glance = dict(_blocks(_section(report, "model"), KeyValues)[0].items)
    assert glance["horizon, input"] == "exact 0 at every lag"
    assert glance["horizon, state"] == "1 step (exact 0)"
    assert "'exact 0 at every lag' when it is exactly zero from lag 0 on" in (
        _section(report, "model").intro
    )
    (table,) = _blocks(_section(report, "fits"), Table)
    horizons = {row[0]: row[table.columns.index("horizon")] for row in table.rows}
    assert horizons["input"] == "exact 0 at every lag"
    assert "'exact 0 at every lag'" in table.caption


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_an_analysis_whose_inputs_record_was_hand_edited_still_reports(single_runs, tmp_path):
    # "shape": 5 stopped the page with a TypeError traceback (len() of an int).
    run = tmp_path / "run"
    shutil.copytree(single_runs["rnn"], run)
    path = run / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model"]["inputs"] = {"file": "x.pt", "shape": 5}
    path.write_text(json.dumps(manifest))
    facts = {k: v for b in _blocks(_section(_report(run), "model"), KeyValues) for k, v in b.items}
    assert facts["inputs"] == "x.pt"


def test_the_monitor_page_names_its_probe_dimensions_and_fit_window(monitor_run):
    """The probe read "20 × 4 × 3" with no word on which number is what, and the rates
    caption fitted "over lags K/4..K" with K defined nowhere on the page."""
    report = _report(monitor_run)
    recording = dict(_blocks(_section(report, "monitor"), KeyValues)[1].items)
    assert recording["probe"] == "20 × 4 × 3 (T, B, I)"
    rates = next(
        b for b in _blocks(_section(report, "training"), LineGrid) if b.title.startswith("Decay")
    )
    assert "over lags K/4..K, K the last lag measured: here lags 5..20 (state), 5..19 (input))" in (
        rates.caption
    )


def test_a_rate_that_rounds_to_zero_has_no_sign():
    """The IRNN's λ₁ at initialisation (about −0.0002) read "−0.000" on the monitor page: a
    negative number that is not one at three decimals."""
    assert rate_text(-0.0002) == rate_text(0.0) == rate_text(0.0004) == "0.000"
    assert rate_text(-0.0005001) == "−0.001" and rate_text(0.0123) == "+0.012"
    assert rate_text(-math.inf) == "−∞" and rate_text(math.nan) == "—"


def test_shapes_name_their_dimensions_on_both_trained_pages():
    from vanishlab.report.sections.trained import shape_text

    assert shape_text([50, 8, 2], False) == "50 × 8 × 2 (T, B, I)"
    assert shape_text([8, 50, 2], True) == "8 × 50 × 2 (B, T, I), batch first"
    assert shape_text([50, 2], False) == "50 × 2 (T, I), one unbatched sequence"
    assert shape_text([], None) == "—"


def test_the_theory_text_keeps_the_linear_rate_for_any_weights(tmp_path):
    """The page said the linear rate ln rho(W_hh) at the origin describes random networks at
    initialisation, so a trained model has none: it holds for any weights of a tanh nn.RNN
    at the origin (J(k) = W_hh^k; docs/theory.md), a hand-built nilpotent or rank-1 W_hh too.
    It is now listed with Pascanu's bound, as needing the weights; a GRU's page says the
    predictions are nn.RNN's."""
    torch.manual_seed(0)
    torch.save(torch.nn.RNN(3, 6).state_dict(), tmp_path / "rnn.pt")
    torch.save(torch.nn.GRU(3, 6).state_dict(), tmp_path / "gru.pt")
    intros = {}
    for kind in ("rnn", "gru"):
        run = tmp_path / f"run_{kind}"
        analyze_checkpoint(tmp_path / f"{kind}.pt", run, seq_len=12, batch=2)
        intros[kind] = _section(_report(run), "theory-trained").intro
    rnn, gru = intros["rnn"], intros["gru"]
    assert "(the linear rate ln ρ(W_hh) at the origin" not in rnn
    assert "vl.linear_rate(module.weight_hh_l0)" in rnn and "any weights" in rnn
    assert "Pascanu" in rnn and "ln ρ(W_hh)" in gru and "nn.RNN's theory" in gru
    assert "linear_rate" not in gru and "Pascanu" not in gru
    # "the order-to-chaos critical gain" was relu's too, whose mean field has no chaotic phase
    for intro in (rnn, gru):
        assert "order-to-chaos" not in intro and "for relu that of divergence" in intro


@pytest.mark.parametrize(
    "spent",
    [-5.0, "abc", [1], True, math.inf, math.nan, None, pytest.param(10**400, id="int-1e400")],
)
def test_a_malformed_step_time_is_shown_as_none(monitor_run, spent):
    """A step record's ``elapsed_s`` was read as ``float(value or nan)``: -5 was shown as
    "-5.0 s" (and summed into the measuring time), True as "1.0 s", a string, a list or
    Infinity as a traceback. A time that is no finite number >= 0 is dropped, as a step's other
    malformed values are: its row shows "—", the measuring time sums the others."""
    from vanishlab.report.sections.trained import seconds_text

    manifest = vl.load_manifest(monitor_run)
    steps = manifest["steps"] = {k: dict(v) for k, v in manifest["steps"].items()}
    first = str(MONITORED_STEPS[0])
    steps[first]["elapsed_s"] = spent
    report = build_report(
        vl.load_results(monitor_run), vl.load_cells(monitor_run), manifest, timestamp="2024-01-01"
    )
    (table,) = _blocks(_section(report, "training"), Table)
    assert table.columns[-2] == "time"
    assert table.rows[0][0] == first and table.rows[0][-2] == "—"
    assert all(row[-2] != "—" for row in table.rows[1:])
    kept = [float(steps[str(n)]["elapsed_s"]) for n in MONITORED_STEPS[1:]]
    (recording,) = [
        kv for kv in _blocks(_section(report, "monitor"), KeyValues) if kv.title == "Recording"
    ]
    # fsum, as the report sums them (rounded once), not sum: compensated from Python 3.12
    # (Neumaier's), each addition rounded before it; the two differ where the times sum to a
    # tie (520.5 ms)
    total = math.fsum(kept)
    total_text, each = seconds_text(total), seconds_text(total / len(kept))
    assert (
        dict(recording.items)["measuring time"] == f"{total_text} in all, {each} per recorded step"
    )


def test_the_measuring_time_is_the_sum_of_the_step_times_rounded_once(monitor_run):
    """These six step times sum to 0.5205 s; numpy's sum, left to right, made it
    0.5205000000000001 s, and the report said "521 ms in all" (seen when the suite's measured
    times were these, under Python 3.12, whose compensated sum made it 520 ms)."""
    manifest = vl.load_manifest(monitor_run)
    steps = manifest["steps"] = {k: dict(v) for k, v in manifest["steps"].items()}
    spent = [0.0, 0.176494, 0.084296, 0.089295, 0.092417, 0.039991, 0.038007]
    for n, seconds in zip(MONITORED_STEPS, spent, strict=True):
        steps[str(n)]["elapsed_s"] = seconds
    report = build_report(
        vl.load_results(monitor_run), vl.load_cells(monitor_run), manifest, timestamp="2024-01-01"
    )
    (recording,) = [
        kv for kv in _blocks(_section(report, "monitor"), KeyValues) if kv.title == "Recording"
    ]
    assert dict(recording.items)["measuring time"] == "520 ms in all, 74 ms per recorded step"


def test_a_step_measured_in_no_time_is_shown_as_such(monitor_run):
    """A step time of 0 was read as ``0 or nan``: shown as "—" and left out of the means."""
    manifest = vl.load_manifest(monitor_run)
    steps = manifest["steps"] = {k: dict(v) for k, v in manifest["steps"].items()}
    steps[str(MONITORED_STEPS[0])]["elapsed_s"] = 0
    report = build_report(
        vl.load_results(monitor_run), vl.load_cells(monitor_run), manifest, timestamp="2024-01-01"
    )
    (table,) = _blocks(_section(report, "training"), Table)
    assert table.rows[0][-2] == "0\u00a0ms"
