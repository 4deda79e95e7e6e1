"""Mutation review of the changes since e9e7cfd (session 49): each test here failed on a small
plausible change of the code it names (a constant, a comparison, an argument or a branch
changed or dropped) that passed every other fast test, and passes on the code as it is."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from test_report_depth_layout import LAGS, _dense, _drawn
from test_report_heatmap_parts import _grid
from test_report_legibility import FOLDED, _band_heights_pt, _repeating

import vanishlab as vl
from vanishlab.analysis.fits import PHASE_TOLERANCE
from vanishlab.core import spectral
from vanishlab.core.spectral import SpectralNorms
from vanishlab.errors import VanishlabError
from vanishlab.report import build_report
from vanishlab.report.figure_layout import panel_rows, pinned
from vanishlab.report.figure_text import (
    ROW_LABEL_W,
    TICK_SIZE,
    _differing,
    _filled,
    _middle,
    _varying,
    label_key,
    row_label,
    row_labels,
    text_width,
)
from vanishlab.report.figures import _band_half, draw
from vanishlab.report.heatmaps import _LABEL_LINE_H
from vanishlab.report.line_style import BAND_MIN_PT
from vanishlab.report.model import Curve, HeatmapGrid, HeatPanel, LineGrid, LinePanel
from vanishlab.sweep.experiments import load_experiment
from vanishlab.sweep.flag_text import parse_number
from vanishlab.sweep.memory import _flush_bytes, cell_bytes, measure_bytes

# --- core/spectral.queue_bytes, _for_device; core/queue_sizes ---


def test_a_cpu_device_on_a_cuda_machine_gets_the_floor_without_asking_a_card(monkeypatch):
    """queue_bytes asks a card's memory for a CUDA device only: on a machine with CUDA, a CPU
    tensor's queue was sized by torch.cuda.get_device_properties(cpu), which raises."""

    def props(device):
        if torch.device(device).type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        return type("Props", (), {"total_memory": 1000 * 2**30})()

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_properties", props)
    assert spectral.queue_bytes(torch.device("cpu")) == spectral.GPU_QUEUE_BYTES
    assert spectral.queue_bytes(torch.device("cuda")) == spectral.GPU_QUEUE_MAX_BYTES
    s = SpectralNorms()
    s._for_device(torch.Size((8, 64, 64)), torch.float32, torch.device("cpu"))
    assert s.chunk == spectral.CPU_CHUNK == 16


@pytest.mark.parametrize(
    ("shape", "gram"),
    [
        ((2, 16, 16), True),  # a side of GRAM_SMALL
        ((2, 17, 17), False),
        ((2, 64, 32), True),  # a tall side of GRAM_SIDE, the other twice as long
        ((2, 63, 32), False),
        ((2, 66, 33), False),
        ((2, 17, 40), True),
    ],
)
def test_the_sides_that_take_gram_matrices_on_a_cpu(shape, gram):
    """Gram matrices need no warm start, so their first chunk is a full CPU_CHUNK (16 lags);
    iterated ones start with a short one. GRAM_SMALL = 16 and GRAM_SIDE = 32 are where the
    timings of queue_sizes' comment put the switch, and the memory estimate counts them."""
    s = SpectralNorms()
    s._for_device(torch.Size(shape), torch.float32, torch.device("cpu"))
    full = s._full_at(torch.Size(shape))
    assert (full == 16) is gram, full


# --- sweep/flag_text.parse_number ---


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("-1e400", "beyond a float's range"),  # -inf, as 1e400 is inf
        ("1.75e308", None),  # finite, under the largest float (1.797e308)
        ("-1e-400", "closer to 0 than a float holds"),
        ("0E-400", None),  # a zero with a capital E: its exponent's digits are no digits of it
        ("1E-400", "closer to 0 than a float holds"),
        ("-inf", None),  # the word, as typed
        ("+Infinity", None),
    ],
)
def test_parse_number_at_a_floats_edges_with_signs_and_capitals(text, why):
    if why is None:
        assert parse_number("--gain", text, float) == float(text)
    else:
        with pytest.raises(VanishlabError, match=why):
            parse_number("--gain", text, float)


