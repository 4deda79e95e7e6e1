"""Small real runs for the report tests: measured with :func:`vanishlab.run_sweep`.

Each helper runs a tiny grid in this process (``workers=1``) into a temporary directory and
can then add what a real sweep produces only rarely: a failed cell with a reason of the
test's choosing, or manifest fields with hostile text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import vanishlab as vl
from vanishlab.sweep.config import CellConfig
from vanishlab.sweep.shard import write_shard
from vanishlab.sweep.store import SCHEMA, load_manifest, write_manifest

# A grid that has every section: two activations, one and two layers, two inits, two gains,
# two seeds (32 cells of H = 8, T = 24: a few seconds).
FULL = vl.Sweep(
    activation=("tanh", "relu"),
    num_layers=(1, 2),
    init=("orthogonal", "normal"),
    gain=(0.5, 1.5),
    seed=(0, 1),
    hidden_size=8,
    input_size=4,
    seq_len=24,
    batch=4,
)
# One cell: the smallest run there is.
SINGLE = vl.Sweep(hidden_size=8, input_size=4, seq_len=16, batch=2)
# The gated experiment's smoke grid, smaller: rnn at tanh beside lstm and gru, two inits.
GATED = vl.Sweep(
    model=("rnn", "lstm", "gru"),
    activation="tanh",
    init=("default", "orthogonal"),
    num_layers=(1, 2),
    seq_len=(6,),
    hidden_size=4,
    input_size=2,
    batch=2,
    seed=(0,),
)
# relu with zero input and no bias: every state is 0 and relu'(0) = 0, so every Jacobian past
# lag 0 is exactly zero; plus, in float32, a gain that overflows the forward pass (failed cell)
# and, in float64, norms beyond the float32 range.
ZEROS = vl.Sweep(
    activation="relu",
    init="normal",
    bias=False,
    input_std=(0.0, 1.0),
    gain=(1.0, 12.0),
    hidden_size=8,
    input_size=4,
    seq_len=60,
    batch=2,
    dtype=("float32", "float64"),
)


def make_run(run_dir: Path, sweep: vl.Sweep, *, name: str = "test-run", **manifest: Any) -> Path:
    """Run ``sweep`` into ``run_dir`` and override manifest fields with ``manifest``."""
    vl.run_sweep(sweep, run_dir, name=name, workers=1, progress=False)
    if manifest:
        data = load_manifest(run_dir)
        data.update(manifest)
        write_manifest(run_dir, data)
    return run_dir


def report_sections(
    run_dir: Path, sweep: vl.Sweep, sections: list[str] | None = None
) -> dict[str, Any]:
    """Run ``sweep`` into ``run_dir`` and build its report (``sections``: of those alone, as
    :func:`report_of`): its sections by key."""
    vl.run_sweep(sweep, run_dir, workers=1, progress=False)
    return {s.key: s for s in report_of(run_dir, sections).sections}


def report_of(
    run_dir: Path, sections: list[str] | None = None, timestamp: str = "2024-01-01"
) -> Any:
    """The report :func:`vanishlab.report.build_report` builds of the run in ``run_dir``
    (stamped ``timestamp``);
    ``sections``: of those alone (and the page's overview and anomalies, always built), where
    a test reads a section whose words depend on no other (it never calls ``view.shows``:
    gain, theory, depth, the tables' sections); each section a test does not read cost its
    share of the build."""
    from vanishlab.report import build_report

    return build_report(
        vl.load_results(run_dir),
        vl.load_cells(run_dir),
        vl.load_manifest(run_dir),
        timestamp=timestamp,
        sections=sections,
    )


def monitor_run(out: Path, losses: Any, *, every: int = 1, chance: object = None) -> Path:
    """A monitor's run of a seeded nn.RNN(2, 6) into ``out``: step ``every * i`` recorded with
    ``losses[i]``, the weights moving between steps; ``chance``: its ``chance_loss=``."""
    import torch
    from torch import nn

    from vanishlab.trained import JacobianMonitor

    torch.manual_seed(0)
    rnn = nn.RNN(2, 6)
    probe = torch.randn(8, 2, 2)
    with JacobianMonitor(rnn, probe, out=out, every=every, chance_loss=chance) as mon:
        for i, loss in enumerate(losses):
            with torch.no_grad():
                rnn.weight_hh_l0.mul_(1.03)
            mon.step(every * i, loss=loss)
    return out


def monitor_report_of(run_dir: Path) -> Any:
    """The report of a monitor's run in ``run_dir``, its recorded steps read as the page reads
    them (the manifest's ``steps``)."""
    from vanishlab.report import build_report
    from vanishlab.sweep.manifest import monitor_steps
    from vanishlab.sweep.store import read_cell_metas

    manifest = vl.load_manifest(run_dir)
    manifest = {**manifest, "steps": monitor_steps(manifest, read_cell_metas(run_dir))}
    return build_report(
        vl.load_results(run_dir), vl.load_cells(run_dir), manifest, timestamp="2024"
    )


_BUILT: dict[tuple[object, ...], Any] = {}


def built_once(build: Callable[[Path], Any], run: Path) -> Any:
    """``build(run)``, called again only when the run directory's files have changed (by
    name, size or modification time) since this process last called it: a file's tests ask
    for the same run's report many times (test_report_long_deps 85 times, up to 9 a run).
    ``build`` returns a report (its dataclasses are frozen and hold tuples) or anything the
    tests only read; a test that patches the code ``build`` calls builds without this."""
    files = sorted(p for p in run.rglob("*") if p.is_file())
    key = (build, str(run), *((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))
    if key not in _BUILT:
        _BUILT[key] = build(run)
    return _BUILT[key]


def reproduce_text(page: str) -> str:
    """The commands of a page's Reproduce block as a browser shows (and copies) them: its
    tags stripped (each shell word is a box of its own), its entities decoded."""
    found = re.search(r"<h3>Reproduce</h3>\n<pre><code>(.*?)</code></pre>", page, re.DOTALL)
    assert found, "the page has no Reproduce block"
    return html.unescape(re.sub(r"<[^>]*>", "", found.group(1)))


def add_failed_cell(run_dir: Path, reason: str, **config: Any) -> str:
    """Write the shard of a failed cell (zero rows) with ``reason``; return its cell id."""
    cfg = CellConfig(**config)
    empty = SCHEMA.empty_table().to_pandas().astype({"layer": "Int64"})
    meta = {
        "cell_id": cfg.cell_id,
        "config": cfg.to_dict(),
        "status": "failed",
        "reason": reason,
        "elapsed_s": 0.0,
        "n_rows": 0,
    }
    write_shard(run_dir, empty, meta)  # type: ignore[arg-type]
    return cfg.cell_id


def report_with_a_failed_seed(
    run_dir: Path, gains: tuple[float, ...], sections: list[str] | None = None, **axes: Any
) -> Any:
    """The report (``sections``: of those alone, as :func:`report_of`) of a two-seed sweep of
    H = 8, T = 20 (``gains``, other ``axes`` as given) whose seed 1 failed at the largest gain:
    a setting of one seed beside settings of two."""
    sweep = vl.Sweep(gain=gains, seed=(0, 1), hidden_size=8, input_size=4, seq_len=20, batch=2,
                     **axes)  # fmt: skip
    vl.run_sweep(sweep, run_dir, workers=1, progress=False)
    (lone,) = [c for c in sweep.cells() if c.seed == 1 and c.gain == max(gains)]
    add_failed_cell(run_dir, "test failure", **lone.to_dict())
    return report_of(run_dir, sections)


def trainability_section(tmp_path: Path, **axes: Any) -> Any:
    """The Trainability section of a tiny trained sweep (adding problem, 2 Adam steps, H = 4,
    T = 6 unless ``axes`` gives ``seq_len``) over ``axes``."""
    sweep = vl.Sweep(
        **{"seq_len": (6,), **axes},
        hidden_size=4,
        input_size=2,
        batch=4,
        task="adding",
        train_steps=2,
        lr=0.01,
    )
    return trainability_of(sweep, tmp_path / "run")


def trainability_of(sweep: Any, run: Path) -> Any:
    """The Trainability section of ``sweep`` run in ``run``."""
    from vanishlab.report import build_report

    # In this process (the cells are bit-identical on any number of workers: test_sweep's
    # test_workers_are_bit_identical_to_one), not a pool of one worker a core, started for each
    # section; and the section alone, which reads no other (it never calls view.shows).
    vl.run_sweep(sweep, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run),
        vl.load_cells(run),
        vl.load_manifest(run),
        timestamp="2024-01-01",
        sections=["trainability"],
    )
    return next(s for s in report.sections if s.key == "trainability")
