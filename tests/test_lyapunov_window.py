"""The steps a trained model's top Lyapunov exponent averages over, as its pages say them.

:mod:`vanishlab.analysis.lyapunov_window` defines them (T // 4 discarded); the single-model
page's "averaged over" item and "(extrapolated beyond ...)" mark, and the monitor page's rates
caption, read T from the manifest (:func:`~vanishlab.report.sections.trained.seq_len_of`).
A mutation review (helper 165) found each check below free: a manifest whose T is no
positive int, an unbatched inputs file read with batch_first, a span of exactly the steps
averaged or between them and T, a λ₁ not recorded, a monitor's batch-first probe.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
import torch

import vanishlab as vl
from vanishlab.analysis.lyapunov_window import averaged_steps, discarded_steps
from vanishlab.core.log_units import LN10
from vanishlab.report import build_report
from vanishlab.report.model import KeyValues, LineGrid
from vanishlab.trained import analyze_checkpoint


def test_the_first_quarter_is_discarded_at_every_short_length():
    # `T // 4 if T > 4 else 0` (T = 4 averaged over 4 steps, not 3) passed every test.
    assert [discarded_steps(T) for T in range(1, 10)] == [0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert [averaged_steps(T) for T in range(1, 10)] == [1, 2, 3, 3, 4, 5, 6, 6, 7]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of an nn.RNN(3, 8), its file's path (its analysis is made by each test)."""
    root = tmp_path_factory.mktemp("lyap")
    torch.manual_seed(0)
    torch.save(torch.nn.RNN(3, 8).state_dict(), root / "m.pt")
    analyze_checkpoint(root / "m.pt", root / "gauss", seq_len=24, batch=4)
    return root


def _frames(run: Path) -> tuple[Any, Any, dict[str, Any]]:
    return vl.load_results(run), vl.load_cells(run), vl.load_manifest(run)


def _items(results: Any, cells: Any, manifest: dict[str, Any]) -> dict[str, str]:
    report = build_report(results, cells, manifest, timestamp="2024-01-01")
    section = next(s for s in report.sections if s.key == "lyapunov")
    (facts,) = [b for b in section.blocks if isinstance(b, KeyValues)]
    return dict(facts.items)


def _edited(manifest: dict[str, Any], **model: Any) -> dict[str, Any]:
    out = copy.deepcopy(manifest)
    out["model"].update(model)
    return out


@pytest.mark.parametrize("seq_len", [True, 0, -3, "24", 24.0, None, [24]])
def test_a_hand_edited_gaussian_seq_len_that_is_no_positive_int_gives_no_steps(analysed, seq_len):
    results, cells, manifest = _frames(analysed / "gauss")
    assert _items(results, cells, manifest)["averaged over"] == "the last 18 steps of T = 24"
    edited = copy.deepcopy(manifest)
    edited["model"]["inputs"]["gaussian"]["seq_len"] = seq_len
    items = _items(results, cells, edited)
    assert "averaged over" not in items, items
    assert not any("extrapolated" in v for v in items.values()), items


@pytest.mark.parametrize(
    "inputs",
    [
        [24, 4, 3],  # a list, not a record
        {"file": "x.pt", "shape": [], "batch_first": False},
        {"file": "x.pt", "shape": [4, 24, 3, 1], "batch_first": True},
        {"file": "x.pt", "shape": [24], "batch_first": False},
        {"file": "x.pt", "shape": "24, 4, 3", "batch_first": False},
        {"file": "x.pt", "shape": [24.0, 4, 3], "batch_first": False},
    ],
)
def test_a_hand_edited_inputs_record_without_a_shape_gives_no_steps(analysed, inputs):
    results, cells, manifest = _frames(analysed / "gauss")
    items = _items(results, cells, _edited(manifest, inputs=inputs))
    assert "averaged over" not in items, items


def test_an_unbatched_inputs_file_is_read_as_t_first_even_with_batch_first(analysed):
    # (T, I) = (6, 3) given with batch_first: T is its first length, as the module reads it
    # (the page said "the last 3 steps of T = 3", its input size).
    torch.save(torch.randn(6, 3), analysed / "x.pt")
    for flag in (False, True):
        run = analysed / f"unbatched-{flag}"
        said = pytest.warns(UserWarning, match="has no effect") if flag else nullcontext()
        with said:  # batch_first=True has no effect on a (T, I) file: a warning says so
            analyze_checkpoint(analysed / "m.pt", run, inputs=analysed / "x.pt", batch_first=flag)
        assert _items(*_frames(run))["averaged over"] == "the last 5 steps of T = 6"


def test_the_1000_fold_span_is_extrapolated_only_beyond_the_steps_averaged(analysed):
    # T = 24: 18 steps averaged. A span of 20 steps runs beyond them (the mark compared
    # against T said nothing); one of exactly 18 does not.
    results, cells, manifest = _frames(analysed / "gauss")
    key = "a perturbation shrinks 1000-fold in"
    for span, mark in ((20, " (extrapolated beyond the 18 steps averaged)"), (18, ""), (17, "")):
        lyap = -3 * LN10 / span  # 1000-fold: 3 decades of ln 10 each, as the page computes
        assert 3 * LN10 / abs(lyap) == span  # exact, for the boundary
        items = _items(results, cells, _edited(manifest, lyapunov=lyap))
        assert items[key] == f"{span} steps{mark}", items


def test_no_steps_averaged_are_named_where_no_exponent_was_measured(analysed):
    results, cells, manifest = _frames(analysed / "gauss")
    items = _items(results, cells, _edited(manifest, lyapunov=None))
    assert items["top Lyapunov exponent λ₁"] == "not measured"
    assert "averaged over" not in items, items


def _rates_caption(run: Path, manifest: dict[str, Any] | None = None) -> str:
    results, cells, found = _frames(run)
    report = build_report(results, cells, manifest or found, timestamp="2024-01-01")
    section = next(s for s in report.sections if s.key == "training")
    return next(
        b.caption
        for b in section.blocks
        if isinstance(b, LineGrid) and b.title.startswith("Decay rates")
    )


def test_a_batch_first_monitors_caption_reads_t_from_the_probes_second_length(tmp_path):
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 8, batch_first=True)
    with vl.JacobianMonitor(rnn, torch.randn(4, 20, 3), out=tmp_path / "run") as mon:
        mon.step(0)
    caption = _rates_caption(tmp_path / "run")
    assert "along the probe (averaged over the last 15 of its 20 steps)," in caption, caption
    manifest = vl.load_manifest(tmp_path / "run")
    for probe in (None, [], "4, 20, 3"):  # hand-edited: the caption names no steps
        caption = _rates_caption(tmp_path / "run", _edited(manifest, probe_shape=probe))
        assert "along the probe, in the same unit" in caption, caption
    caption = _rates_caption(tmp_path / "run", {**manifest, "model": []})
    assert "along the probe, in the same unit" in caption, caption