# --- sweep/experiments.load_experiment ---


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("SWEEP = {}\n", "(its SWEEP is a dict)"),  # empty, not None
        ("SWEEP = 0\n", "(its SWEEP is an int)"),
        ("SWEEP = object()\n", "(its SWEEP is an object)"),
        ("SWEEP = (1,)\n", "(its SWEEP is a tuple)"),
        ("SWEEP = None\n", "(its SWEEP is None)"),
        ("", "(it defines no SWEEP)"),
    ],
)
def test_a_falsy_sweep_is_named_by_its_type(tmp_path, source, said):
    module = tmp_path / "falsy_sweep.py"
    module.write_text(f'"""Falsy."""\n{source}')
    with pytest.raises(VanishlabError) as err:
        load_experiment(module)
    assert str(err.value).endswith(f"must define SWEEP = vanishlab.Sweep(...) {said}")


# --- sweep/memory.measure_bytes, _rnn_bytes, _flush_bytes ---


def _flush(B: int, m: int, n: int, s: int) -> int:
    """The module docstring's work space of one chunk: float64 Gram matrices of a side of at
    most 16, or a tall side of at most 32 (16 (2 m n + 3 k^2) B 8), else block power iteration's
    16 (0.625 m n + 25 max(m, n)) B s."""
    k, other = min(m, n), max(m, n)
    if k <= 16 or (k <= 32 and other >= 2 * k):
        return 16 * (2 * m * n + 3 * k * k) * B * 8
    return int((0.625 * 16 * B * m * n + 25 * 16 * B * other) * s)


