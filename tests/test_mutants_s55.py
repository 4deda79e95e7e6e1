"""Mutation review of the package changes of session 55 (5993b48a..4f807208): each test here
failed on a small plausible change of the code it names that passed the tests of that code,
and passes on the code as it is.

Mutants tried / killed by the tests before / killed with these (2026-12-06; each run against
the test files of its code, ``pytest -x -p no:randomly -m "not slow"``):
  gated_forward._digitless_products, its uses in _lstm_layer, _gru_layer     12 /  6 /  9
  commands.reproducing_command, _name_word, with_name, with_out; run_manifest     13 /  6 / 12
  cpu.cpu_text, CPU_SETTINGS, package_versions' "cpu"                        10 /  4 /  9
  line_style.style_marker, figures.palette, _legend_entries, _draw_curves,
  _draw_curve, _every_few (colours round again with shapes, 7 to 18 lines)  20 / 15 / 20
  report.css: color-scheme, fit-content(50%), the contents' columns         10 /  4 /  8
In all 65 / 35 / 58. The 7 left are equivalent, or change nothing a user sees:
``_digitless_products`` flushing ``<=`` the floor in place of ``<`` (only a value of exactly
tiny / 8 differs); skipping the flush of the LSTM's carry f or the GRU's carry z, each a
sigmoid alone (torch's sigmoid is 1 / (1 + exp(-a)), 0 once exp overflows: no float32 or
float64 value of it lies in (0, tiny / 8), 200,001 values of a tried each, the least
positive 2 tiny / 8); ``with_out`` without its ``i < 4`` (for i of 2 or 3 the word two before
is ``vanishlab`` or ``sweep``, never ``--out``); ``cpu_text`` reading the last model line of
/proc/cpuinfo, not the first (every core's line names the same model); a key-value block's
value column ``1fr`` in place of ``minmax(0, 1fr)`` (its values wrap anywhere, so their
min-content width is a letter's) and its keys at most 45 % in place of 50 % (the rule's
constant; both leave the values >= 0.4 of the block at 390 px and each key one line at 1280).
No defect found in the package: each survivor killed was a gap in its tests, not its code.
"""

from __future__ import annotations

import io
import json
import math
import shlex
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from _cdp import Browser, find_chromium
from torch import nn
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep import cpu
from vanishlab.sweep.commands import with_name, with_out

CHROMIUM = find_chromium()

# --- core/gated_forward.py: _digitless_products, each coefficient of a step ---

F32 = torch.float32


def _lstm(biases: tuple[float, ...], w_hh: tuple[float, ...] = (0.0,) * 4) -> nn.LSTM:
    mod = nn.LSTM(1, 1)  # float32; x = 0 and h0 = 0, so each pre-activation is its bias
    with torch.no_grad():
        mod.weight_ih_l0.zero_()
        mod.bias_hh_l0.zero_()
        mod.weight_hh_l0.copy_(torch.tensor(w_hh, dtype=F32)[:, None])
        mod.bias_ih_l0.copy_(torch.tensor(biases, dtype=F32))
    return mod


def _gru(biases: tuple[float, ...], w_hn: float = 0.0, w_in: float = 0.0) -> nn.GRU:
    mod = nn.GRU(1, 1)
    with torch.no_grad():
        mod.weight_ih_l0.zero_()
        mod.weight_hh_l0.zero_()
        mod.bias_hh_l0.zero_()
        mod.weight_hh_l0[2] = w_hn
        mod.weight_ih_l0[2] = w_in
        mod.bias_ih_l0.copy_(torch.tensor(biases, dtype=F32))
    return mod


def _row(mod: nn.Module, row: str) -> float:
    """Row ``row`` at lag 1 (``input``: the input at step 0 seen from step 1) of a float32
    cell's one undriven sample of 2 steps."""
    x, h = torch.zeros(2, 1, 1), torch.zeros(1, 1, 1)
    lstm = isinstance(mod, nn.LSTM)
    h0, sources = ((h, torch.ones(1, 1, 1)), ("state", "state_c", "input")) if lstm else (h, None)
    got = vl.jacobian_log_norms(mod, x, h0, sources=sources or ("state", "input"))
    if row == "input":
        return float(got.input_fro[0, 1])
    return float(getattr(got, f"{row}_fro")[0, 0, 1])


