"""The training loop: vanishing gradients block learning, seeds reproduce, arguments are checked."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.sweep.inits import INITS
from vanishlab.train import AddingProblem, RecallFirst, Task, TrainResult, train_cell
from vanishlab.train.loop import _steps_to_solve

_LN10 = math.log(10.0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tanh_rnn(gain: float, hidden: int = 16, seed: int = 0) -> nn.RNN:
    """tanh nn.RNN with W_hh ~ N(0, gain^2 / H), W_ih ~ N(0, 1 / 2) (the ``normal`` init)."""
    rnn = nn.RNN(2, hidden, batch_first=True)
    INITS["normal"].apply(rnn, gain, torch.Generator().manual_seed(seed))
    return rnn


_RIGOR = dict(steps=300, lr=1e-2, batch=32, seed=0, eval_batch=256, eval_points=6)


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_vanishing_gradient_at_a_long_lag_is_not_solved_but_short_lag_is() -> None:
    """The rigor anchor of the trainability experiment.

    One network (tanh, gain 0.25, one seed) and one training budget. At T = 60 the first
    marked value sits at lag >= 30 from the readout, where the engine measures
    ||dh_T/dx_t|| below e^-40 for every sample: it must not be reported solved. At T = 6 it
    sits at lag >= 3: the same network learns the task.
    """
    long_task, short_task = AddingProblem(60), AddingProblem(6)
    rnn = _tanh_rnn(0.25)
    x, _ = long_task.sample(32, torch.Generator().manual_seed(0))
    frame = vl.jacobian_norms(rnn, x, sources=["input"], norms=["fro"])
    first_marker_lags = frame[frame["lag"] >= 60 - 60 // 2]
    assert float(first_marker_lags["log10_fro"].max()) < -40 / _LN10

    long = train_cell(_tanh_rnn(0.25), long_task, **_RIGOR)
    assert not long.solved and long.steps_to_solve is None and not long.diverged
    # nor does it carry the first value at all: any prediction that ignores u_{p1} has MSE at
    # least Var(u_{p1}) = 1/12 = chance / 2 (0.4 x chance leaves 3 standard errors of the
    # 256-sequence held-out estimate)
    assert long.final_loss > 0.4 * long.chance_loss

    short = train_cell(_tanh_rnn(0.25), short_task, **_RIGOR)
    assert short.solved and short.final_loss < short.threshold
    assert short.steps_to_solve is not None and short.steps_to_solve <= _RIGOR["steps"]


def _small(kind: str = "rnn", **kw) -> nn.Module:
    torch.manual_seed(0)
    return {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](2, 8, **kw)


def test_same_seed_gives_the_same_loss_curve() -> None:
    kw = dict(steps=12, eval_points=4, batch=8, eval_batch=32)
    a = train_cell(_small(), AddingProblem(8), seed=3, **kw)
    b = train_cell(_small(), AddingProblem(8), seed=3, **kw)
    assert a == b and a.eval_losses == b.eval_losses  # bitwise equal floats
    c = train_cell(_small(), AddingProblem(8), seed=4, **kw)
    assert c.eval_losses[0] != a.eval_losses[0]  # another readout init
    assert c.eval_losses != a.eval_losses


def test_eval_seed_fixes_the_held_out_batch_and_not_the_training_data() -> None:
    kw = dict(steps=6, eval_points=2, batch=8, eval_batch=32, seed=1)
    a = train_cell(_small(), AddingProblem(8), eval_seed=0, **kw)
    b = train_cell(_small(), AddingProblem(8), eval_seed=9, **kw)
    assert a.eval_losses[0] != b.eval_losses[0]


def test_batch_first_does_not_change_the_run() -> None:
    kw = dict(steps=8, eval_points=2, batch=8, eval_batch=32)
    seq_first = _small()
    batch_first = nn.RNN(2, 8, batch_first=True)
    batch_first.load_state_dict(seq_first.state_dict())
    a = train_cell(seq_first, AddingProblem(7), **kw)
    b = train_cell(batch_first, AddingProblem(7), **kw)
    for u, v in zip(a.eval_losses, b.eval_losses, strict=True):
        assert u == pytest.approx(v, rel=1e-5)


@pytest.mark.parametrize(
    ("kind", "kw"),
    [
        ("rnn", {"num_layers": 2, "nonlinearity": "relu"}),
        ("lstm", {"batch_first": True}),
        pytest.param(
            "lstm",
            {"proj_size": 3},
            marks=pytest.mark.filterwarnings("ignore:LSTM with projections is not supported"),
        ),
        ("gru", {"bidirectional": True, "num_layers": 2}),
    ],
)
def test_accepts_rnn_lstm_gru(kind: str, kw: dict) -> None:
    result = train_cell(_small(kind, **kw), AddingProblem(5), steps=4, eval_points=2, batch=4)
    assert isinstance(result, TrainResult)
    assert result.eval_steps == (0, 2, 4) and len(result.eval_losses) == 3
    assert all(math.isfinite(v) for v in result.eval_losses)
    assert result.final_loss == result.eval_losses[-1]
    assert result.chance_loss == pytest.approx(1 / 6) and result.threshold == pytest.approx(1 / 60)


def test_recall_task_trains_with_cross_entropy() -> None:
    task = RecallFirst(3, n_symbols=4)
    torch.manual_seed(0)
    rnn = nn.GRU(4, 16, batch_first=True)
    result = train_cell(rnn, task, steps=100, eval_points=3, batch=32, eval_batch=256)
    assert result.chance_loss == pytest.approx(math.log(4))
    assert result.solved, result.eval_losses


@pytest.mark.parametrize("mode", [True, False])
def test_training_mode_is_restored(mode: bool) -> None:
    rnn = _small(num_layers=2, dropout=0.5)
    rnn.train(mode)
    train_cell(rnn, AddingProblem(5), steps=2, eval_points=1, batch=4)
    assert rnn.training is mode


class _Broken(AddingProblem):
    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            raise RuntimeError("boom")
        return super().loss(output, target)


def test_training_mode_is_restored_when_training_fails() -> None:
    rnn = _small()
    rnn.eval()
    with pytest.raises(RuntimeError, match="boom"):
        train_cell(rnn, _Broken(5), steps=2, eval_points=1, batch=4)
    assert rnn.training is False


def test_global_random_state_is_left_alone_even_with_dropout() -> None:
    kw = dict(steps=3, eval_points=1, batch=4, eval_batch=8)
    rnn = _small(num_layers=2, dropout=0.5)
    state = torch.get_rng_state()
    a = train_cell(rnn, AddingProblem(5), **kw)
    assert torch.equal(state, torch.get_rng_state())
    torch.manual_seed(123)  # dropout masks come from the seed, not from the global state
    b = train_cell(_small(num_layers=2, dropout=0.5), AddingProblem(5), **kw)
    assert a == b


class _DropConnect(nn.Module):
    """Dropout on a weight (torch.nn.utils.parametrize): draws from the global generator."""

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return nn.functional.dropout(weight, 0.5, self.training)


def _weight_dropped(kind: str) -> nn.RNN:
    rnn = _small()
    if kind == "parametrization":
        torch.nn.utils.parametrize.register_parametrization(rnn, "weight_hh_l0", _DropConnect())
    else:  # a forward pre-hook that draws (AWD-LSTM's weight drop draws its mask there)
        rnn.register_forward_pre_hook(_draw)
    return rnn


def _draw(module: nn.Module, args: tuple) -> None:
    torch.rand(())


@pytest.mark.parametrize("kind", ["parametrization", "pre-hook"])
def test_user_code_that_draws_during_training_is_seeded_and_leaves_the_global_state(kind):
    """Training seeded and forked the global generator only for stacked dropout and an own
    forward: a DropConnect parametrization or a weight-drop pre-hook of a one-layer module drew
    from the caller's generator, which training advanced, and the loss depended on it."""
    kw = dict(steps=3, eval_points=1, batch=4, eval_batch=8)
    rnn = _weight_dropped(kind)
    state = torch.get_rng_state()
    a = train_cell(rnn, AddingProblem(5), **kw)
    assert torch.equal(state, torch.get_rng_state())
    rnn = _weight_dropped(kind)
    torch.manual_seed(123)  # the masks come from the seed, not from the global state
    b = train_cell(rnn, AddingProblem(5), **kw)
    assert a == b