def _rnn_estimate(T: int, L: int, B: int, H: int, I: int, s: int, act: str = "tanh") -> int:
    """measure_bytes of an nn.RNN as the module docstring counts it, from its own numbers: a
    relu's forward phase one number a step, sample and unit fewer; the norms 10 float64 numbers a
    lag, layer and sample whatever the activation."""
    relu = act == "relu"
    forward = (((5 * L + 1) if relu else (5 * L + 3)) * (T + 1) * B * H // 2 + T * B * I) * s
    backward = (
        (L * (T + 1) * B * H + T * B * I) * s
        + 16 * (L * B * H * H + B * H * I) * s
        + (3 * B * H * H + B * H * I) * s
        + max(_flush(B, H, H, s), _flush(B, H, I, s))
    )
    weights = L * (H * H + H * max(H, I)) * s
    norms = 10 * (T + 1) * (L + 1) * B * 8
    return int((max(forward, backward) + weights + norms) * 1.5)


@pytest.mark.parametrize(
    ("T", "L", "B", "H", "I", "dtype"),
    [
        (4096, 1, 256, 4, 16, "float32"),  # the forward phase
        (4096, 4, 8, 32, 16, "float32"),  # a long narrow stack: the forward phase
        (256, 1, 64, 128, 16, "float32"),  # the queues: power iteration
        (30, 1, 256, 16, 16, "float32"),  # Gram matrices, a side of 16
        (30, 1, 8, 17, 8, "float32"),  # a side of 17 iterates; its input Gram
        (50, 2, 8, 64, 32, "float32"),  # a tall input of side 32: Gram, larger than the state's
        (50, 2, 8, 66, 33, "float32"),  # side 33: iterated
        (20, 1, 8, 40, 100, "float32"),  # a wide input, iterated: its longer side counts
        (64, 3, 16, 64, 16, "float64"),
    ],
)
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_the_rnn_estimate_is_the_docstrings_count(T, L, B, H, I, dtype, act):
    s = 8 if dtype == "float64" else 4
    sizes = dict(seq_len=T, num_layers=L, batch=B, hidden_size=H, input_size=I, dtype=dtype)
    assert measure_bytes(**sizes, activation=act) == _rnn_estimate(T, L, B, H, I, s, act)
    if act == "tanh":  # the default: the larger forward phase, for a module of unknown activation
        assert measure_bytes(**sizes) == _rnn_estimate(T, L, B, H, I, s)


@pytest.mark.parametrize(
    ("m", "n", "s", "want"),
    [
        (16, 16, 4, 16 * (512 + 768) * 8 * 8),
        (17, 17, 4, int((0.625 * 16 * 8 * 289 + 25 * 16 * 8 * 17) * 4)),
        (64, 32, 4, 16 * (4096 + 3 * 1024) * 8 * 8),
        (32, 64, 8, 16 * (4096 + 3 * 1024) * 8 * 8),  # float64 or not: Gram matrices are
        (40, 100, 4, int((0.625 * 16 * 8 * 4000 + 25 * 16 * 8 * 100) * 4)),
    ],
)
def test_a_chunks_work_space(m, n, s, want):
    assert _flush_bytes(8, m, n, s) == want


@pytest.mark.parametrize(
    ("T", "H", "B", "L", "act", "dtype", "lo_mib", "hi_mib"),
    [  # the resident peaks tests/test_memory_estimate.py measured (slow tier), in MiB
        (256, 128, 64, 1, "tanh", "float32", 149, 165),  # 10 runs on 2026-12-07, as below
        (30, 64, 256, 4, "tanh", "float32", 420, 445),
        (30, 16, 256, 1, "tanh", "float32", 42, 63),  # 40 runs: 1.03x before the Gram copy
        (4096, 64, 64, 1, "relu", "float32", 227, 230),  # 1.92-1.95x before
        (2048, 2, 256, 1, "relu", "float32", 147, 163),  # 0.92x before; 30 runs
        (4096, 4, 256, 1, "relu", "float32", 293, 317),
        (2048, 64, 64, 1, "relu", "float64", 260, 261),  # 1.64x before
        (2048, 64, 64, 1, "tanh", "float64", 305, 306),
        (2048, 2, 256, 1, "tanh", "float32", 136, 163),  # 1.00-1.04x, then 1.03x; 42 runs
    ],
)
def test_the_rnn_estimate_stays_in_the_measured_band(T, H, B, L, act, dtype, lo_mib, hi_mib):
    """Fast stand-ins of the slow tier's peaks: at least 1.05x the highest measured peak, at
    most 1.7x the lowest or 1.25x the highest, whichever is more (a small cell's peaks spread up
    to 1.5x with the heap: 42-63 MiB over 40 runs of the Gram cell)."""
    cfg = vl.CellConfig(
        seq_len=T, hidden_size=H, batch=B, num_layers=L, activation=act, dtype=dtype
    )
    need = cell_bytes(cfg) / 2**20
    assert 1.05 * hi_mib <= need <= max(1.7 * lo_mib, 1.25 * hi_mib), need


@pytest.mark.parametrize(("model", "want"), [("gru", 15), ("lstm", 20)])
def test_a_gated_queue_counts_its_input_stream_twice(model, want):
    """A gated cell's queue: 16 lags of its state rows, and 2 x 16 of its input stream (a queue
    and its power-iteration space), beside its working matrices."""
    T, L, B, H, I = 10, 1, 8, 32, 64
    G = {"gru": 3, "lstm": 4}[model]
    forward = 28 * (T + 1) * B * H + T * B * I
    rows = (2 if model == "lstm" else 1) * B * H * H
    spectral_ = 16 * rows + 2 * 16 * B * H * I
    weights = G * (H * H + H * max(H, I))
    live = (forward + want * B * H * H + spectral_ + weights) * 4 + 6 * (T + 1) * 2 * B * 8
    got = measure_bytes(
        seq_len=T, num_layers=L, batch=B, hidden_size=H, input_size=I, dtype="float32",
        model=model,
    )  # fmt: skip
    assert got == int(live * 1.5)


# --- report/figure_text._filled: a value beside its name ---


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # no "_", "-" or "." in the room's second half: the value is cut where the room ends
        # ("init =" ended a line, the value whole on the next)
        ("init = abcdefghijklmnopq", "init = abcdefghijklm\nnopq"),
        # a word after a word that is no name ("... =") starts a line whole too
        ("xx yy abcdefgh_ijklmnop", "xx yy\nabcdefgh_ijklmnop"),
        # a value that breaks cleanly after a "_" stays beside its name
        ("init = abcdefgh_ijklmnop", "init = abcdefgh_\nijklmnop"),
    ],
)
def test_a_value_stays_beside_its_name_broken_cleanly_where_it_can(text, want):
    assert _filled(text, 20) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # the room is the line's less the space before the word: a "_" one past it is not in it
        ("init = abcdefghijklm_nop", "init = abcdefghijklm\n_nop"),
        # a room of exactly half a line still holds the value's first part
        ("ab init = abcdef_ghijkl", "ab init = abcdef_\nghijkl"),
    ],
)
def test_a_value_beside_its_name_at_the_rooms_edges(text, want):
    assert _filled(text, 20) == want