# Each one coefficient of a step, a product of two normal numbers that rounds to a float32
# subnormal with a few bits: sigma(-60) tanh'(16) = 8.7e-27 * 5.1e-14 = 4.4e-40 (i g', and r q_n
# with z = sigma(-100) = 0), (1 - sigma(60)) tanh'(16) the same (q_n). Every other path is 0, so
# the row is that coefficient. (An LSTM's i g' is carried as exp(ln_C) C_rel since helper 467,
# gated_lstm_range.scaled_c, and a GRU's coefficients since helper 472, gated_gru_range.scaled_gru:
# each row reads its value, the 120-digit reference's of tests/test_gated_saturation.py.)
ONE_COEFFICIENT = {
    "gru coef_hn r q_n": (_gru((-60.0, -100.0, 16.0), w_hn=1.0), "state", -39.35299592290638),
    "gru coef q_n": (_gru((0.0, 60.0, 16.0), w_in=1.0), "input", -39.35303234377122),
}


@pytest.mark.parametrize("case", list(ONE_COEFFICIENT))
def test_each_gru_coefficient_below_tiny_over_8_reads_its_value(case: str) -> None:
    """Each coefficient of a GRU step that rounds below float32's tiny / 8 read 0 (-inf), as a
    derivative past the first subnormals does (skipping its flush read 10^-39.4 from a 4.4e-40
    with 10 bits, finite and unflagged). Carried since helper 472, it reads the reference's
    value (measured within 2.6e-8); the flush no longer decides it."""
    mod, row, want = ONE_COEFFICIENT[case]
    assert _row(mod, row) == pytest.approx(want, abs=1e-6)


def test_an_lstm_cell_coefficient_below_tiny_over_8_reads_its_value() -> None:
    """The LSTM's case of the rule above: i g' = sigma(-60) tanh'(19) = 1.1e-42 (about 10
    bits in float32), the one path to the state_h row at lag 1 (c0 = 0, W_hh only on g). It
    read 0 (-inf) while an entry of C below the range was flushed; C's exponent is now
    carried (gated_lstm_range.scaled_c), and the row is the 120-digit reference's
    10^-41.958799235191 (tests/test_gated_saturation.py; measured within 5e-14). Skipping the
    flush of the coefficients kept the subnormal, uncarried: 2.0e-4 off (at tanh'(16), 4.4e-40
    with 18 bits, only 1.8e-7 off: too close to tell)."""
    mod = _lstm((-60.0, 0.0, 19.0, 30.0), (0.0, 0.0, 1.0, 0.0))
    x, zero = torch.zeros(2, 1, 1), torch.zeros(1, 1, 1)
    got = vl.jacobian_log_norms(mod, x, (zero, zero), sources=("state_h",))
    assert float(got.state_h_fro[0, 0, 1]) == pytest.approx(-41.958799235191, abs=1e-6)


def test_a_coefficient_at_float32s_least_normal_is_read_as_it_is() -> None:
    """The other side of the rule: f = sigma(-87) = 1.6e-38, a normal number, reads its own
    log10 (the flush takes digitless values only)."""
    f = 1 / (1 + math.exp(87.0))
    assert _row(_lstm((0.0, -87.0, 0.0, 30.0)), "state_c") == pytest.approx(math.log10(f), 1e-5)


# --- sweep/commands.py: with_name, with_out; sweep/run_manifest.py: every --out ---


def test_with_out_leaves_a_command_whose_name_follows_no_out() -> None:
    """``--out DIR`` just before the name is the folder; a command without it (hand-written,
    or another option before ``--name``) keeps every word, where dropping that check wrote the
    folder over the value before ``--name``: ``--gain runs/b``."""
    for command in ("vanishlab sweep --gain 1.0 --name n", "vanishlab sweep --name n"):
        assert with_out(command, "runs/b") == command