def test_the_module_is_trained_in_place_and_the_optimizer_matters() -> None:
    rnn = _small()
    before = [p.detach().clone() for p in rnn.parameters()]
    adam = train_cell(rnn, AddingProblem(6), steps=5, eval_points=1, batch=8)
    assert any(not torch.equal(b, p) for b, p in zip(before, rnn.parameters(), strict=True))
    sgd = train_cell(_small(), AddingProblem(6), steps=5, eval_points=1, batch=8, optimizer="sgd")
    noclip = train_cell(_small(), AddingProblem(6), steps=5, eval_points=1, batch=8, clip=None)
    assert adam.eval_losses[0] == sgd.eval_losses[0] == noclip.eval_losses[0]
    assert len({adam.final_loss, sgd.final_loss, noclip.final_loss}) >= 2


@pytest.mark.parametrize("mode", ["no_grad", "grad_disabled", "inference_mode"])
def test_training_runs_under_the_callers_no_grad_or_inference_mode(mode: str) -> None:
    """Training turns autograd on itself: under torch.no_grad() every step failed with torch's
    "element 0 of tensors does not require grad" (and every trained cell of vl.run_sweep)."""
    expected = train_cell(_small(), AddingProblem(6), steps=3, eval_points=1, batch=8)
    rnn = _small()  # built outside the mode: its parameters are ordinary tensors
    context = {
        "no_grad": torch.no_grad,
        "grad_disabled": lambda: torch.set_grad_enabled(False),
        "inference_mode": torch.inference_mode,
    }[mode]
    with context():
        result = train_cell(rnn, AddingProblem(6), steps=3, eval_points=1, batch=8)
        assert not torch.is_grad_enabled()  # the caller's mode is back
    assert result.eval_losses == expected.eval_losses


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_training_is_in_the_modules_own_dtype_under_the_callers_autocast(kind: str) -> None:
    """A caller's torch.autocast region trained in bfloat16 (an LSTM's loss curve went from
    0.18 to 1.4 after 30 steps), where the docstring promises the same curve from the same
    arguments: training now sets it aside, as a measurement does, and it is on again after."""
    make = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    torch.manual_seed(0)
    module = make(2, 8, batch_first=True)
    state = {k: v.clone() for k, v in module.state_dict().items()}
    expected = train_cell(module, AddingProblem(6), steps=4, eval_points=2, batch=8)
    module.load_state_dict(state)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        result = train_cell(module, AddingProblem(6), steps=4, eval_points=2, batch=8)
        assert torch.mm(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.bfloat16  # back on
    assert result == expected
    assert all(p.dtype == torch.float32 for p in module.parameters())


def test_a_module_made_under_inference_mode_is_refused_by_name() -> None:
    with torch.inference_mode():
        rnn = _small()
    with pytest.raises(ValueError, match=r"module's parameters were made under torch\.inference"):
        train_cell(rnn, AddingProblem(6), steps=3, eval_points=1, batch=8)


def test_a_module_on_the_meta_device_is_refused_by_name() -> None:
    # torch's "Tensor.item() cannot be called on meta tensors", from inside the first step
    with pytest.raises(ValueError, match=r"module's parameters are on the meta device"):
        train_cell(_small().to("meta"), AddingProblem(6), steps=3, eval_points=1, batch=8)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_a_trained_sweep_cell_trains_under_the_callers_mode(mode) -> None:
    config = vl.CellConfig(hidden_size=4, input_size=2, seq_len=6, batch=2, task="adding",
                           train_steps=3)  # fmt: skip
    expected = vl.run_cell(config)[1]
    with mode():
        _, meta = vl.run_cell(config)
    assert meta["status"] == "ok", meta["reason"]
    assert meta["train"]["final_loss"] == expected["train"]["final_loss"]


def test_float64_module_trains_in_float64() -> None:
    rnn = _small().double()
    result = train_cell(rnn, AddingProblem(5), steps=3, eval_points=1, batch=4)
    assert all(p.dtype == torch.float64 for p in rnn.parameters())
    assert math.isfinite(result.final_loss)


def test_a_diverging_run_is_flagged_and_not_solved() -> None:
    """relu, identity recurrence at gain 3: the state grows like 3^T and overflows float32."""
    rnn = nn.RNN(2, 8, nonlinearity="relu", batch_first=True)
    INITS["identity"].apply(rnn, 3.0, torch.Generator().manual_seed(0))
    result = train_cell(rnn, AddingProblem(100), steps=5, eval_points=5, batch=8)
    assert result.diverged and not result.solved and result.steps_to_solve is None
    assert math.isnan(result.final_loss)
    assert math.isnan(result.eval_losses[1])  # stopped at the first update


def test_steps_to_solve_is_the_start_of_the_final_stretch_under_threshold() -> None:
    steps = [0, 10, 20, 30, 40]
    assert _steps_to_solve(steps, [1.0, 0.05, 0.2, 0.05, 0.01], 0.1) == 30
    assert _steps_to_solve(steps, [1.0, 0.05, 0.05, 0.05, 0.2], 0.1) is None
    assert _steps_to_solve(steps, [0.0, 0.0, 0.0, 0.0, 0.0], 0.1) == 0
    assert _steps_to_solve(steps, [1.0, 0.0, 0.0, 0.0, math.nan], 0.1) is None
    assert _steps_to_solve(steps, [1.0, 1.0, 1.0, 0.1, 0.1], 0.1) is None  # strict


def test_solve_fraction_sets_the_threshold() -> None:
    kw = dict(steps=2, eval_points=1, batch=4)
    result = train_cell(_small(), AddingProblem(5), solve_fraction=1e-9, **kw)
    assert result.threshold == pytest.approx(1e-9 / 6) and not result.solved


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"steps": 0}, "steps must be an integer >= 1, got 0"),
        ({"batch": 0}, "batch must be an integer >= 1"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"eval_batch": 0}, "eval_batch must be an integer >= 1"),
        ({"eval_points": 0}, "eval_points must be an integer >= 1"),
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lr": math.nan}, "lr must be a finite number > 0"),
        ({"lr": 10**400}, "lr must be a finite number > 0, got 1000"),  # an OverflowError
        ({"clip": -(10**400)}, "clip must be a finite number > 0 or None, got -1000"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of adam, sgd, got 'rmsprop'"),
        ({"clip": -1.0}, "clip must be a finite number > 0 or None"),
        ({"clip": math.inf}, "clip must be a finite number > 0 or None"),
        ({"solve_fraction": 1.0}, r"solve_fraction must be in \(0, 1\)"),
        ({"solve_fraction": 0}, r"solve_fraction must be in \(0, 1\)"),
    ],
)
def test_bad_arguments_raise_value_error(kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        train_cell(_small(), AddingProblem(5), **kw)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"steps": 2.5}, "steps must be an integer >= 1, got 2.5"),
        ({"steps": "3"}, "steps must be an integer >= 1, got '3'"),
        ({"eval_seed": True}, "eval_seed must be an integer >= 0, got True"),
        ({"lr": "0.1"}, "lr must be a finite number > 0, got '0.1'"),
        ({"lr": None}, "lr must be a finite number > 0, got None"),
        ({"clip": "1"}, "clip must be a finite number > 0 or None, got '1'"),
        ({"solve_fraction": True}, "solve_fraction must be a finite number > 0, got True"),
        ({"optimizer": 3}, "optimizer must be one of adam, sgd, got 3"),
    ],
)
def test_arguments_of_the_wrong_type_raise_type_error(kw: dict, match: str) -> None:
    """A wrong type (``lr="0.1"``, ``steps=2.5``) raised a ValueError, as a value out of range
    does; it is a TypeError naming the argument, as ``module`` and ``task`` were, and as
    ``vl.analyze_checkpoint`` and ``vl.JacobianMonitor`` say it."""
    with pytest.raises(TypeError, match=re.escape(match)):
        train_cell(_small(), AddingProblem(5), **kw)