# --- report/figure_text.row_label, _tail, row_labels ---

_CHARS = int(ROW_LABEL_W / text_width("x", TICK_SIZE))


def _fits(label: str) -> bool:
    return all(text_width(line, TICK_SIZE) <= ROW_LABEL_W for line in label.split("\n"))


def test_a_shortened_labels_first_lines_keep_its_settings_whole():
    """Broken as a title is ("input" / "std = 0.5" broke a setting at any space)."""
    text = FOLDED.format("alpha", "0.5", 1)
    assert row_label(text) == (
        "model = lstm, hidden = 64, T = 100,\ninput std = 0.5, bias, float32,\n"
        "… gain = 0.5, task = adding, lr = 0.01, l = 1",
        True,
    )


def test_a_shortened_labels_end_fits_its_line_and_starts_at_a_word():
    """ "… " and the end together fit the label's width; without a setting's start (", ") in
    it, the end starts at a word's."""
    unbroken = "a " * 40 + "x" * 100
    label, cut = row_label(unbroken)
    assert cut and _fits(label), label
    assert label.split("\n")[-1] == "… " + "x" * (_CHARS - 2)
    words = " ".join(f"w{i:03d}" for i in range(80))
    end = row_label(words)[0].split("\n")[-1]
    assert end.startswith("… w") and set(end[2:].split(" ")) <= set(words.split(" ")), end


def test_told_apart_labels_still_fit_their_width():
    """Labels drawn alike that differ in many settings: their middle line, cut to where each
    differs, fits the label's width with its "… " (so do all their lines)."""
    base = [f"k{i} = {i}" for i in range(40)]
    a = ", ".join(base[:14] + [f"k{i} = a{i}" for i in range(14, 24)] + base[24:])
    b = ", ".join(base[:14] + [f"k{i} = b{i}" for i in range(14, 24)] + base[24:])
    assert row_label(a)[0] == row_label(b)[0]
    drawn = row_labels([a, b])
    assert drawn[a] != drawn[b], drawn
    assert all(_fits(label) for label in drawn.values()), drawn


def test_every_group_of_labels_alike_is_numbered():
    """Two groups of labels whose differing parts read alike: each group numbered 1, 2 (only
    the first group was, the second's stayed alike)."""
    rows = (
        _repeating(39, i20="r", i30="q = 2"),
        _repeating(39, i20="r", i23="q = 2", i31="q = 2"),
        _repeating(38, i19="q = 2"),
    )
    others = tuple(r.replace("q = 0", "p = 0", 1) for r in rows)
    drawn = row_labels(rows + others)
    assert len(set(drawn.values())) == 6, drawn
    assert [label_key(drawn[t]) for t in rows + others] == ["", "[1] ", "[2] "] * 2