def test_with_name_keeps_the_words_after_a_name_given_with_an_equals_sign() -> None:
    """``--name=X --force``: the name is one word, so ``--force`` after it stays, where taking
    the name for two words dropped it."""
    command = "vanishlab sweep --out a --name=n --force"
    assert with_name(command, "m") == "vanishlab sweep --out a --name m --force"
    assert with_out(with_name(command, "m"), "b") == "vanishlab sweep --out b --name m --force"


def test_the_last_name_is_the_run_s_an_earlier_one_a_folder() -> None:
    """``--out --name`` (a folder called ``--name``): the run's name is the last ``--name``'s
    value, so the folder stays, where taking the first set the folder's name."""
    command = "vanishlab sweep --out --name --name n"
    assert with_name(command, "m") == "vanishlab sweep --out --name --name m"
    assert with_out(command, "b") == "vanishlab sweep --out b --name n"


def test_a_bare_name_at_the_end_is_left_as_it_is() -> None:
    """A ``--name`` with no value names nothing: the command is left, not given a second."""
    command = "vanishlab sweep --out a --name"
    assert with_name(command, "m") == command
    assert with_out(command, "b") == command


LSTM_STUDY = '''"""An LSTM study: activation applies to none of its models."""
import vanishlab as vl
SWEEP = vl.Sweep(model="lstm", hidden_size=2, input_size=2, seq_len=3, batch=1, seed=0)
'''


def test_an_lstm_grid_s_command_gives_no_activation_and_replays(tmp_path, monkeypatch) -> None:
    """The recorded command names every axis but one that applies to none of the grid's
    models: ``--activation tanh`` beside ``--model lstm``, which ``sweep`` refuses (the tests of
    the commands swept RNN grids only, so writing it passed)."""
    from vanishlab.sweep.commands import reproducing_command
    from vanishlab.sweep.experiments import load_experiment

    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.py").write_text(LSTM_STUDY)
    words = shlex.split(reproducing_command(load_experiment("study.py"), "run", "study"))
    assert "--activation" not in words and words[words.index("--model") + 1] == "lstm"
    result = CliRunner().invoke(app, [*words[1:], "--dry-run"])
    assert result.exit_code == 0, result.output


@pytest.mark.timeout(180)
def test_a_run_moved_twice_records_one_out_in_every_command(tmp_path, monkeypatch) -> None:
    """Three invocations, the folder moved before the second and the third: all three commands
    name the last folder, where setting only the first command's --out left the second naming
    the folder it was extended in (replayed, the run split in two)."""
    monkeypatch.chdir(tmp_path)
    grid = vl.Sweep(hidden_size=2, input_size=2, seq_len=3, batch=1, seed=0, gain=1.0)
    vl.run_sweep(grid, "a", workers=1, progress=False)
    (tmp_path / "a").rename(tmp_path / "b")
    vl.run_sweep(grid.replace(gain=2.0), "b", workers=1, progress=False, force=True)
    (tmp_path / "b").rename(tmp_path / "c")
    vl.run_sweep(grid.replace(gain=3.0), "c", workers=1, progress=False, force=True)
    commands = json.loads((tmp_path / "c" / "manifest.json").read_text())["commands"]
    outs = [shlex.split(c)[shlex.split(c).index("--out") + 1] for c in commands]
    assert outs == ["c"] * 3, commands
    (fresh := tmp_path / "fresh").mkdir()
    monkeypatch.chdir(fresh)
    for command in commands:
        result = CliRunner().invoke(app, [*shlex.split(command)[1:], "--workers", "1", "--quiet"])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in fresh.iterdir()) == ["c"]


# --- sweep/cpu.py: cpu_text ---

INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t:  Intel(R)  Xeon(R)   Gold 6148 \n"
ARM = "processor\t: 0\nBogoMIPS\t: 48.00\n\nProcessor\t: AArch64 Processor rev 4 (aarch64)\n"
MIPS = "system type\t: Ralink\nmachine\t: Unknown\ncpu model\t: MIPS 24KEc V5.5\n"


