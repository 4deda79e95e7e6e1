"""``mon.step(n, loss=...)``: the training loss recorded with each recorded step, in the step's
record (its shard's and the manifest's), kept by a resumed run, and read back by
``vl.load_cells`` and ``vl.summarize``; runs recorded before it read with the loss null."""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.sweep import store
from vanishlab.sweep.checksums import meta_digest
from vanishlab.trained import JacobianMonitor


def _strict(text: str) -> object:
    """JSON as a strict parser reads it: NaN and Infinity are no JSON numbers."""

    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _shard_records(out: Path) -> dict[int, dict]:
    """``{step: the monitor record in its shard's metadata}``."""
    records = {}
    for meta in store.read_cell_metas(out).values():
        record = dict(meta["monitor"])
        records[record.pop("step")] = record
    return records


def _monitor(out: Path, every: int = 1) -> JacobianMonitor:
    torch.manual_seed(3)
    return JacobianMonitor(nn.RNN(2, 4), torch.randn(5, 2, 2), out=out, every=every)


def test_the_loss_is_recorded_with_each_recorded_step_and_read_back(tmp_path):
    """The monitor took no loss: its records could not say whether the loss fell while the
    gradients vanished."""
    out = tmp_path / "m"
    losses = {
        1: 0.9,  # not recorded (every=2): not kept either
        2: torch.tensor(0.75, requires_grad=True) * 1.0,  # as a loss function returns it
        4: np.float32(0.5),
        6: 3,  # an integer loss (a count of errors)
        8: None,  # no loss given at this step
        10: torch.tensor(2),  # one kept as an integer tensor
    }
    with _monitor(out, every=2) as mon:
        mon.step(0)  # no loss: the initial weights
        for n in range(1, 11):
            mon.step(n, loss=losses.get(n))
        assert mon.step(12, 0.25) is not None  # positional too
    want = {0: None, 2: 0.75, 4: 0.5, 6: 3.0, 8: None, 10: 2.0, 12: 0.25}
    manifest = _strict((out / "manifest.json").read_text())
    assert {int(k): r["loss"] for k, r in manifest["steps"].items()} == want
    # a float in the record, as given or as an integer (3.0, not 3)
    assert {type(r["loss"]) for r in manifest["steps"].values()} == {float, type(None)}
    assert {n: r["loss"] for n, r in _shard_records(out).items()} == want
    cells = vl.load_cells(out)
    assert list(cells.columns)[-1] == "loss" and cells["loss"].dtype == np.float64
    got = dict(zip(cells["step"], cells["loss"], strict=True))
    assert got == pytest.approx(
        {n: math.nan if v is None else v for n, v in want.items()}, nan_ok=True
    )
    for cache in (True, True, False):  # computed and cached, from the cache, uncached
        summary = vl.summarize(out, cache=cache)
        assert list(summary.columns)[-1] == "loss"
        assert list(summary["step"]) == list(cells["step"])
        np.testing.assert_array_equal(summary["loss"], cells["loss"])
    # Not a summary field: a sweep's summary (and every row a sweep's shard stores) has none.
    assert "loss" not in dict(vl.sweep.summary_fields.SUMMARY_FIELDS)


def test_a_loss_tensor_is_read_once_and_only_at_a_recorded_step(tmp_path):
    """Reading a CUDA loss (.item()) waits for the GPU: never at a step that is not recorded,
    nor at one already recorded (skipped), and once at a recorded one."""

    class Counted(torch.Tensor):
        calls = 0

        def item(self):  # type: ignore[override]
            Counted.calls += 1
            return super().item()

    loss = torch.tensor(0.5).as_subclass(Counted)
    with _monitor(tmp_path / "m", every=2) as mon:
        assert mon.step(1, loss=loss) is None
        assert Counted.calls == 0
        assert mon.step(2, loss=loss) is not None
        assert Counted.calls == 1
        assert mon.step(2, loss=loss) is None  # already recorded: skipped
        assert Counted.calls == 1
    assert list(vl.load_cells(tmp_path / "m")["loss"]) == [0.5]