@pytest.mark.parametrize(
    ("drawn", "key"),
    [
        ("… q = 0, l = 1 [12]", "[12] "),  # a figure of more than nine alike
        ("… q = 0, l = 1 [3]", "[3] "),
        ("… dims = [3], l = 1", ""),  # a value in brackets, not the number at the end
        ("… l = 1", ""),
    ],
)
def test_the_captions_key_is_the_number_at_a_labels_end(drawn, key):
    assert label_key(drawn) == key


def test_values_that_differ_by_a_repeated_part_are_told_apart():
    """ "…twice_twice…" and "…twice…": the parts they share at the start and the end
    overlap in the shorter; each still shows a part of its own (both read "init = ……")."""
    group = [
        "model = rnn, init = scaled_twice_twice_weights, l = 1",
        "model = rnn, init = scaled_twice_weights, l = 1",
    ]
    pieces = _varying(group)
    assert len(set(pieces.values())) == 2, pieces
    assert all(p.strip("…").removeprefix("init = ").strip("…") for p in pieces.values()), pieces


def test_a_value_of_twelve_characters_is_shown_whole():
    """_WHOLE_VALUE = 12: a value of 12 characters whole, of 13 cut to where it differs."""
    pre = len("init = abcde_")
    assert _differing("init = abcde_fghijk", pre, 0) == "init = abcde_fghijk"
    assert _differing("init = abcde_fghijkl", pre, 0) == "init = …fghijkl"


def test_a_value_that_differs_from_its_start_has_no_leading_ellipsis():
    assert _differing("init = alpha_long_name", len("init = "), 0) == "init = alpha_long_name"


def test_a_label_that_starts_another_shows_its_own_last_setting():
    """Of "q = 0" x 38 and x 39 (drawn alike), the shorter differs from the longer at its
    end: its middle line is its last setting, not empty."""
    short, long = _repeating(38), _repeating(39)
    drawn = row_labels([short, long])
    assert drawn[short].split("\n")[1] == "… q = 0", drawn
    assert drawn[long].split("\n")[1] == "… q = 0, q = 0", drawn


# --- report/heatmaps._dense_height ---


def test_rows_of_three_line_labels_are_as_tall_as_their_lines():
    """A dense panel's rows of three-line labels (shortened, told apart) are 3 lines tall,
    not the 0.32 in of a one-line row."""
    rows = tuple(FOLDED.format("alpha", gain, 0) for gain in ("0.5", "2.0"))
    panel = HeatPanel("t", rows, LAGS, -np.ones((2, len(LAGS))))
    _, heights, _ = _drawn(HeatmapGrid("D", "c", (panel,), 1, "lag", "l", "x", dense=True))
    assert heights == [pytest.approx(2 * (3 * _LABEL_LINE_H + 0.02))]


def test_a_group_of_one_row_is_as_tall_as_its_labels_lines():
    """A group's label of two lines beside a single row makes that row two lines tall (it
    ran into the next group's)."""
    groups = tuple(
        f"model = lstm, T = {t}, gain = 0.5, input std = 1.0, hidden = 64, bias" for t in (20, 40)
    )
    assert all(row_label(g)[0].count("\n") == 1 for g in groups)
    panel = HeatPanel(
        "t", ("0", "0"), LAGS, -np.ones((2, len(LAGS))), separators=(1,), row_groups=groups
    )
    _, heights, _ = _drawn(HeatmapGrid("D", "c", (panel,), 1, "lag", "l", "x", dense=True))
    assert heights == [pytest.approx(2 * (2 * _LABEL_LINE_H + 0.02))]


# --- report/figure_text._middle ---