def _cpu_info(monkeypatch, text: str | None) -> None:
    """``/proc/cpuinfo`` as ``cpu_text`` reads it: ``text``, or an OSError where None."""

    def fake_open(path, *args, **kwargs):
        if path != "/proc/cpuinfo" or text is None:
            raise OSError(f"no {path}")
        return io.StringIO(text)

    monkeypatch.setattr(cpu, "open", fake_open, raising=False)
    monkeypatch.setattr(cpu, "os", SimpleNamespace(environ={}))


@pytest.mark.parametrize(
    ("text", "model"),
    [
        (INTEL, "Intel(R) Xeon(R) Gold 6148"),
        (ARM, "AArch64 Processor rev 4 (aarch64)"),
        (MIPS, "MIPS 24KEc V5.5"),
    ],
    ids=["x86", "arm", "mips"],
)
def test_the_cpu_s_model_is_read_from_proc_cpuinfo_in_one_line(monkeypatch, text, model) -> None:
    """The record's first part is /proc/cpuinfo's model (x86's ``model name``, ARM's
    ``Processor``, MIPS's ``cpu model``), its spaces made single: the test of the record read
    only the vector instructions and the settings, so a record that kept the line's padding
    and newline, read the model from elsewhere or knew no ``model name`` passed."""
    _cpu_info(monkeypatch, text)
    assert cpu.cpu_text() == f"{model}; {torch.backends.cpu.get_cpu_capability()}"


def test_the_cpu_s_model_without_proc_cpuinfo_is_the_platform_s(monkeypatch) -> None:
    import platform

    _cpu_info(monkeypatch, None)
    model = platform.processor() or platform.machine() or "unknown CPU"
    assert cpu.cpu_text().split("; ")[0] == model