def test_nan_and_infinite_losses_are_kept_as_they_are(tmp_path):
    """A diverged training's loss is what the user came to see: recorded as "nan", "inf" and
    "-inf" (strict JSON has no such numbers) and read back as floats, never refused."""
    out = tmp_path / "m"
    given = [
        math.nan,
        torch.tensor(math.inf),
        -math.inf,
        torch.tensor(math.nan, dtype=torch.float16),
    ]
    with _monitor(out) as mon:
        for n, loss in enumerate(given):
            mon.step(n, loss=loss)
        mon.step(4, loss=10**400)  # an int beyond a float: as an overflowing float reads
        mon.step(5, loss=-(10**400))
    want = {0: "nan", 1: "inf", 2: "-inf", 3: "nan", 4: "inf", 5: "-inf"}
    steps = _strict((out / "manifest.json").read_text())["steps"]
    assert {int(k): r["loss"] for k, r in steps.items()} == want
    assert {n: r["loss"] for n, r in _shard_records(out).items()} == want
    loss = vl.load_cells(out)["loss"].to_numpy()
    assert np.isnan(loss[[0, 3]]).all()
    assert list(loss[[1, 2, 4, 5]]) == [math.inf, -math.inf, math.inf, -math.inf]
    np.testing.assert_array_equal(vl.summarize(out)["loss"].to_numpy(), loss)


def test_a_failed_step_keeps_its_loss(tmp_path):
    """The step whose update made the weights NaN is a failed step (no rows), but the loss
    given with it is the last one before the divergence (taken before ``optimizer.step()``:
    docs/trained.md) and is recorded as any step's is, in its record and in ``load_cells``."""
    out = tmp_path / "m"
    with _monitor(out) as mon:
        mon.step(0, loss=1.0)
        with torch.no_grad():
            mon.module.weight_hh_l0.fill_(math.nan)
        assert mon.step(1, loss=torch.tensor(2.5)).empty
    steps = _strict((out / "manifest.json").read_text())["steps"]
    assert {int(k): (r["status"], r["loss"]) for k, r in steps.items()} == {
        0: ("ok", 1.0),
        1: ("failed", 2.5),
    }
    assert _shard_records(out)[1]["loss"] == 2.5
    cells = vl.load_cells(out)
    assert list(cells["status"]) == ["ok", "failed"] and list(cells["loss"]) == [1.0, 2.5]


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ("0.5", "'0.5'"),
        ([0.5], r"\[0.5\]"),
        (True, "True"),
        (np.bool_(False), re.escape(repr(np.bool_(False))) + "$"),  # np.False_, or False
        (np.array(True), re.escape(repr(np.array(True))) + "$"),
        (1j, "1j"),
        (torch.tensor([0.5]), r"a tensor of shape \(1,\) \(its value is loss.item\(\)\)"),
        (torch.ones(2, 3), r"a tensor of shape \(2, 3\)$"),
        (np.array(0.5), r"array\(0.5\) \(its value is loss.item\(\)\)"),
        (np.ones(3), r"array\(\[1., 1., 1.\]\)$"),
        (
            list(range(100)),
            r"\[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1$",
        ),
        (pd.DataFrame([[0.5]]), r" +0\n0 +0.5$"),  # size 1, but no .item(): no hint
        (torch.tensor(True), "a tensor of dtype bool"),
        (torch.tensor(1j), "a tensor of dtype complex64"),
        (torch.tensor(0.5, device="meta"), r"a tensor on the meta device \(no value\)"),
    ],
)
def test_a_loss_of_another_kind_is_a_type_error_at_every_step(tmp_path, bad, said):
    """A loss is a real number or a 0-d tensor; anything else is refused, as a step number of
    the wrong type is, at a step that is not recorded too (before any is), and nothing is
    written (a new run that recorded no step leaves nothing, and says so)."""
    out = tmp_path / "m"
    none = (
        r"^the monitor recorded no step \(mon.step\(n\) was not called, or measured none of "
        r"the steps it was given\)"
    )
    with pytest.warns(UserWarning, match=none), _monitor(out, every=2) as mon:
        for n in (1, 2):  # not recorded, recorded
            with pytest.raises(
                TypeError, match=f"^the loss must be a real number or a 0-d tensor, got {said}"
            ):
                mon.step(n, loss=bad)
    assert not out.exists()


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_resumed_run_keeps_the_losses_it_recorded(tmp_path):
    """Reopening a monitor (a restart after training was killed) keeps each recorded step's
    loss, from the manifest or, for a step whose manifest entry a killed process never wrote,
    from the step's shard; the readers take it from the shard before the run is reopened."""
    out = tmp_path / "m"
    with _monitor(out) as mon:
        for n in range(3):
            mon.step(n, loss=1.0 / (n + 1))
        probe = mon.probe
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["steps"]["2"]  # as if killed between step 2's shard and the manifest
    path.write_text(json.dumps(manifest))
    cells = vl.load_cells(out)  # before the run is reopened
    assert list(cells["loss"]) == pytest.approx([1.0, 0.5, 1 / 3])
    torch.manual_seed(3)
    with JacobianMonitor(nn.RNN(2, 4), probe, out=out) as mon:
        assert mon.step(2, loss=99.0) is None  # recorded already: its loss is kept, not this
        assert mon.step(3, loss=0.25) is not None
    steps = json.loads(path.read_text())["steps"]
    assert {int(k): r["loss"] for k, r in steps.items()} == pytest.approx(
        {0: 1.0, 1: 0.5, 2: 1 / 3, 3: 0.25}
    )
    assert list(vl.load_cells(out)["loss"]) == pytest.approx([1.0, 0.5, 1 / 3, 0.25])
    assert list(vl.summarize(out)["loss"]) == pytest.approx([1.0, 0.5, 1 / 3, 0.25])