def test_bad_module_or_task() -> None:
    with pytest.raises(
        TypeError, match=re.escape("module must be a torch.nn.RNN, nn.LSTM or nn.GRU")
    ):
        train_cell(nn.Linear(2, 2), AddingProblem(5))
    with pytest.raises(TypeError, match=re.escape("task must be a vanishlab.train Task")):
        train_cell(_small(), "adding")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=re.escape("module.input_size is 2 but the recall task feeds 8")
    ):
        train_cell(_small(), RecallFirst(5))
    assert issubclass(AddingProblem, Task)


def test_weights_blown_up_by_the_last_update_are_flagged_diverged() -> None:
    """Adam's first step at lr 1e308 moves every weight by about 1e308: inf in float32. The
    training loss and gradient before it were finite; the held-out loss after it is not."""
    result = train_cell(_small(), AddingProblem(10), steps=1, lr=1e308, batch=4, eval_batch=16)
    assert math.isfinite(result.eval_losses[0]) and not math.isfinite(result.final_loss)
    assert result.diverged and not result.solved and result.steps_to_solve is None


def test_numpy_scalars_are_numbers() -> None:
    """np.int64 (from np.arange) and np.float32 were refused as "must be an integer"."""
    np = pytest.importorskip("numpy")
    plain = train_cell(_small(), AddingProblem(5), steps=2, lr=0.5, batch=4, eval_batch=8)
    mixed = train_cell(
        _small(), AddingProblem(5), steps=np.int64(2), lr=np.float32(0.5), batch=np.int32(4),
        eval_batch=np.int64(8), clip=np.float64(1.0), seed=np.uint8(0),
    )  # fmt: skip
    assert mixed == plain and type(mixed.eval_steps[-1]) is int
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        train_cell(_small(), AddingProblem(5), steps=np.int64(0))