def test_each_setting_that_chooses_the_cpu_s_kernels_is_recorded_where_set(monkeypatch) -> None:
    """The four settings, each by its name, in order; one set to "" is not set (MKL and ATen
    read an empty value as none), where listing it wrote ``MKL_CBWR=``."""
    _cpu_info(monkeypatch, INTEL)
    environ = {"MKL_CBWR": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX512",
               "DNNL_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}  # fmt: skip
    monkeypatch.setattr(cpu, "os", SimpleNamespace(environ=environ))
    assert cpu.cpu_text().split("; ")[2:] == [f"{k}={v}" for k, v in environ.items()]
    environ["MKL_CBWR"] = ""
    assert "MKL_CBWR" not in cpu.cpu_text()


# --- report/figures.py and line_style.py: a figure of points of more than six styles ---


def _points_figure(n: int):
    """A figure of points (``markers``) of ``n`` styles: each line's marker lines."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LineGrid, LinePanel

    x = np.arange(1.0, 6.0)  # parallel lines, far apart: no point covers another's
    curves = tuple(Curve(f"init {s}", s, x, s + 0.01 * x) for s in range(n))
    legend = tuple(f"init {s}" for s in range(n))
    panels = (LinePanel(0, 0, "p", curves),)
    grid = LineGrid("Rates", "", 1, 1, panels, "gain", "y", "init", legend, markers=True)
    with pinned():
        fig = draw(grid)
        return [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "None"]


def test_a_figure_of_points_marks_each_point_of_a_colour_come_round_in_its_shape() -> None:
    """Every point of a line of points (``markers``) is marked, in its line's shape where the
    colours come round: squares for inits 6 and 7, each point once, at the points' size.
    The test of the shapes drew lines only, so drawing such points as dots, or adding the
    few small marks a line carries over its points, passed."""
    from vanishlab.report.line_style import MARKER_MS

    marks = _points_figure(8)
    squares = [ln for ln in marks if ln.get_marker() == "s"]
    assert {ln.get_markersize() for ln in marks} == {MARKER_MS}, [ln.get_marker() for ln in marks]
    assert sorted(len(ln.get_xdata()) for ln in squares) == [5, 5]
    assert [ln.get_marker() for ln in marks].count("o") == 6


def test_a_line_s_shape_marks_about_six_of_its_points_from_its_first_finite_one() -> None:
    """``line_marks.every_few`` (figures' ``_every_few`` until a792ebc9 moved it): about six
    marks, 5 to 7 of 20, 60 or 200 points, the first on the first finite point (a line that
    starts after a gap marked from there: where NaNs were counted, marks fell on points not
    drawn)."""
    from vanishlab.report.line_marks import every_few as _every_few

    for n in (20, 60, 200):
        assert 5 <= _every_few(np.zeros(n)).sum() <= 7, n
    y = np.r_[np.full(7, np.nan), np.zeros(20)]
    at = _every_few(y)
    assert np.flatnonzero(at)[0] == 7 and np.isfinite(y[at]).all() and 5 <= at.sum() <= 7


def test_a_prediction_s_lone_point_keeps_its_mark_beside_its_shape_s_few() -> None:
    """A dashed prediction of a colour come round marks about six of its points in its shape,
    open, and still every point that stands alone between gaps (no segment draws it): taking
    the few marks in place of the lone points left x = 9 undrawn."""
    from matplotlib.colors import to_hex

    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LineGrid, LinePanel

    x = np.arange(20.0)
    y = -0.1 * x
    y[[8, 10]] = np.nan  # x = 9 alone; the few marks fall on 0, 3, 6, 11, 14, 17
    curves = [Curve(f"init {s}", s, x, s - 0.1 * x) for s in range(8)]
    curves.append(Curve("predicted", 7, x, y, reference=True))
    legend = tuple(f"init {s}" for s in range(8))
    grid = LineGrid(
        "Decay", "", 1, 1, (LinePanel(0, 0, "p", tuple(curves)),), "k", "y", "i", legend
    )
    with pinned():
        lines = draw(grid).axes[0].get_lines()
    white = [to_hex(ln.get_markerfacecolor()) == "#ffffff" for ln in lines]
    open_marks = [ln for ln, w in zip(lines, white, strict=True) if w and ln.get_marker() == "s"]
    assert len(open_marks) == 1
    assert set(open_marks[0].get_xdata()) == {0.0, 3.0, 6.0, 9.0, 11.0, 14.0, 17.0}


# --- report/templates/report.css: the contents' numbers ---

_NAV_JS = """(() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const ol = document.querySelector('nav ol').getBoundingClientRect();
  return [...document.querySelectorAll('nav li')].map((li, i) => {
    ctx.font = getComputedStyle(li).font;
    const left = li.getBoundingClientRect().left;
    return {room: left - ctx.measureText((i + 1) + '. ').width - ol.left, indent: left - ol.left,
            em: parseFloat(getComputedStyle(li).fontSize), parts: li.getClientRects().length};
  });
})()"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_each_contents_number_stands_inside_the_list_and_each_item_in_one_column(
    tmp_path: Path,
) -> None:
    """Each item's number is drawn in the room its item holds (margin-left 1.4em), inside the
    list, the list itself not indented again; and each item stands whole in one column. The
    test of the two columns passed with a smaller margin or none (the first column's numbers
    out of the list to the left), with the list's old padding as well (every item 1.4em further
    in), and without ``break-inside: avoid``, its check of an item's lines reading the
    union of the item's pieces: a long second item was split over the two columns."""
    from vanishlab.report.model import Report, Section
    from vanishlab.report.render import render_html

    titles = ["Model", "What this means for long dependencies of a deep stack of gated cells",
              "Theory"]  # fmt: skip
    sections = tuple(Section(f"s{i}", t, "Intro.", ()) for i, t in enumerate(titles))
    page = tmp_path / "nav.html"
    page.write_text(render_html(Report("p", "p", "2024-01-01", "0", sections)), "utf-8")
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.open(page, width=390, height=900)
        items = browser.evaluate(_NAV_JS)
    assert len(items) == 3
    for item in items:
        assert item["room"] >= 0 and item["parts"] == 1, items
    assert min(item["indent"] for item in items) <= 1.4 * items[0]["em"] + 1, items