def _as_recorded_before_losses(out: Path, shard_records: bool = True) -> None:
    """Rewrite a monitor's run as a release before losses wrote it: no ``loss`` in any step's
    record, in its shard (with the metadata's checksum recomputed) or in the manifest; with
    ``shard_records`` False, as one before shards kept a step's record at all (no
    ``monitor`` in their metadata)."""
    for path in (out / "cells").glob("*.parquet"):
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
        if shard_records:
            del meta["monitor"]["loss"]
        else:
            del meta["monitor"]
        del meta["meta_digest"]
        meta["meta_digest"] = meta_digest(meta)
        table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
        pq.write_table(table, path, write_page_checksum=True)
    manifest = json.loads((out / "manifest.json").read_text())
    for record in manifest["steps"].values():
        del record["loss"]
    (out / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
@pytest.mark.parametrize("shard_records", [True, False])
def test_a_run_recorded_before_losses_reads_with_the_loss_null(tmp_path, shard_records):
    out = tmp_path / "m"
    with _monitor(out) as mon:
        for n in range(2):
            mon.step(n, loss=0.5)
        probe = mon.probe
    _as_recorded_before_losses(out, shard_records)
    assert "loss" not in json.dumps(store.read_cell_metas(out))  # as old shards hold it
    cells = vl.load_cells(out)
    assert list(cells.columns)[-1] == "loss" and cells["loss"].isna().all()
    summary = vl.summarize(out)
    assert list(summary["step"]) == [0, 1] and summary["loss"].isna().all()
    torch.manual_seed(3)
    with JacobianMonitor(nn.RNN(2, 4), probe, out=out) as mon:  # and it resumes
        mon.step(2, loss=0.125)
    assert list(vl.load_cells(out)["loss"]) == pytest.approx(
        [math.nan, math.nan, 0.125], nan_ok=True
    )


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_the_loss_s_name_is_one_definition():
    """The monitor's record, ``load_cells``, ``summarize`` and the page's steps frame name the
    loss with ``schema.MONITOR_LOSS``: no module spells it ``"loss"`` but that definition and
    ``train_cell`` (a trained cell's held-out curve, another quantity). A figure's text given
    as a keyword (``ylabel="loss"``) is a word on the page, not the name."""
    from vanishlab.sweep.schema import MONITOR_LOSS

    root = Path(vl.__file__).parent
    spelled = set()
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        texts = {id(n) for k in ast.walk(tree) if isinstance(k, ast.keyword) for n in ast.walk(k)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and node.value == MONITOR_LOSS
                and id(node) not in texts
            ):
                spelled.add(path.relative_to(root).as_posix())
    assert spelled == {"sweep/schema.py", "sweep/train_cell.py"}


def test_load_training_on_a_monitors_run_says_where_its_losses_are(tmp_path: Path) -> None:
    """vl.load_training on a monitor's run returned an empty frame, which reads as "no loss
    recorded", though mon.step(n, loss=) kept one at each recorded step."""
    rnn = nn.RNN(2, 3)
    with JacobianMonitor(rnn, torch.randn(4, 1, 2), out=tmp_path / "m") as mon:
        mon.step(0, loss=0.5)
    with pytest.raises(vl.VanishlabError) as err:
        vl.load_training(tmp_path / "m")
    text = str(err.value)
    assert "\n" not in text and "training monitor's run" in text
    assert "vl.load_cells(run_dir)[['step', 'loss']]" in text
    assert vl.load_cells(tmp_path / "m")["loss"].tolist() == [0.5]  # where it points
