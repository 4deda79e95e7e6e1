"""A user's script, for type checkers only (tests/test_api_types.py runs mypy --strict and
pyright on it; nothing runs it): every name of ``vanishlab.__all__`` called as README.md and
docs/ show. An error either tool reports here is one a user would see, for a call we document.
"""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

import numpy as np
import torch
from torch import nn

import vanishlab as vl
from vanishlab.train import AddingProblem


def uniform_apply(rnn: nn.RNNBase, gain: float, gen: torch.Generator) -> None:
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            bound = (gain if name.startswith("weight_hh") else 1.0) * (3 / p.shape[-1]) ** 0.5
            p.uniform_(-bound, bound, generator=gen)


def uniform_variances(hidden_size: int, input_size: int, gain: float) -> tuple[float, float, float]:
    return gain**2 / hidden_size, 1.0 / input_size, 0.0


def measure() -> None:
    rnn, x, h0 = nn.RNN(10, 20, 2), torch.randn(200, 3, 10), torch.randn(2, 3, 20)
    norms = vl.jacobian_norms(rnn, x, h0)
    vl.fit_decay(norms)
    vl.fit_decay(norms, by=("source", "layer"))
    vl.fit_decay(norms, by="source", window=(2, None), norm="spec")
    assert_type(vl.lyapunov_spectrum(rnn, x, k=3, discard=50), torch.Tensor)
    vl.check_pascanu(rnn, norms)
    vl.check_pascanu(rnn, norms, seq_len=np.int64(200))
    vl.fit_decay(norms, window=(np.int64(2), torch.tensor(50)))
    with vl.counting_steps(lambda done, total: print(f"\r{done}/{total}", end="")):
        vl.jacobian_norms(rnn, x)
    lstm, c0 = nn.LSTM(10, 20, 2), torch.zeros(2, 3, 20)
    vl.jacobian_norms(lstm, x, sources=("state", "input", "state_h", "state_c"))
    vl.jacobian_norms(lstm, x, (h0, c0))
    vl.jacobian_norms(lstm, x, [h0, c0])  # as nn.LSTM takes it too
    vl.lyapunov_spectrum(lstm, x, (h0, c0), 5)
    gru = nn.GRU(10, 20)
    vl.jacobian_norms(gru, x, torch.zeros(1, 3, 20), norms=["fro"])
    logn = vl.jacobian_log_norms(gru.double(), x.double())
    assert_type(logn, vl.JacobianLogNorms)
    assert_type(logn.state_fro, torch.Tensor | None)
    assert_type(vl.linear_rate(rnn), float)
    vl.origin_log_norms(rnn, 50)
    assert_type(vl.pascanu_bound(rnn, 1), float)
    vl.pascanu_bound(rnn, np.int64(1))  # a count: a NumPy integer or a 0-d tensor too
    vl.lyapunov_spectrum(rnn, x, k=torch.tensor(2), discard=np.int64(5))
    vl.pascanu_envelope(rnn, 100)
    assert_type(vl.mean_field("tanh", 1.5, input_var=1.0), vl.MeanField)
    assert_type(vl.critical_input_var("tanh", 3.0), float)


