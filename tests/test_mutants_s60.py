"""Mutation review of the memory estimate and the command line's value checks (2026-12-07):
sweep/memory, sweep/capacity, core/allocation and cli/params. Each test here failed on a small
plausible change of the code it names that passed the fast tests of that code, and passes on
the code as it is. Pure arithmetic of the documented counts: no measured peaks here.

Mutants tried / killed by the tests before / killed with these (each run against the fast
tests that name its code, ``pytest -x -m "not slow"``; after: this file):
  sweep/memory (every count and constant, cell_bytes, training_bytes, refused_reason)  51 / 43 / 51
  sweep/capacity (check_memory, worker_count, fewer_workers_line)                     11 /  7 / 11
  core/allocation (the figures read, their least, the words, format_bytes)            17 / 13 / 17
  cli/params (single, path_option, path_argument, refuse_option_shaped, merged)       17 / 15 / 15
In all 96 / 78 / 94. The two left are equivalent: single's ``if not values`` as ``values is
None`` and merged's ``if values`` as ``values is not None`` differ only for an empty list,
which typer never passes (an option left out is None: 160 command tests that leave options
out pass on both).
"""

from __future__ import annotations

import pytest

import vanishlab as vl
from vanishlab.sweep.memory import measure_bytes, training_bytes

# --- sweep/memory.py: a gated cell's count (the module docstring) ---


def _gated(model, T, L, B, H, I, s, asked=0):
    G = {"lstm": 4, "gru": 3}[model]
    forward = (28 + {"lstm": 11, "gru": 6}[model] * (L - 1)) * (T + 1) * B * H + T * B * I
    working = {"lstm": 20, "gru": 15}[model] * L * B * H * H
    rows = ((2 + asked) if model == "lstm" else 1) * L * B * H * H
    spectral = 16 * rows + 2 * 16 * B * H * I
    weights = G * L * (H * H + H * max(H, I))
    norms = 6 * (T + 1) * (L + 1) * B * 8
    return int(((forward + working + spectral + weights) * s + norms) * 1.5)


@pytest.mark.parametrize("model", ["lstm", "gru"])
@pytest.mark.parametrize(("L", "dtype"), [(2, "float32"), (3, "float64")])
def test_a_gated_stack_is_the_docstrings_count_a_layer(model, L, dtype):
    """Each layer above the first keeps 11 (LSTM) or 6 (GRU) numbers a step, sample and unit;
    only a one-layer float32 cell was pinned, so a layer's count off by one, or the first
    layer's counted again, passed."""
    s = 8 if dtype == "float64" else 4
    T, B, H, I = 10, 8, 32, 64
    got = measure_bytes(
        seq_len=T, num_layers=L, batch=B, hidden_size=H, input_size=I, dtype=dtype, model=model
    )
    assert got == _gated(model, T, L, B, H, I, s)


@pytest.mark.parametrize(
    ("sources", "asked"),
    [(("state", "input"), 0), (("state_h",), 1), (("state_c", "input"), 1),
     (("state_h", "state_c"), 2)],
)  # fmt: skip
def test_an_lstms_h_and_c_blocks_queue_only_when_asked_for(sources, asked):
    """An LSTM's state rows are H x 2H (2 L B H^2 a lag); its h and c blocks add L B H^2 each
    where they are measured, a GRU's none."""
    T, L, B, H, I = 10, 2, 8, 32, 16
    sizes = dict(seq_len=T, num_layers=L, batch=B, hidden_size=H, input_size=I, dtype="float32")
    assert measure_bytes(**sizes, model="lstm", sources=sources) == _gated(
        "lstm", T, L, B, H, I, 4, asked
    )
    assert measure_bytes(**sizes, model="gru", sources=sources) == _gated("gru", T, L, B, H, I, 4)


# --- sweep/memory.py: a trained cell's count ---


def _trained(model, T, L, H, I, s):
    from vanishlab.sweep.memory import FIRST_TRAINING_BYTES
    from vanishlab.sweep.train_cell import TRAIN_BATCH
    from vanishlab.train.loop import DEFAULT_EVAL_BATCH

    G = {"rnn": 1, "lstm": 4, "gru": 3}[model]
    Be, Bt = DEFAULT_EVAL_BATCH, TRAIN_BATCH
    evaluation = (G + 2 + L) * T * Be * H + 2 * T * Be * I
    step = (4 * G + 4) * T * L * Bt * H + 2 * T * Bt * I
    weights = 4 * G * L * (H * H + H * max(H, I))
    return int((max(evaluation, step) + weights) * s * 1.5) + FIRST_TRAINING_BYTES


