"""Gated cells in sweeps and reports: the model axis, gated inits, shards, summary, report."""

from __future__ import annotations

import hashlib
import json
import math
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
from _shards import aggregate_by_hand
from torch import nn
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.core.seeds import seeded_generator
from vanishlab.sweep.catalog import CHRONO_T_MAX
from vanishlab.sweep.cell import cell_inputs, cell_module
from vanishlab.sweep.config import CellConfig, Sweep, parse_axis
from vanishlab.sweep.critical import critical_gain
from vanishlab.sweep.experiments import load_experiment
from vanishlab.sweep.inits import GAIN_RULE, INITS, Init, register_init
from vanishlab.sweep.prediction import cell_mean_field, mean_field_inputs
from vanishlab.sweep.store import SCHEMA

TINY = {"hidden_size": 6, "input_size": 3, "seq_len": 7, "batch": 3}
EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "gated.py"


# --- the axis ------------------------------------------------------------------------------


def _old_id(config: dict) -> str:
    """The cell id as computed before the model axis existed (docs/design.md)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_rnn_cell_ids_unchanged_by_the_model_axis():
    # Pinned before the axis existed (commit fda5c2d), and recomputed from the old formula.
    assert CellConfig().cell_id == "e81f6713a9fef73e"
    cell = CellConfig(activation="relu", init="orthogonal", gain=2.0, num_layers=2, seed=3)
    assert cell.cell_id == "6506c3408fea7ebb"
    later = {"model", "task", "train_steps", "lr", "optimizer", "clip"}  # axes added since
    old = {k: v for k, v in cell.to_dict().items() if k not in later}
    assert cell.cell_id == _old_id(old)
    lstm = CellConfig(model="lstm", init="orthogonal", gain=2.0)
    assert lstm.activation is None and lstm.cell_id != cell.cell_id


def test_activation_applies_to_rnn_only():
    grid = Sweep(model=("rnn", "lstm", "gru"), activation=("tanh", "relu"), **TINY)
    cells = grid.cells()
    assert grid.size == len(cells) == 4  # tanh, relu; one lstm; one gru
    assert [(c.model, c.activation) for c in cells] == [
        ("rnn", "tanh"),
        ("rnn", "relu"),
        ("lstm", None),
        ("gru", None),
    ]
    assert CellConfig(model="gru", activation="tanh") == CellConfig(model="gru", activation=None)
    assert parse_axis("model", "rnn, lstm,gru") == ("rnn", "lstm", "gru")
    with pytest.raises(vl.VanishlabError, match=r"--model.*unknown model 'transformer'"):
        parse_axis("model", "rnn,transformer")
    assert SCHEMA.field("activation").nullable and not SCHEMA.field("model").nullable


# --- inits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "lstm", "init": "identity"}, "init 'identity' does not apply to model 'lstm'"),
        ({"model": "gru", "init": "normal"}, "init 'normal' does not apply to model 'gru'"),
        ({"model": "rnn", "init": "chrono"}, "init 'chrono' does not apply to model 'rnn'"),
        (
            {"model": "lstm", "init": "forget_bias", "bias": False},
            r"needs bias=True: the grid has bias=False",
        ),
    ],
)
def test_init_that_does_not_apply_is_refused_on_construction(kwargs, match):
    with pytest.raises(vl.VanishlabError, match=match):
        CellConfig(**kwargs)
    with pytest.raises(vl.VanishlabError, match=match):
        Sweep(**{k: (v,) for k, v in kwargs.items()})


def test_mixed_grid_with_a_gated_only_init_is_refused_naming_both():
    with pytest.raises(vl.VanishlabError, match="'chrono' does not apply to model 'rnn'"):
        Sweep(model=("rnn", "lstm"), init=("default", "chrono"))
    result = CliRunner().invoke(
        app, ["sweep", "--model", "rnn,lstm", "--init", "chrono", "--dry-run"]
    )
    assert result.exit_code == 2
    assert "init 'chrono' does not apply to model 'rnn'" in result.output
    assert "Traceback" not in result.output


def _noop(module: nn.RNNBase, gain: float, gen: torch.Generator) -> None:
    return None


def test_registered_init_applies_to_rnn_unless_it_says_so():
    init = register_init(Init("gated_test_noop", "test", _noop), replace=True)
    try:
        assert init.models == ("rnn",)
        CellConfig(init="gated_test_noop")
        with pytest.raises(vl.VanishlabError, match="does not apply to model 'lstm'"):
            CellConfig(model="lstm", init="gated_test_noop")
        with pytest.raises(vl.VanishlabError, match="models must be"):
            register_init(Init("gated_test_bad", "test", _noop, models=("lstm", "cnn")))
    finally:
        INITS.pop("gated_test_noop", None)


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_gated_inits_draw_what_they_document(model):
    H, G = 5, {"lstm": 4, "gru": 3}[model]
    base = {"model": model, "hidden_size": H, "input_size": 3, "num_layers": 2, "seed": 4}

    default = cell_module(CellConfig(**base, init="default", gain=1.0))
    assert isinstance(default, nn.LSTM if model == "lstm" else nn.GRU)
    bound = 1 / math.sqrt(H)
    for p in default.parameters():
        assert p.abs().max() <= bound
    doubled = cell_module(CellConfig(**base, init="default", gain=2.0))
    for l in range(2):  # gain multiplies every gate block of W_hh and nothing else
        w1, w2 = getattr(default, f"weight_hh_l{l}"), getattr(doubled, f"weight_hh_l{l}")
        torch.testing.assert_close(w2, 2 * w1)
        for other in (f"weight_ih_l{l}", f"bias_ih_l{l}", f"bias_hh_l{l}"):
            torch.testing.assert_close(getattr(doubled, other), getattr(default, other))

    ortho = cell_module(CellConfig(**base, init="orthogonal", gain=1.5))
    for l in range(2):
        for block in getattr(ortho, f"weight_hh_l{l}").chunk(G):  # g Q per gate
            torch.testing.assert_close(block.T @ block, 2.25 * torch.eye(H), atol=1e-5, rtol=0)
        assert not getattr(ortho, f"bias_ih_l{l}").any()

    f = 1  # LSTM i, f, g, o; GRU r, z, n: the gate that keeps the old state
    fb = cell_module(CellConfig(**base, init="forget_bias"))
    chrono = cell_module(CellConfig(**base, init="chrono"))
    for l in range(2):
        b = getattr(fb, f"bias_ih_l{l}").detach()
        assert (b[f * H : (f + 1) * H] == 1).all()
        assert not torch.cat([b[: f * H], b[(f + 1) * H :]]).any()
        assert not getattr(fb, f"bias_hh_l{l}").any()
        c = getattr(chrono, f"bias_ih_l{l}").detach().double()
        b_f = c[f * H : (f + 1) * H]
        assert (b_f >= 0).all() and (b_f <= math.log(CHRONO_T_MAX - 1)).all() and b_f.std() > 0
        if model == "lstm":
            torch.testing.assert_close(c[:H], -b_f)
            assert not c[2 * H :].any()
        else:
            assert not c[:H].any() and not c[2 * H :].any()
        assert not getattr(chrono, f"bias_hh_l{l}").any()


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_every_gated_init_states_the_one_gain_rule_and_follows_it(model):
    # forget_bias and chrono stated a rule of their own ("every gate block of W_hh"), so
    # `vanishlab inits` showed two rules where the docs promise one (GAIN_RULE) for every init.
    gated = [name for name, init in INITS.items() if model in init.models]
    assert gated == ["default", "orthogonal", "forget_bias", "chrono"]
    for name in gated:
        assert INITS[name].gain_on == GAIN_RULE, name
        base = {"model": model, "init": name, "num_layers": 2, "dtype": "float64", **TINY}
        one, other = (cell_module(CellConfig(**base, gain=g)) for g in (1.0, 2.5))
        pairs = zip(one.named_parameters(), other.named_parameters(), strict=True)
        for (key, p1), (_, p2) in pairs:
            if key.startswith("weight_hh"):  # the whole stacked W_hh: every gate block
                torch.testing.assert_close(p2, 2.5 * p1, rtol=1e-12, atol=0)
            else:
                assert torch.equal(p2, p1), (name, key)


@pytest.mark.parametrize("init", ["forget_bias", "chrono"])
def test_gated_init_applied_to_an_rnn_directly_is_refused_clearly(init):
    # "init for gated cells applied to RNN" named no init: it names itself now
    said = f"^init '{init}' is for gated cells \\(LSTM, GRU\\): it was applied to RNN$"
    with pytest.raises(vl.VanishlabError, match=said):
        INITS[init].apply(nn.RNN(3, 4), 1.0, torch.Generator().manual_seed(0))


def test_rnn_orthogonal_weights_unchanged_by_per_gate_blocks():
    config = CellConfig(init="orthogonal", gain=1.3, num_layers=2, **TINY)
    rnn = cell_module(config)
    assert isinstance(rnn, nn.RNN)
    gen = seeded_generator(config.seed, "weights")  # the draws as before: whole matrices
    for l in range(2):
        w_ih = torch.empty_like(getattr(rnn, f"weight_ih_l{l}"))
        w_hh = torch.empty_like(getattr(rnn, f"weight_hh_l{l}"))
        nn.init.orthogonal_(w_ih, gain=1.0, generator=gen)
        nn.init.orthogonal_(w_hh, gain=1.3, generator=gen)
        assert torch.equal(getattr(rnn, f"weight_ih_l{l}").detach(), w_ih)
        assert torch.equal(getattr(rnn, f"weight_hh_l{l}").detach(), w_hh)


# --- measurement and theory ----------------------------------------------------------------


@pytest.mark.parametrize(("model", "init"), [("lstm", "chrono"), ("gru", "orthogonal")])
def test_gated_shard_equals_jacobian_norms_of_the_built_module(model, init):
    config = CellConfig(model=model, init=init, num_layers=2, dtype="float64", **TINY)
    frame, meta = vl.run_cell(config)
    assert meta["status"] == "ok"
    T, L = config.seq_len, config.num_layers
    assert len(frame) == T + L * (T + 1)
    assert frame["activation"].isna().all() and (frame["model"] == model).all()
    raw = vl.jacobian_norms(cell_module(config), cell_inputs(config))
    expected = aggregate_by_hand(raw)
    got = frame.sort_values(["source", "layer", "lag"]).reset_index(drop=True)
    for col in expected.columns[3:]:
        np.testing.assert_allclose(got[col], expected[col], rtol=1e-12, atol=1e-12)
    # An LSTM's top-layer row at lag 0 is ||[I | 0]||_F = sqrt(H), as an RNN's ||I||.
    top0 = got[(got["source"] == "state") & (got["layer"] == L - 1) & (got["lag"] == 0)]
    np.testing.assert_allclose(top0["log10_fro_mean"], 0.5 * math.log10(config.hidden_size))


def test_no_theory_for_gated_cells():
    cell = CellConfig(model="lstm", init="default", input_std=1.0)
    assert cell_mean_field(cell) is None
    m = mean_field_inputs(cell.to_dict())
    assert m.validity == "none" and "no theory for gated cells" in m.reason
    assert math.isnan(critical_gain(cell))
    rnn = CellConfig(model="rnn", init="default", input_std=1.0)
    assert cell_mean_field(rnn) is not None  # the same config as an RNN does have one


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_a_gated_cell_at_the_origin_gets_no_theory(model):
    """An orthogonal gated cell without input has every bias zero, so it sits at the origin,
    where an nn.RNN gets the linear regime's ln rho; a gated cell gets no theory there either
    (summarize_cell's own branch for gates: without it, the summary failed on the ln rho it
    never computed for gates, the mean-field functions' check being no help there)."""
    config = CellConfig(model=model, init="orthogonal", input_std=0.0, **TINY)
    _, meta = vl.run_cell(config)
    assert meta["status"] == "ok"
    row = meta["summary"]["row"]
    assert row["predicted_by"] == "none" and row["mf_validity"] == "none"
    assert "no-theory" in row["flag"]
    assert math.isnan(row["predicted_rate"]) and math.isnan(row["ln_rho"])


# --- a mixed run, end to end ---------------------------------------------------------------


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gated") / "run"
    vl.run_sweep(EXPERIMENT, out, smoke=True, workers=1, progress=False)
    return out


def test_experiment_smoke_runs_every_model(smoke_run):
    exp = load_experiment(EXPERIMENT)
    assert exp.sweep.model == ("rnn", "lstm", "gru")
    assert set(exp.sweep.hidden_size) == {64}
    cells = exp.smoke.cells()
    assert len(cells) == 3 * 2 * 2 * 2  # models x inits x depths x lengths, tanh only
    results = vl.load_results(smoke_run)
    assert set(results["cell_id"]) == {c.cell_id for c in cells}
    assert set(results["model"]) == {"rnn", "lstm", "gru"}
    gated = results["model"] != "rnn"
    assert results.loc[gated, "activation"].isna().all()
    assert (results.loc[~gated, "activation"] == "tanh").all()


def test_summary_flags_gated_cells_as_having_no_theory(smoke_run):
    summary = vl.summarize(smoke_run)
    gated = summary[summary["model"] != "rnn"]
    rnn = summary[summary["model"] == "rnn"]
    assert len(gated) == 16 and len(rnn) == 8
    assert (gated["predicted_by"] == "none").all()
    assert gated["predicted_rate"].isna().all() and gated["mf_rate"].isna().all()
    assert gated["flag"].str.contains("no-theory").all()
    assert gated["note"].str.contains("no theory for gated cells").all()
    assert np.isfinite(gated["rate"]).all() and np.isfinite(gated["lyapunov"]).all()
    assert (rnn["predicted_by"] == "mean field").all()  # driven tanh RNN: a prediction


def _text(html: str) -> str:
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_report_shows_models_side_by_side_without_gated_theory(smoke_run, tmp_path):
    """The models section as the page renders it; the copy's manifest asks for it alone (as
    store.write_manifest writes it), since no other section is read here."""
    import shutil

    from vanishlab.sweep import store

    run = Path(shutil.copytree(smoke_run, tmp_path / "run"))
    store.write_manifest(run, {**store.load_manifest(run), "sections": ["models"]})
    path = vl.render_report(run, tmp_path / "gated.html", timestamp="2024-01-01T00:00:00Z")
    html = path.read_text()
    assert 'id="models"' in html
    models = html[html.index('id="models"') :]
    models = models[: models.index("</section>")]
    assert models.count("<svg") == 1  # one figure
    text = _text(models)
    assert "RNN, LSTM and GRU side by side" in text and "Rates and horizons by model" in text
    rows = re.findall(r"<tr>(.*?)</tr>", models, flags=re.S)
    cells = [[_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]
    cells = [c for c in cells if c]
    assert len(cells) == 3 * 8  # rnn (tanh), lstm, gru at each of 8 settings
    for row in cells:
        model = row[0]  # the first column, as in every table
        if model in ("lstm", "gru"):
            assert row[-1] == "— (no theory for gated cells)"
        else:
            assert "mean field" in row[-1]


def test_no_theory_overlay_on_any_gated_panel(smoke_run):
    from vanishlab.report.data import build_report

    report = build_report(
        vl.load_results(smoke_run),
        vl.load_cells(smoke_run),
        vl.load_manifest(smoke_run),
        timestamp="2024-01-01T00:00:00Z",
    )
    gated_panels = rnn_refs = 0
    for section in report.sections:
        for block in section.blocks:
            for panel in getattr(block, "panels", ()):
                refs = [c for c in getattr(panel, "curves", ()) if c.reference]
                title = f"{block.title} {panel.title}"
                if re.search(r"\b(lstm|gru)\b|n/a", title):
                    gated_panels += 1
                    assert not refs, title  # never a gated curve under an RNN theory
                elif "model = rnn" in title:
                    rnn_refs += len(refs)
    assert gated_panels > 0 and rnn_refs > 0  # the RNN panels do get their overlays


def test_mixed_run_draws_no_empty_panel(smoke_run):
    # activation x model does not combine (an LSTM has no activation): only measured settings
    # get a panel, so no "tanh, model = lstm" or "n/a, model = rnn" panel is left empty.
    from vanishlab.report.data import build_report

    report = build_report(
        vl.load_results(smoke_run),
        vl.load_cells(smoke_run),
        vl.load_manifest(smoke_run),
        timestamp="2024-01-01T00:00:00Z",
    )
    line_panels = [
        (block.title, panel)
        for section in report.sections
        for block in section.blocks
        for panel in getattr(block, "panels", ())
        if hasattr(panel, "curves")
    ]
    assert line_panels
    empty = [f"{title}: {panel.title}" for title, panel in line_panels if not panel.curves]
    assert not empty, empty


def test_mixed_run_titles_and_rate_heatmaps_leave_out_what_does_not_apply(smoke_run):
    """A mixed run's panels were titled "n/a, 1 layer, model = lstm", and each rate heatmap
    panel had an empty column: "n/a" in an nn.RNN panel, tanh and relu in a gated one."""
    from vanishlab.report.data import build_report
    from vanishlab.report.model import HeatmapGrid

    report = build_report(
        vl.load_results(smoke_run),
        vl.load_cells(smoke_run),
        vl.load_manifest(smoke_run),
        timestamp="2024-01-01T00:00:00Z",
    )
    blocks = [b for s in report.sections for b in s.blocks]
    titles = [p.title for b in blocks for p in getattr(b, "panels", ())]
    assert titles and not [t for t in titles if "n/a" in t], titles
    heat = [p for b in blocks if isinstance(b, HeatmapGrid) for p in b.panels]
    assert heat
    for panel in heat:  # every row and column of every panel has a measured setting
        assert np.isfinite(panel.values).any(axis=0).all(), (panel.title, panel.col_labels)
        assert np.isfinite(panel.values).any(axis=1).all(), (panel.title, panel.row_labels)
    # Its one activation (tanh, n/a for the gated cells) is no map's axis: that drew one
    # "tanh" or "n/a" column per panel. The models are compared in one map instead, the
    # nn.RNN named with its activation as the legend and titles name it.
    maps = {b.title: b.panels for b in blocks if isinstance(b, HeatmapGrid)}
    assert not [t for t in maps if "activation" in t], list(maps)
    assert {p.col_labels for p in maps["Rate by init and model"]} == {("rnn (tanh)", "lstm", "gru")}


def test_a_run_of_gated_cells_only_does_not_show_activation_as_swept(tmp_path):
    """The overview listed "activation: tanh, relu (2)" as swept, every panel title began
    "n/a, ...", and a rate heatmap had one "n/a" column per panel: no cell has an activation."""
    from vanishlab.report.data import build_report
    from vanishlab.report.model import KeyValues, Table

    # the quick grid's two activations kept under --model lstm,gru (Sweep(model=("lstm",
    # "gru"), activation=("tanh", "relu")) is refused: relu would be dropped)
    grid = Sweep(activation=("tanh", "relu"), num_layers=(1, 2)).replace(model=("lstm", "gru"))
    grid = grid.replace(hidden_size=4, input_size=2, seq_len=5, batch=2, init=("default",))
    run = tmp_path / "run"
    vl.run_sweep(grid, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )
    (overview,) = [s for s in report.sections if s.key == "overview"]
    swept = next(b for b in overview.blocks if isinstance(b, Table) and b.title == "Swept axes")
    assert [row[0] for row in swept.rows] == ["model", "num_layers"]
    fixed = next(b for b in overview.blocks if isinstance(b, KeyValues) and "Fixed" in b.title)
    assert ("activation", "n/a (gated)") in fixed.items
    titles = [
        panel.title
        for section in report.sections
        for block in section.blocks
        for panel in getattr(block, "panels", ())
    ]
    assert titles and not [t for t in titles if "n/a" in t], titles


def test_a_mixed_runs_overview_says_the_activation_is_the_rnns_alone(tmp_path):
    """A run of rnn, lstm and gru at tanh and relu has 4 cells per setting, not the 6 its
    overview's counts multiply to, and the overview listed "activation: tanh, relu (2)" as
    any other axis; at one activation it read "Fixed settings: activation relu" above LSTM
    cells that have none. Both now say the activation is the RNN's alone."""
    from vanishlab.report.data import build_report
    from vanishlab.report.model import KeyValues, Table

    def overview(grid: Sweep, run: Path) -> tuple[Table, KeyValues]:
        vl.run_sweep(grid, run, workers=1, progress=False)
        # The overview (always built) and the one section whose showing it asks of
        # (view.shows): the others cost their share of the build and changed nothing read here.
        report = build_report(
            vl.load_results(run),
            vl.load_cells(run),
            vl.load_manifest(run),
            timestamp="2024-01-01",
            sections=["trainability"],
        )
        (section,) = [s for s in report.sections if s.key == "overview"]
        blocks = section.blocks
        swept = next(b for b in blocks if isinstance(b, Table) and b.title == "Swept axes")
        fixed = next(b for b in blocks if isinstance(b, KeyValues) and "Fixed" in b.title)
        return swept, fixed

    grid = Sweep(model=("rnn", "lstm", "gru"), activation=("tanh", "relu"), init="default")
    grid = grid.replace(hidden_size=4, input_size=2, seq_len=5, batch=2)
    swept, fixed = overview(grid, tmp_path / "mixed")
    assert len(vl.load_cells(tmp_path / "mixed")) == 4
    rows = {row[0]: row for row in swept.rows}
    assert rows["activation"][2:] == ("tanh, relu (rnn only)", "2")
    assert rows["model"][2] == "rnn, lstm, gru"
    swept, fixed = overview(grid.replace(activation="relu"), tmp_path / "relu")
    assert ("activation", "relu (rnn only)") in fixed.items
    # A run of nn.RNN cells alone: nothing to say.
    swept, fixed = overview(grid.replace(model="rnn"), tmp_path / "rnn")
    assert ("tanh, relu", "2") in [row[2:] for row in swept.rows]


def test_one_plus_minus_across_the_tables(tmp_path):
    """The models table's ± was the seeds' population standard deviation, every other
    table's the sample one (sqrt 2 larger with 2 seeds): the same rate read ± 0.022 and
    ± 0.032 on one page."""
    from vanishlab.report.data import build_report
    from vanishlab.report.model import Table

    grid = Sweep(model=("rnn", "gru"), init=("default",), seed=(0, 1), **TINY)
    run = tmp_path / "run"
    vl.run_sweep(grid, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )
    tables = {b.title: b for s in report.sections for b in s.blocks if isinstance(b, Table)}

    def spreads(table: Table) -> set[str]:
        return {m for row in table.rows for c in row for m in re.findall(r"±\s*([0-9.]+)", c)}

    by_model = spreads(tables["Rates and horizons by model"])
    assert by_model and by_model == spreads(tables["Decay rates by setting"])


def _texts(report) -> list[str]:
    """Every caption, label and key/value text of a report."""
    out = []
    for section in report.sections:
        for block in section.blocks:
            out += [getattr(block, name, "") for name in ("caption", "ylabel", "colorbar_label")]
            out += [f"{k}: {v}" for k, v in getattr(block, "items", ())]
    return [t for t in out if t]


# In the slow tier: ~3 s of CPU; make test keeps the mixed run's other captions.
@pytest.mark.slow
def test_a_mixed_runs_captions_name_the_state_a_cell_carries(smoke_run, tmp_path):
    # The decay, rates, depth and theory captions wrote dh_T/dh_{T−k} over LSTM panels whose
    # state is [h | c]; the Pascanu line counted "all 8 measured cells" of a 24-cell run.
    from vanishlab.report.data import build_report

    every = ["overview", "models", "decay", "input", "depth", "rates", "gain", "theory"]
    run = [vl.load_results(smoke_run), vl.load_cells(smoke_run), vl.load_manifest(smoke_run)]
    texts = _texts(build_report(*run, sections=every, timestamp="2024-01-01T00:00:00Z"))
    state = [t for t in texts if "h_T/" in t or "partial h_T" in t]
    assert len(state) >= 6, texts
    for text in state:
        assert "dh_T/dh" not in text and r"\partial h_{" not in text and r"\partial h^" not in text
    assert sum("[h | c] for an LSTM" in t for t in texts) >= 3
    assert any("LSTM and GRU panels have no predicted slope" in t for t in texts)
    assert "Pascanu bound: holds at every lag of all 8 measured nn.RNN cells" in texts

    def report_of(grid: vl.Sweep) -> list[str]:
        out = tmp_path / "_".join(grid.model)
        vl.run_sweep(grid, out, workers=1, progress=False)
        run = [vl.load_results(out), vl.load_cells(out), vl.load_manifest(out)]
        return _texts(build_report(*run, timestamp="2024-01-01T00:00:00Z"))

    # nn.RNN alone keeps h and no word of LSTMs; a GRU carries h too, and is named alone, also
    # beside nn.RNN in the side-by-side section (it spoke of LSTMs and ds there).
    small = vl.Sweep(hidden_size=4, seq_len=6, num_layers=(1, 2), init="default")
    for models in (("rnn",), ("gru",), ("rnn", "gru")):
        texts = report_of(small.replace(model=models))
        assert any("dh_T/dh_{T−k}" in t for t in texts)
        assert any("dh_T/dh^(l)" in t for t in texts)
        assert not any("dh_T/ds" in t or "LSTM" in t for t in texts), texts
        assert any("GRU panels have" in t for t in texts) == ("gru" in models)
        assert any("GRU cells have none" in t for t in texts) == (len(models) > 1)
    # With LSTM cells, the note on s names only the models measured.
    for models, note in (
        (("lstm", "gru"), "s is the state a cell carries: h for GRU, [h | c] for an LSTM."),
        (("rnn", "lstm"), "s is the state a cell carries: h for nn.RNN, [h | c] for an LSTM."),
    ):
        texts = report_of(small.replace(model=models))
        assert sum(note in t for t in texts) >= 3, texts
        assert not any("for nn.RNN and GRU" in t for t in texts)
        side = [t for t in texts if "one line per model" in t and "Measurements only" in t]
        assert side and all(("RNN one per activation" in t) == ("rnn" in models) for t in side)


def test_the_theory_gain_figure_says_its_gated_panels_have_no_prediction(tmp_path):
    """A mixed run over gains: the theory section's 'Measured and predicted rate against gain'
    draws LSTM and GRU panels beside the RNN's, and its caption promised 'the predicted rate
    (dashed ...)' for every panel; unlike the decay curves' caption it never said that the gated
    panels have none, so a reader took the missing dashed line for a missing draw."""
    from vanishlab.report.data import build_report

    out = tmp_path / "run"
    grid = vl.Sweep(
        model=("rnn", "lstm", "gru"), activation="tanh", init="default", gain=(0.5, 1.0),
        hidden_size=4, input_size=2, seq_len=6, num_layers=1, batch=2, seed=0,
    )  # fmt: skip
    vl.run_sweep(grid, out, workers=1, progress=False)
    run = [vl.load_results(out), vl.load_cells(out), vl.load_manifest(out)]
    report = build_report(*run, sections=["theory"], timestamp="2024-01-01T00:00:00Z")
    (figure,) = [
        b
        for s in report.sections
        for b in s.blocks
        if getattr(b, "title", "").startswith("Measured and predicted rate against gain")
    ]
    titles = [p.title for p in figure.panels]
    assert any("lstm" in t for t in titles) and any("gru" in t for t in titles), titles
    assert "LSTM and GRU panels have no prediction" in figure.caption


def test_a_recorded_command_pins_an_axis_the_experiment_sets_otherwise(tmp_path):
    """The README's way to set gate inits beside an RNN: `sweep gated --model lstm,gru --init
    ...`, then `sweep gated --model rnn --force`. The second command was recorded without
    `--model rnn` (rnn is the axis's default, left out as before the axis existed), so the
    page's "Reproduce" ran gated's own rnn, lstm and gru: cells the run never had."""
    runner = CliRunner()
    run, again = tmp_path / "gates", tmp_path / "again"
    for flags in (["--model", "lstm", "--init", "forget_bias"], ["--model", "rnn", "--force"]):
        args = ["sweep", str(EXPERIMENT), "--smoke", "--seq-len", "6", *flags]
        result = runner.invoke(app, [*args, "--out", str(run), "--workers", "1", "--quiet"])
        assert result.exit_code == 0, result.output
    commands = vl.load_manifest(run)["commands"]
    assert len(commands) == 2 and "--model rnn " in commands[1]
    for command in commands:  # replayed in order into a new directory: the same cells
        words = shlex.split(command)[1:]
        words[words.index("--out") + 1] = str(again)
        result = runner.invoke(app, [*words, "--workers", "1", "--quiet"])
        assert result.exit_code == 0, result.output
    assert sorted(vl.load_cells(again)["cell_id"]) == sorted(vl.load_cells(run)["cell_id"])


def test_the_models_figure_gives_each_init_a_column_and_each_setting_a_row(tmp_path):
    """Four inits at two lengths ran on three panels to a row: the second row read "T = 6,
    chrono | T = 12, default | T = 12, orthogonal", and no column was one init, where the
    decay curves give each value of the last axis a column (MAX_COLUMNS = 5)."""
    from vanishlab.report.data import build_report
    from vanishlab.report.model import LineGrid

    inits = ("default", "orthogonal", "forget_bias", "chrono")
    sweep = vl.Sweep(
        model=("lstm", "gru"), init=inits, seq_len=(6, 12), hidden_size=4, input_size=3,
        batch=2, seed=(0,),
    )  # fmt: skip
    run = tmp_path / "run"
    vl.run_sweep(sweep, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )
    section = next(s for s in report.sections if s.key == "models")
    grid = next(b for b in section.blocks if isinstance(b, LineGrid))
    assert (grid.nrows, grid.ncols) == (2, 4)
    for panel in grid.panels:
        assert f"init = {inits[panel.col]}" in panel.title, panel.title
        assert f"T = {(6, 12)[panel.row]}," in panel.title, panel.title