def test_the_middle_line_holds_the_character_where_labels_differ():
    """A line that ends just before that character does not hold it: the next start is
    taken ('init = uniform_' ends where 'variance' begins)."""
    text = "abc, k = 1, a_b_c_d, init = uniform_variance_scaled, abc, long-name.x"
    assert text[36] == "v"
    assert _middle(text, 36, 15) == "variance_"


def test_the_middle_line_starts_at_a_setting_without_its_space():
    assert _middle("gain = 0.5, a_b_c_d", 17, 15) == "a_b_c_d"


# --- report/figures: the stable band ---


def _band_grid(ys: tuple[float, float, float], log_y: bool = False) -> LineGrid:
    x = np.array([0.5, 1.0, 2.0])
    curve = Curve("a", 0, x, np.array(ys))
    return LineGrid(
        "t", "c", 1, 1, (LinePanel(0, 0, "p", (curve,)),), "gain g", "rate", "init", ("a",),
        markers=True, zero_line=not log_y, stable_band=PHASE_TOLERANCE, log_y=log_y,
    )  # fmt: skip


def test_the_stable_band_on_a_tall_axis_is_drawn_the_least_height():
    """BAND_MIN_PT = 6 points tall about 0, not twice that, where to scale it is thinner."""
    with pinned():
        fig = draw(_band_grid((-2.0, 0.0, 2.0)))
        (height,) = _band_heights_pt(fig)
        lo, hi = (
            fig.axes[0].patches[0].get_window_extent().y0,
            fig.axes[0].patches[0].get_window_extent().y1,
        )
        zero = fig.axes[0].transData.transform((0.0, 0.0))[1]
    assert height == pytest.approx(BAND_MIN_PT, rel=1e-6)
    assert (lo + hi) / 2 == pytest.approx(zero, abs=1e-6)  # about its centre, 0


def test_the_band_half_height_is_the_tolerance_at_least():
    assert _band_half(0.01, (-0.03, 0.03), 1.7) == 0.01
    assert _band_half(0.01, (-2.0, 2.0), 1.7) == pytest.approx(3.0 * 4.0 / (72 * 1.7))
    assert _band_half(0.01, (1.0, 1.0), 1.7) == 0.01


def test_the_band_of_a_log_axis_is_drawn_to_scale():
    """The least height is reckoned in data units, which a log axis does not have: its band
    still ends at the tolerance (widened, it covered the panel)."""
    with pinned():
        fig = draw(_band_grid((1e-3, 1.0, 1e3), log_y=True))
        ax = fig.axes[0]
        (band,) = ax.patches
        top = ax.transData.inverted().transform((0.0, band.get_window_extent().y1))[1]
    assert top == pytest.approx(PHASE_TOLERANCE, rel=1e-6)