def sweep(run: Path) -> None:
    cfg = vl.CellConfig(hidden_size=8, input_size=4, seq_len=10, batch=2)
    assert_type(cfg, vl.CellConfig)
    assert_type(cfg.activation, str | None)  # None in an LSTM's or a GRU's cell
    assert_type(cfg.cell_id, str)
    _rows, meta = vl.run_cell(cfg)
    assert_type(meta["status"], str)
    assert_type(vl.mean_field_inputs(cfg), vl.MeanFieldInputs)
    assert_type(vl.cell_mean_field(cfg.to_dict()), vl.MeanField | None)
    assert_type(vl.critical_gain(cfg), float)
    vl.critical_gain({"activation": "relu", "init": "normal", "hidden_size": 8, "input_size": 4})
    init = vl.Init(
        "my_uniform",
        "W_hh ~ U(+-g sqrt(3/H)), W_ih ~ U(+-sqrt(3/I)), zero biases",
        uniform_apply,
        uniform_variances,
        validity="iid",
        validity_reason="i.i.d. zero-mean uniform entries",
        gain_on="W_hh only",
    )
    assert_type(vl.register_init(init), vl.Init)
    vl.register_init(vl.chrono_init(1000))
    assert_type(vl.INITS["normal"].gain_on, str)
    grid = vl.Sweep(init=("my_uniform", "normal"), gain=(0.5, 1.0, 2.0), hidden_size=64)
    smoke: vl.Sweep = grid.replace(hidden_size=8, input_size=4, seq_len=10, batch=2)
    assert_type(smoke.gain, tuple[float, ...])
    assert_type(smoke.size, int)
    assert_type(smoke.cells()[0], vl.CellConfig)
    small = vl.Sweep(seed=range(2), gain=[0.5, 1.0], model="rnn", hidden_size=8)
    summary = vl.run_sweep(small, run, workers=1, progress=False)
    # an integer axis and workers take a NumPy integer or a 0-d integer tensor too; held as int
    counted = vl.CellConfig(hidden_size=np.int64(8), seed=torch.tensor(1), batch=np.int32(2))
    assert_type(counted.hidden_size, int)
    sizes = vl.Sweep(hidden_size=np.int64(8), seed=np.arange(3), batch=[np.int64(2), 4])
    assert_type(sizes.seed, tuple[int, ...])
    vl.run_sweep(sizes, run, workers=np.int64(1), progress=False)
    assert_type(summary, vl.RunSummary)
    assert_type(summary.n_cells, int)
    vl.run_sweep(small, str(run), workers=1, progress=False)
    vl.load_results(run)
    vl.load_results(str(run), cell_ids=["0123456789abcdef"])
    vl.load_cells(run)
    vl.summarize(run)
    vl.load_training(run)
    manifest: dict[str, object] = vl.load_manifest(run)
    print(manifest.get("kind"))
    assert_type(vl.render_report(run, "reports/mine.html", overwrite=True), Path)
    vl.render_report(str(run))
    experiments = vl.list_experiments()
    assert_type(experiments, list[tuple[str, str, Path]])
    experiment = vl.load_experiment("gain_phase")
    assert_type(experiment, vl.Experiment)
    assert_type(experiment.smoke, vl.Sweep | None)
    vl.run_sweep(experiment, run, smoke=True, workers=1)
    vl.run_sweep("gain_phase", run, smoke=True, workers=1)


def models(run: Path) -> None:
    rnn = nn.RNN(4, 8, batch_first=True)
    probe = torch.randn(8, 20, 4)
    with vl.JacobianMonitor(rnn, probe, out=run, every=torch.tensor(100)) as mon:
        assert_type(mon, vl.JacobianMonitor)
        mon.step(0)
        mon.step(100, loss=rnn(probe)[0].pow(2).mean())
        mon.step(torch.tensor(200), loss=0.5)  # docs/trained.md: a 0-d integer tensor
        mon.step(np.int64(300))  # or a NumPy integer
    vl.JacobianMonitor(rnn, probe, out=str(run), chance_loss=AddingProblem(6).chance_loss)
    torch.save(rnn.state_dict(), "model.pt")
    assert_type(vl.read_checkpoint("model.pt").sha256, str)
    result = vl.analyze_checkpoint("model.pt", run, seq_len=50, batch=4)
    assert_type(result.run_dir, Path)
    # a count: a NumPy integer or a 0-d integer tensor too
    vl.analyze_checkpoint("model.pt", run, seq_len=np.int64(50), seed=torch.tensor(1))
    trained = vl.train_cell(nn.RNN(2, 16), AddingProblem(6), steps=10)
    vl.train_cell(nn.RNN(2, 16), AddingProblem(6), steps=np.int64(10), batch=torch.tensor(4))
    assert_type(trained, vl.TrainResult)
    assert_type(trained.solved, bool)
    try:
        vl.jacobian_norms(nn.RNN(2, 2, nonlinearity="relu"), torch.full((3, 1, 2), 1e30))
    except vl.NonFiniteStateError as error:  # where the forward pass overflowed
        assert_type(error.layer, int)
    except vl.VanishlabError as error:
        print(error)
    warning: type[Warning] = vl.ManifestChangedWarning
    assert_type(vl.__version__, str)
    print(warning)