@pytest.mark.parametrize(
    ("model", "L", "dtype"),
    [("rnn", 1, "float32"), ("gru", 2, "float64"), ("lstm", 3, "float32"),
     ("lstm", 25, "float32")],  # 25 LSTM layers: the training step outweighs the evaluation
)  # fmt: skip
def test_a_trained_cells_need_is_the_docstrings_count(model, L, dtype):
    """The larger of the held-out evaluation, (G + 2 + L) T Be H + 2 T Be I numbers, and a
    step, (4 G + 4) T L Bt H + 2 T Bt I, with four copies of the weights and the first
    training's one-off; only bounds of it were tested (a dropped term passed)."""
    kw = {"activation": None, "init": "default"} if model != "rnn" else {}
    cfg = vl.CellConfig(
        model=model, num_layers=L, hidden_size=32, seq_len=20, dtype=dtype, task="adding",
        train_steps=1, input_size=2, **kw,
    )  # fmt: skip
    s = 8 if dtype == "float64" else 4
    assert training_bytes(cfg) == _trained(model, 20, L, 32, 2, s)


# --- sweep/capacity.py: how many workers fit ---


def _cells_and_one_worker():
    from vanishlab.sweep.memory import POOL_BYTES, WORKER_BYTES, cell_bytes

    cells = [vl.CellConfig(seq_len=20, hidden_size=16)]
    return cells, cell_bytes(cells[0]) + WORKER_BYTES, POOL_BYTES


def test_two_workers_asked_for_run_as_two_where_two_fit():
    """Only 1, 4 and 3 workers asked for were tested: a rule that ran any fewer than 3 in
    this process passed."""
    from vanishlab.sweep.capacity import check_memory

    cells, worker, pool = _cells_and_one_worker()
    assert check_memory(cells, pool + 2 * worker, 2) == 2


def test_the_workers_are_counted_in_the_memory_they_share():
    """``shared`` (the machine's or the cgroup's) divides among the workers; ``free`` (which
    counts an address-space limit, each process's own) only bounds one cell."""
    from vanishlab.sweep.capacity import check_memory

    cells, worker, pool = _cells_and_one_worker()
    assert check_memory(cells, 100 * worker, 4, shared=pool + 2 * worker) == 2
    assert check_memory(cells, worker, 4, shared=pool + 3 * worker) == 3


# --- core/allocation.py: the figures read from /proc and /sys ---


class _Files:
    """``allocation.Path`` over a dict of file texts (a missing one raises OSError)."""

    def __init__(self, texts):
        self.texts = texts

    def __call__(self, name):
        files = self

        class _File:
            def read_text(self):
                if name not in files.texts:
                    raise FileNotFoundError(name)
                return files.texts[name]

        return _File()


def test_memavailable_is_read_in_kib_of_1024_bytes(monkeypatch):
    from vanishlab.core import allocation

    meminfo = "MemTotal:       16384000 kB\nMemAvailable:    2000000 kB\n"
    monkeypatch.setattr(allocation, "Path", _Files({"/proc/meminfo": meminfo}))
    assert allocation._meminfo_available() == 2000000 * 1024


def test_a_cgroup_leaves_its_limit_less_its_use_and_no_limit_is_none(monkeypatch):
    """``memory.max`` of "max" is no limit; a cgroup that uses more than its limit (it can,
    after the limit is lowered) leaves 0 bytes, not a negative number of them."""
    from vanishlab.core import allocation

    cg = "/sys/fs/cgroup/memory."
    for limit, used, left in [("max", "5", None), ("1000", "400", 600), ("1000", "1500", 0)]:
        files = _Files({cg + "max": f"{limit}\n", cg + "current": f"{used}\n"})
        monkeypatch.setattr(allocation, "Path", files)
        assert allocation._cgroup_available() == left