@pytest.mark.filterwarnings("ignore:dropout option adds dropout after all but last")
def test_a_one_layer_module_with_dropout_is_seeded_as_one_that_draws():
    """A one-layer module's dropout draws nothing on a CPU, but cuDNN may take its dropout
    seed from the CUDA generator whenever dropout > 0: such a module is trained seeded, under
    the lock, as before the generator was left alone for modules that draw nothing."""
    from vanishlab.train.loop import _draws_from_global

    assert _draws_from_global(nn.LSTM(2, 8, dropout=0.5))
    assert not _draws_from_global(nn.LSTM(2, 8))


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_the_readout_starts_as_pytorchs_linear_layer(kind: str, monkeypatch) -> None:
    """The readout's weights and bias start U(-1/sqrt(F), 1/sqrt(F)) for fan-in F (the module's
    output features), as nn.Linear's do and the loop's docstring says: no test pinned the
    bound (a mutation audit's 1/F survived), and it sets the first losses of every trained
    cell."""
    import vanishlab.train.loop as loop

    drawn: list[tuple[tuple[int, ...], float]] = []
    real = loop._uniform

    def recording(shape, bound, *args):
        drawn.append((tuple(shape), bound))
        return real(shape, bound, *args)

    monkeypatch.setattr(loop, "_uniform", recording)
    module = _small(kind, num_layers=2)  # F = 8: 1/sqrt(8) and 1/8 differ
    train_cell(module, AddingProblem(4), steps=1, eval_points=2, batch=4, eval_batch=8)
    assert drawn == [((1, 8), 1 / math.sqrt(8)), ((1,), 1 / math.sqrt(8))]