def test_a_figure_of_no_panels_has_no_band_in_a_legend():
    grid = replace(_band_grid((-1.0, 0.0, 1.0)), panels=())
    with pinned():
        fig = draw(grid)
    assert not [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_the_band_half_height_of_an_unbounded_axis_is_the_tolerance():
    assert _band_half(0.01, (0.0, math.inf), 1.7) == 0.01


# --- report/heatmaps.draw_heatmaps, figure_layout.panel_rows: rows of a dense grid ---

# 19 settings: three lines in a dense panel, four in a two-cell one (as measured; 14 did at
# 0.6 em a character)
_LONG_TITLE = ", ".join(f"{k} = {i}" for i, k in enumerate("abcdefghijklmnopqrs", 1))


def _extents(grid: HeatmapGrid) -> tuple[object, list[tuple[float, float]]]:
    """The figure and each panel's (bottom, top) in inches, in order."""
    with pinned():
        fig = draw(grid)
    height = float(fig.get_size_inches()[1])
    maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    return fig, [(ax.get_position().y0 * height, ax.get_position().y1 * height) for ax in maps]


@pytest.mark.parametrize("before", [0, 1])
def test_each_row_of_a_dense_grid_has_room_for_its_own_titles(before):
    """The gap above a row of panels is 0.4 in and its own titles' lines (0.17 in each, and
    0.08): a title of three lines under rows of one-line titles, with 0 or 1 such rows
    before it."""
    titles = ["a"] * (before + 1) + [_LONG_TITLE]
    grid = HeatmapGrid(
        "D", "c", tuple(_dense(t, 2) for t in titles), 1, "lag", "l", "x", dense=True
    )
    fig, spans = _extents(grid)
    assert [a.get_title(loc="left").count("\n") for a in fig.axes if a.get_visible()][
        len(titles) - 1
    ] == 2
    gaps = [above[0] - below[1] for above, below in itertools.pairwise(spans)]
    want = [0.4 + 0.17 + 0.08] * before + [0.4 + 0.17 * 3 + 0.08]
    assert gaps == pytest.approx(want, abs=1e-9)


def test_panels_of_a_row_keep_their_own_heights_and_the_next_row_clears_the_tallest():
    panels = (_dense("a", 2), _dense("b", 24), _dense("c", 24), _dense("d", 2))
    fig, spans = _extents(HeatmapGrid("D", "c", panels, 2, "lag", "l", "x", dense=True))
    heights = [top - bottom for bottom, top in spans]
    height = float(fig.get_size_inches()[1])
    assert height - spans[0][1] == pytest.approx(0.17 + 0.08 + 0.12)  # the first row's titles
    assert heights == pytest.approx([0.64, 7.68, 7.68, 0.64])
    assert spans[0][1] == pytest.approx(spans[1][1]) and spans[2][1] == pytest.approx(spans[3][1])
    assert spans[1][0] - spans[2][1] == pytest.approx(0.4 + 0.17 + 0.08)


def test_the_colour_bar_label_runs_along_a_bar_as_tall_as_rows_and_gaps():
    """The bar spans both rows of panels and the gap between them (1.74 in): a label of
    1.68 in runs along it (the rows alone, 1.15 in, put it above as a title)."""
    label = "log10 norm of jacobian"
    panels = (_dense("a", 2), _dense("b", 2))
    fig, _ = _extents(HeatmapGrid("D", "c", panels, 1, "lag", "l", label, dense=True))
    assert any(ax.get_ylabel() == label for ax in fig.axes)


def test_a_group_label_stands_beside_the_middle_of_its_rows():
    groups = ("model = lstm", "model = gru")
    panel = _dense("t", 6, separators=(4,), row_groups=groups)
    with pinned():
        fig = draw(HeatmapGrid("D", "c", (panel,), 1, "lag", "l", "x", dense=True))
    ax = next(a for a in fig.axes if a.get_visible() and a.texts)
    assert [(t.get_text(), t.get_position()[1]) for t in ax.texts if t.get_text() != "l"] == [
        ("model = lstm", 1.5),
        ("model = gru", 4.5),
    ]


def test_a_cell_grids_rows_each_have_room_for_the_most_title_lines():
    """A cell grid (not dense) keeps one title room for every row, the most any row's titles
    take (4 lines here: 0.17 x 4 + 0.08 in), above its first row as above the second."""
    grid = _grid("rnn", ("tanh", "relu"))
    titles = ["a"] * 3 + [_LONG_TITLE] * 3
    grid = replace(
        grid, panels=tuple(replace(p, title=t) for p, t in zip(grid.panels, titles, strict=True))
    )
    fig, spans = _extents(grid)
    height = float(fig.get_size_inches()[1])
    room = 0.17 * 4 + 0.08
    assert height - spans[0][1] == pytest.approx(room + 0.12)
    assert spans[0][0] - spans[3][1] == pytest.approx(0.4 + room)


def test_panel_rows_needs_a_room_above_each_row():
    with pytest.raises(ValueError, match="1 rooms above 2 rows"):
        panel_rows(1, 2.0, [1.0, 1.0], 0.3, [0.5], (0.5, 0.5, 0.5))


def test_a_group_label_stands_left_of_its_rows_own_labels():
    """Its right edge is _GROUP_PAD (6 pt) left of the widest row label's left edge (it was
    drawn over them, its right edge at the ticks); the y label "l" heads the rows' own labels,
    and the figure is wide enough for the groups' labels."""
    groups = ("model = lstm, T = 20", "model = gru, T = 40")
    panel = _dense("t", 4, separators=(2,), row_groups=groups)
    with pinned():
        fig = draw(HeatmapGrid("D", "c", (panel,), 1, "lag", "l", "x", dense=True))
        renderer = FigureCanvasAgg(fig).get_renderer()
        ax = next(a for a in fig.axes if a.get_visible() and a.texts)
        rows = min(t.get_window_extent(renderer).x0 for t in ax.get_yticklabels())
        named = [t for t in ax.texts if t.get_text() != "l"]
        right = max(t.get_window_extent(renderer).x1 for t in named)
        left = min(t.get_window_extent(renderer).x0 for t in named)
        assert not [t for t in fig.texts if t.get_text() == "l"]  # a head, not the figure's
    assert 4.0 <= (rows - right) * 72 / fig.dpi <= 8.0, rows - right
    assert left >= 0.1 * fig.dpi, left  # the figure is widened for it


def test_group_labels_widen_the_figure_by_their_width_and_pad():
    """Beside its rows' own labels a group's label takes its width and _GROUP_PAD (6 pt), less
    the figure's y label's room at its left edge: that label heads the rows instead."""
    groups = ("model = lstm, T = 20", "model = gru, T = 40")
    plain_panel = _dense("t", 4, separators=(2,))
    grouped = replace(plain_panel, row_groups=groups)
    with pinned():
        widths = [
            float(
                draw(HeatmapGrid("D", "c", (p,), 1, "lag", "l", "x", dense=True)).get_size_inches()[
                    0
                ]
            )
            for p in (plain_panel, grouped)
        ]
    widest = max(text_width(g, TICK_SIZE) for g in groups)
    # and the ticks' 7 pt, less the 0.35 in the y label took more than the 0.15 in margin
    assert widths[1] - widths[0] == pytest.approx(widest + 6.0 / 72 + 7.0 / 72 - 0.35)


# --- report/sections/depth._panel, _folded_note ---


def _depth_figure(tmp_path, **axes: object) -> HeatmapGrid:
    run = tmp_path / "run"
    sweep = vl.Sweep(hidden_size=4, input_size=2, seq_len=6, batch=2, **axes)  # type: ignore[arg-type]
    vl.run_sweep(sweep, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )
    (figure,) = next(s for s in report.sections if s.key == "depth").blocks
    return figure


def test_a_depth_map_of_no_folded_settings_names_no_groups(tmp_path):
    """Nothing folded into the rows: no group labels (a group of one empty label took a
    label's room and the grouped rows' height)."""
    figure = _depth_figure(tmp_path, num_layers=(2, 3))
    assert [p.row_groups for p in figure.panels] == [(), ()]
    assert "stacks" not in figure.caption and "in full" not in figure.caption


def test_a_folded_setting_no_panel_stacks_is_said_to_be_in_the_titles(tmp_path):
    """Model is folded, but each panel holds one: its title names it, as the caption says."""
    figure = _depth_figure(tmp_path, num_layers=2, model=("rnn", "lstm"), gain=(0.5, 1.0))
    assert all(p.row_groups == () and "model = " in p.title for p in figure.panels)
    assert " A panel's title names its setting in full." in figure.caption


def test_the_caption_names_only_the_settings_a_panel_stacks(tmp_path):
    figure = _depth_figure(
        tmp_path, num_layers=2, model=("rnn", "lstm"), gain=(0.5, 1.0), input_std=(0.0, 1.0)
    )
    assert " Each panel stacks, for every value of input std, that setting's" in figure.caption
    assert "a setting that all of a panel's rows share is named in its title." in figure.caption
