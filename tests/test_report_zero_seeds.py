"""Settings where some seeds reach an exact zero Jacobian (-inf) and others do not: every page
that averages over the seeds says so, in the same words, where it leaves a seed out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.format import rate_text
from vanishlab.report.model import HeatmapGrid, LineGrid, Table
from vanishlab.report.predicted import setting_notes
from vanishlab.report.sections import rate_heatmaps

STAMP = "2024-01-01T00:00:00Z"
LAGS = np.arange(21)


def _stack_rows(gain: float, seed: int, zero_from: dict[int, int]) -> list[pd.DataFrame]:
    """A 2-layer relu cell's state rows: each layer's log10 norm falls linearly, and is -inf
    from ``zero_from[layer]`` on where given."""
    cell = f"relu-2-{gain}-{seed}"
    parts = []
    for layer in range(2):
        y = (-0.1 - 0.01 * seed - 0.02 * layer) * LAGS.astype(float)
        if layer in zero_from:
            y[zero_from[layer] <= LAGS] = -np.inf
        parts.append(
            pd.DataFrame(
                {
                    "activation": "relu",
                    "num_layers": 2,
                    "init": "normal",
                    "gain": gain,
                    "seed": seed,
                    "cell_id": cell,
                    "source": "state",
                    "layer": pd.array(np.full(LAGS.size, layer), dtype="Int64"),
                    "lag": LAGS,
                    "log10_fro_mean": y,
                    "log10_fro_std": 0.0,
                    "n_zero": np.isneginf(y).astype(np.int64),
                }
            )
        )
    return parts


def depth_run() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """gain 0.5: seed 1's top layer is exactly 0 from lag 5 on, seed 0's never; gain 1.0: both
    seeds' top layers are 0 from lag 15 on (grey), seed 0's from lag 12."""
    zeros = {(0.5, 0): {}, (0.5, 1): {1: 5}, (1.0, 0): {1: 12}, (1.0, 1): {1: 15}}
    parts, cells = [], []
    for (gain, seed), zero_from in zeros.items():
        parts += _stack_rows(gain, seed, zero_from)
        cells.append(
            {"activation": "relu", "num_layers": 2, "init": "normal", "gain": gain, "seed": seed}
            | {"cell_id": f"relu-2-{gain}-{seed}", "status": "ok", "reason": None}
            | {"elapsed_s": 0.1}
        )
    manifest = {
        "name": "zero-seeds",
        "axes": {"activation": ["relu"], "num_layers": [2], "init": ["normal"]}
        | {"gain": [0.5, 1.0], "seed": [0, 1]},
    }
    return pd.concat(parts, ignore_index=True), pd.DataFrame(cells), manifest


@pytest.fixture(scope="module")
def depth():
    results, cells, manifest = depth_run()
    report = build_report(results, cells, manifest, timestamp=STAMP, sections=["depth"])
    return next(s for s in report.sections if s.key == "depth")


def test_depth_map_marks_cells_where_only_some_seeds_are_exact_zeros(depth):
    """A cell where one seed is -inf and the other not showed the other's value, under a
    caption saying grey is an exact zero: nothing told it from a cell of two finite seeds."""
    (grid,) = depth.blocks
    assert isinstance(grid, HeatmapGrid)
    panels = {p.title.split(", ")[-1]: p for p in grid.panels}
    assert set(panels) == {"gain = 0.5", "gain = 1.0"}
    (p05, p10), top, bottom = panels.values(), 0, 1  # the top layer drawn at the top
    assert p05.row_labels == ("1", "0") and p05.partial is not None and p10.partial is not None
    # gain 0.5: seed 1 is 0 from lag 5, seed 0 never: lags 5..20 are seed 0's alone, marked
    assert np.flatnonzero(p05.partial[top]).tolist() == list(range(5, 21))
    assert p05.values[top, 10] == pytest.approx(-0.12 * 10)  # seed 0's value
    # gain 1.0: seed 0 from 12, seed 1 from 15: 12..14 marked, 15 on grey (every seed 0)
    assert np.flatnonzero(p10.partial[top]).tolist() == [12, 13, 14]
    assert np.isneginf(p10.values[top, 15:]).all()
    assert not p05.partial[bottom].any() and not p10.partial[bottom].any()
    assert "grey an exact zero (in every seed)" in grid.caption
    assert "A dot marks a cell where the Jacobian of some seeds, not all, is exactly zero" in (
        grid.caption
    )
    with pinned():
        fig = draw(grid)
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "exact zero (−∞)",
        "some seeds exact zero: the others' mean",
    ]
    # each partial cell dotted once, its dot white or black by its cell (one line of each ink)
    dots = [line for line in fig.axes[0].lines if line.get_marker() == "o"]
    assert 1 <= len(dots) <= 2
    assert sum(len(d.get_xdata()) for d in dots) == int(p05.partial.sum())


# relu at gain 0.5 with H = 8 over T = 30: some seeds reach an exact zero (a sample's units all
# off) and others not, in the rate, the rate via layer 0 and the Lyapunov exponent.
RELU = vl.Sweep(
    activation="relu",
    num_layers=(1, 2),
    init=("orthogonal", "default"),
    gain=(0.5, 1.0),
    seed=(0, 1),
    hidden_size=8,
    input_size=16,
    seq_len=30,
    batch=8,
)


@pytest.fixture(scope="module")
def relu_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("relu") / "run"
    vl.run_sweep(RELU, run, name="relu", workers=1, progress=False)
    return run


def _report(run, sections):
    return build_report(
        vl.load_results(run),
        vl.load_cells(run),
        vl.load_manifest(run),
        timestamp=STAMP,
        sections=sections,
        summary=vl.summarize(run),
    )


def _table(report, title):
    blocks = [b for s in report.sections for b in s.blocks if isinstance(b, Table)]
    return next(b for b in blocks if b.title == title)


def test_theory_table_counts_the_seeds_each_mean_leaves_out(relu_run):
    """The Lyapunov column left a seed at −∞ out of its mean without a word ('relu, 1 layer,
    default, gain 0.5' read −1.793 with seed 1 at −∞), and so did the measured rate and the
    rate via layer 0: each now says '(k of n seeds −∞)', as the rates table does."""
    report = _report(relu_run, ["theory"])
    table = _table(report, "Theory vs measurement by setting")
    summary = vl.summarize(relu_run)
    columns = {
        "rate": "measured rate (top layer)",
        "rate_layer0": "rate via layer 0",
        "lyapunov": "Lyapunov (whole state)",
    }
    counted = 0
    for row in table.rows:
        layers, init, gain = int(row[0]), row[1], float(row[2])
        at = (summary["num_layers"] == layers) & (summary["init"] == init)
        cells = summary[at & (summary["gain"] == gain)]
        for field, column in columns.items():
            values = cells[field].to_numpy(dtype=np.float64)
            k, n = int(np.isneginf(values).sum()), len(values)
            text = row[table.columns.index(column)]
            if 0 < k < n:
                mean = values[np.isfinite(values)].mean()
                assert text == f"{rate_text(mean)} ({k} of {n} seeds −∞)"
                counted += 1
            else:
                assert "seeds −∞" not in text
    assert counted >= 2  # the run has such settings (else this test tests nothing)
    assert "'(k of n seeds −∞)', as in the rate via layer 0 and the Lyapunov" in table.caption


def _identity_run(run, gain: float):
    """relu, identity and normal W_hh at ``gain``, H = 8, T = 30, two seeds (normal: a
    prediction, so that the theory table is drawn)."""
    sweep = vl.Sweep(
        activation="relu",
        init=("identity", "normal"),
        gain=gain,
        seed=(0, 1),
        hidden_size=8,
        input_size=16,
        seq_len=30,
        batch=8,
    )
    vl.run_sweep(sweep, run, name=run.name, workers=1, progress=False)
    return run


def test_seeds_cut_at_different_lags_name_the_earliest_in_both_tables(tmp_path):
    """The IRNN (relu, identity, gain 1) at H = 8, T = 30: both seeds exactly 0 inside the
    window, from lags 21 and 23. The rates table read '(2 of 2 seeds exactly 0 from lag 21)',
    as if both were 0 from lag 21, and the theory notes showed the first seed's lag ('first
    shown'), which need not be the earliest: both now name the earliest and say so."""
    run = _identity_run(tmp_path / "irnn", gain=1.0)
    summary = vl.summarize(run)
    notes = summary.loc[summary["init"] == "identity", "note"]
    zero_lags = sorted(int(z) for z in notes.str.extract(r"from lag (\d+)")[0])
    assert zero_lags == [21, 23]  # the setting this test is about
    report = _report(run, ["rates", "theory"])
    rates = _table(report, "Decay rates by setting")
    row = next(r for r in rates.rows if r[0] == "identity")
    assert row[rates.columns.index("rate (ln/step)")].endswith(
        "(2 of 2 seeds exactly 0, the earliest from lag 21)"
    )
    assert "from which lag: the earliest, where seeds differ" in rates.caption
    theory = _table(report, "Theory vs measurement by setting")
    row = next(r for r in theory.rows if r[0] == "identity")
    assert (
        "Fit: exact zero Jacobian from lag 21 on; rate fitted before it (2 of 2 seeds, the "
        "earliest shown)." in row[theory.columns.index("notes")]
    )


def test_notes_alike_but_for_their_numbers_show_the_earliest():
    """The sentence shown for seeds whose notes differ only in their lags was the first seed's,
    called 'first shown': with the later lag first, another table's earliest lag disagreed."""
    cells = pd.DataFrame(
        {
            "status": ["ok", "ok", "ok"],
            "note": [
                "Fit: exact zero Jacobian from lag 23 on; rate fitted before it.",
                "Fit: exact zero Jacobian from lag 21 on; rate fitted before it.",
                "Fit: exact zero Jacobian from lag 9 on: vanishes completely.",
            ],
        }
    )
    assert setting_notes(cells) == (
        "Fit: exact zero Jacobian from lag 21 on; rate fitted before it (2 of 3 seeds, the "
        "earliest shown). Fit: exact zero Jacobian from lag 9 on: vanishes completely (1 of 3 "
        "seeds)."
    )


def test_phase_diagrams_say_which_seeds_their_triangles_mark(relu_run):
    """The gain diagram's caption said its triangles mark seeds with 'an exact zero in the fit
    window (rate −∞)', but a seed exactly zero later in the window keeps a finite rate and
    gets no triangle; and the theory section's diagram drew the same triangles unexplained."""
    report = _report(relu_run, ["gain", "theory"])
    fits = vl.summarize(relu_run)
    cut = fits[np.isfinite(fits["rate"]) & fits["note"].str.contains("rate fitted before it")]
    assert len(cut)  # seeds with a zero in the window and a finite rate: no triangle
    grids = [b for s in report.sections for b in s.blocks if isinstance(b, LineGrid)]
    assert {g.title.split(" (")[0] for g in grids} == {
        "Gain phase diagram",
        "Measured and predicted rate against gain",
    }
    for grid in grids:
        floors = [c for p in grid.panels for c in p.curves if len(c.floor_x)]
        assert floors  # relu, 2 layers, orthogonal, gain 0.5 has a seed at −∞
        assert (
            "Triangles on the floor mark gains where some seed has a rate of −∞ (a Jacobian "
            "exactly zero with fewer than two lags of the fit window before the zero; a seed "
            "exactly zero later in the window keeps the rate fitted before it, and is in the "
            "mean); the point is the mean of the other seeds." in grid.caption
        )
        assert "exact zero in the fit window (rate −∞)" not in grid.caption
    # The rate maps' dagger: the same seeds, the same words.
    report = _report(relu_run, ["rates"])
    (grid,) = [b for s in report.sections for b in s.blocks if isinstance(b, HeatmapGrid)]
    texts = [t for p in grid.panels for row in p.text for t in row]
    assert any("†" in t for t in texts)
    assert (
        "† marks a mean over only some seeds: the others have a rate of −∞ (a Jacobian exactly "
        "zero with fewer than two lags" in grid.caption
    )


def test_phase_diagrams_say_what_their_marks_mean_before_the_failed_cells(relu_run):
    """The triangles' sentence came after the failed cells' closing note."""
    results, cells = vl.load_results(relu_run), vl.load_cells(relu_run)
    failed = cells["cell_id"].iloc[-1]
    cells.loc[cells["cell_id"] == failed, ["status", "reason"]] = ["failed", "an error"]
    results = results[results["cell_id"] != failed]
    report = build_report(
        results, cells, vl.load_manifest(relu_run), timestamp=STAMP, sections=["gain", "theory"]
    )
    grids = [b for s in report.sections for b in s.blocks if isinstance(b, LineGrid)]
    assert len(grids) == 2
    for grid in grids:
        marks, failed_at = grid.caption.index("Triangles on the floor"), grid.caption.index("fail")
        assert marks < failed_at, grid.caption
        assert grid.caption.endswith("the others are means over the seeds measured.")


def test_a_setting_with_no_finite_rate_shows_no_fit_lags(tmp_path):
    """relu with W_hh = 0.5 I: every sample's Jacobian is exactly 0 within a few lags, so no
    seed has a rate to fit (−∞, r² —), yet the rates table gave it the window's lags, '8–30',
    as if a fit had run there (the demo's 'relu, 1 layer, identity, 0.5' row read '25–100')."""
    run = _identity_run(tmp_path / "run", gain=0.5)
    rates = _table(_report(run, ["rates"]), "Decay rates by setting")
    lags = rates.columns.index("fit lags")
    identity, normal = (
        next(r for r in rates.rows if r[0] == init) for init in ("identity", "normal")
    )
    assert identity[rates.columns.index("rate (ln/step)")] == "−∞"  # the setting of this test
    assert identity[lags] == "—"
    assert normal[lags] == "8\u2060–\u206030"
    assert "— where no seed has a finite rate" in rates.caption


def test_each_part_of_a_rate_map_explains_only_the_marks_it_shows(relu_run, monkeypatch):
    """A rate map of many panels is drawn in parts; every part's caption said what † and ‡
    mean when any part showed them (a 24-panel map's first part, without a mark, explained
    ‡). One panel to a part here: the 1-layer part shows no †, the 2-layer part does."""
    monkeypatch.setattr(rate_heatmaps, "PANELS_PER_FIGURE", 1)
    report = _report(relu_run, ["rates"])
    grids = [b for s in report.sections for b in s.blocks if isinstance(b, HeatmapGrid)]
    shown = {
        mark: [any(mark in t for p in g.panels for row in p.text for t in row) for g in grids]
        for mark in "†‡"
    }
    assert len(grids) == 2 and shown["†"] == [False, True], shown
    for n, grid in enumerate(grids):
        for mark in "†‡":
            assert (f" {mark} marks " in grid.caption) == shown[mark][n], (mark, grid.caption)


def test_a_phase_diagram_of_one_seed_has_no_other_seeds_to_average(tmp_path):
    """Of one seed (a smoke run), the triangles' sentence said "some seed has a rate of −∞ ...;
    the point is the mean of the other seeds": there are none, and no point is drawn. It still
    said what a rate of −∞ is as of many seeds: "a seed exactly zero later in the window ...
    is in the mean" (layout.minus_inf_rate)."""
    sweep = vl.Sweep(
        activation="relu",
        init="identity",
        gain=(0.5, 1.0),
        seed=0,
        hidden_size=8,
        input_size=16,
        seq_len=30,
        batch=8,
    )
    run = tmp_path / "one"
    vl.run_sweep(sweep, run, name="one", workers=1, progress=False)
    blocks = [b for s in _report(run, ["gain"]).sections for b in s.blocks]
    (grid,) = [b for b in blocks if isinstance(b, LineGrid)]
    assert [c for p in grid.panels for c in p.curves if len(c.floor_x)]  # the premise
    assert "Triangles on the floor mark gains where the seed has a rate of −∞ (" in grid.caption
    assert "; no point is drawn there." in grid.caption
    assert "some seed" not in grid.caption and "other seeds" not in grid.caption
    assert (
        "where the seed has a rate of −∞ (a Jacobian exactly zero with fewer than two lags of the "
        "fit window before the zero; one exactly zero later in the window keeps the rate fitted "
        "before it); no point is drawn there." in grid.caption
    )
    assert "a seed" not in grid.caption and "in the mean" not in grid.caption


def test_a_phase_diagram_says_a_triangle_with_no_point_above_it(tmp_path):
    """Its caption read "the point is the mean of the other seeds" beside a gain where every
    seed's rate is −∞ (the demo's relu IRNN at g = 0.5, figures 6 and 7): no point is drawn
    there, and there are no other seeds."""
    out = tmp_path / "irnn"
    grid = vl.Sweep(
        activation="relu",
        init=("identity", "normal"),
        gain=(0.5, 1.0),
        hidden_size=4,
        input_size=2,
        seq_len=30,
        batch=2,
        seed=(0, 1),
    )
    vl.run_sweep(grid, out, workers=1, progress=False)
    report = _report(out, ["gain"])
    (figure,) = [b for s in report.sections for b in s.blocks if isinstance(b, LineGrid)]
    curves = [c for p in figure.panels for c in p.curves if not c.reference]
    # identity at g = 0.5: a triangle, no point (both seeds at −∞)
    assert any((np.isin(c.x, c.floor_x) & ~np.isfinite(c.y)).any() for c in curves)
    assert (
        "the point is the mean of the other seeds; a triangle with no point above it: no seed "
        "has a finite rate there." in figure.caption
    ), figure.caption