def test_the_memory_shared_is_the_least_of_the_machines_and_the_cgroups(monkeypatch):
    """shared_bytes, what the workers divide: the least figure (the greatest passed, and so did
    reading the page counts of sysconf beside /proc's figure)."""
    import os

    from vanishlab.core import allocation

    monkeypatch.setattr(allocation, "_meminfo_available", lambda: 5 * 2**30)
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: 2**30)
    monkeypatch.setattr(os, "sysconf", lambda name: 1, raising=False)
    assert allocation.shared_bytes() == 2**30
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: None)
    assert allocation.shared_bytes() == 5 * 2**30  # /proc's figure, not sysconf's 1 byte


# --- sweep/memory.py: a cell's need from its config ---


def test_a_cells_need_is_its_measurements_or_its_trainings_whichever_is_larger():
    """cell_bytes passes every size of the config on (a relu's activation, an input size
    apart from the hidden size), and counts training only for a trained cell."""
    from vanishlab.sweep.memory import cell_bytes

    # long and narrow: the forward phase, where a relu keeps one number fewer than a tanh
    cfg = vl.CellConfig(seq_len=2048, hidden_size=4, batch=64, activation="relu", input_size=40)
    sizes = dict(seq_len=2048, num_layers=1, batch=64, hidden_size=4, input_size=40)
    assert cell_bytes(cfg) == measure_bytes(**sizes, dtype="float32", activation="relu")
    assert cell_bytes(cfg) != measure_bytes(**sizes, dtype="float32", activation="tanh")
    assert cell_bytes(cfg) < training_bytes(cfg)  # (not counted: the cell trains no steps)
    trained = vl.CellConfig(seq_len=300, hidden_size=8, task="adding", train_steps=1, input_size=2)
    assert cell_bytes(trained) == training_bytes(trained)  # the larger, here


def test_the_docs_figures_of_a_workers_and_the_forkservers_own_memory_are_the_counts():
    """docs/cli.md tells a user what each worker and the forkserver need beside the cells;
    WORKER_BYTES a MiB less passed every test (a worker's budget is tested from below only)."""
    import re
    from pathlib import Path

    from vanishlab.sweep.memory import POOL_BYTES, WORKER_BYTES

    text = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    own = re.search(r"largest cell's estimate, and ~(\d+) MiB of its own", text)
    once = re.search(r"forkserver that starts them needs ~(\d+) MiB, once", text)
    assert own and once
    assert (int(own.group(1)), int(once.group(1))) == (WORKER_BYTES >> 20, POOL_BYTES >> 20)


def test_the_largest_cell_is_the_one_refused_and_counted():
    """Of a grid's cells the largest decides: the smallest in its place passed, where the
    workers' own memory outweighs the cells'."""
    from vanishlab.errors import CellTooLargeError
    from vanishlab.sweep.capacity import check_memory
    from vanishlab.sweep.memory import POOL_BYTES, WORKER_BYTES, cell_bytes

    small = vl.CellConfig(seq_len=20, hidden_size=16)
    big = vl.CellConfig(seq_len=20, hidden_size=64)
    with pytest.raises(CellTooLargeError, match="hidden_size 64,"):
        check_memory([small, big], cell_bytes(big) - 1, 4)
    two_small = POOL_BYTES + 2 * (cell_bytes(small) + WORKER_BYTES)  # one large worker
    assert check_memory([big, small], two_small, 4) == 1


def test_no_note_where_every_worker_asked_for_fits():
    from vanishlab.sweep.capacity import worker_count

    said: list[str] = []
    cells = [vl.CellConfig(seq_len=20, hidden_size=16)]
    assert worker_count(1, cells, 2**40, local=True, say=said.append) == 1
    assert said == []


def test_the_fewer_workers_note_says_the_memory_they_share():
    """The note's "... is available" is the memory the workers were counted in (``shared``),
    not one process's ``free``."""
    from vanishlab.sweep.capacity import worker_count
    from vanishlab.sweep.memory import format_bytes

    said: list[str] = []
    cells = [vl.CellConfig(seq_len=20, hidden_size=16), vl.CellConfig(seq_len=20, hidden_size=8)]
    shared = 300 * 2**20  # the forkserver's 256 MiB and no worker beside it
    assert worker_count(2, cells, 2**40, local=True, say=said.append, shared=shared) == 1
    assert len(said) == 1 and said[0].endswith(f"and {format_bytes(shared)} is available")
