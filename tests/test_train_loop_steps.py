"""What one training step does, watched from inside the task (docs/trainability.md, "The loop").

A task that records each batch it is asked for, and the module's weights at that moment, sees
every optimizer step from outside the loop: the doc says each step draws a fresh batch, takes
the gradient of that batch's loss, clips the global norm to ``clip`` and takes one step of
plain SGD (no momentum) or Adam. The expected updates below are written from that sentence,
not read back from the loop.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from vanishlab.train import AddingProblem, RecallFirst, train_cell

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Spy(AddingProblem):
    """The adding problem, recording each batch drawn, the module's weights when it was drawn,
    and the gradient of each training batch's loss with respect to the module's weights."""

    module: nn.Module | None = None
    draws: list[tuple[torch.Tensor, list[torch.Tensor]]]
    grads: list[list[torch.Tensor]]

    def sample(self, batch, generator):
        x, y = super().sample(batch, generator)
        weights = [p.detach().clone() for p in self.module.parameters()]
        self.draws.append((x.clone(), weights))
        return x, y

    def loss(self, output, target):
        value = super().loss(output, target)
        if torch.is_grad_enabled():  # a training step (the held-out loss is under no_grad)
            params = list(self.module.parameters())
            grads = torch.autograd.grad(value, params, retain_graph=True)
            self.grads.append([g.detach().clone() for g in grads])
        return value


def _spy(module: nn.Module, T: int = 5) -> _Spy:
    task = _Spy(T)
    object.__setattr__(task, "module", module)
    object.__setattr__(task, "draws", [])
    object.__setattr__(task, "grads", [])
    return task


def _rnn() -> nn.RNN:
    torch.manual_seed(0)
    return nn.RNN(2, 4)


_KW = dict(batch=8, eval_batch=16, eval_points=1)


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1).double() for t in tensors])


def _updates(task: _Spy, module: nn.Module) -> list[torch.Tensor]:
    """The change of the module's weights made by each optimizer step, in order."""
    training = [w for x, w in task.draws if x.shape[0] == _KW["batch"]]
    after = [*training[1:], [p.detach().clone() for p in module.parameters()]]
    return [_flat(b) - _flat(a) for a, b in zip(training, after, strict=True)]


def test_each_step_draws_a_fresh_batch_and_steps_counts_the_updates() -> None:
    """``steps`` updates, each on a batch of its own: 5 training batches, all different, and
    one held-out batch (drawn first) of ``eval_batch`` sequences."""
    module = _rnn()
    task = _spy(module)
    train_cell(module, task, steps=5, optimizer="sgd", lr=0.1, **_KW)
    sizes = [x.shape[0] for x, _ in task.draws]
    assert sizes == [16, 8, 8, 8, 8, 8]
    batches = [x for x, _ in task.draws[1:]]
    for i in range(len(batches)):
        for j in range(i):
            assert not torch.equal(batches[i], batches[j]), (i, j)
    assert len(task.grads) == 5 and all(torch.any(u != 0) for u in _updates(task, module))


def test_plain_sgd_steps_by_the_current_batch_s_gradient_only() -> None:
    """SGD without momentum and without clipping: w_{k+1} = w_k - lr g_k, where g_k is the
    gradient of the k-th batch's loss alone (grads zeroed between steps, no velocity)."""
    module, lr = _rnn(), 0.05
    task = _spy(module)
    train_cell(module, task, steps=4, optimizer="sgd", lr=lr, clip=None, **_KW)
    updates = _updates(task, module)
    assert len(updates) == len(task.grads) == 4
    for k, (u, g) in enumerate(zip(updates, task.grads, strict=True)):
        torch.testing.assert_close(u, -lr * _flat(g), rtol=1e-4, atol=1e-7, msg=f"step {k}")


def test_clipping_bounds_each_update_to_lr_times_clip() -> None:
    """The global gradient norm (module and readout) is clipped to ``clip``: with plain SGD the
    module's part of each update is then at most lr x clip long, along its own gradient; the
    unclipped gradient here is some 100 times longer than that."""
    module, lr, clip = _rnn(), 0.1, 1e-3
    task = _spy(module)
    train_cell(module, task, steps=3, optimizer="sgd", lr=lr, clip=clip, **_KW)
    for u, g in zip(_updates(task, module), task.grads, strict=True):
        g = _flat(g)
        assert float(g.norm()) > 20 * clip  # clipping has something to do
        assert float(u.norm()) <= lr * clip * (1 + 1e-4)
        assert float(u.norm()) > 0.2 * lr * clip  # the module holds most of the gradient
        cosine = float(u @ -g) / float(u.norm() * g.norm())
        assert cosine == pytest.approx(1.0, abs=1e-4)


def test_the_held_out_batch_depends_on_eval_seed_alone() -> None:
    """Every cell at one task and T is scored on the same sequences: the held-out batch is
    the same for any ``seed`` and another for another ``eval_seed``; the training batches
    follow ``seed``."""
    runs = {}
    for seed, eval_seed in [(1, 0), (2, 0), (1, 5)]:
        module = _rnn()
        task = _spy(module)
        train_cell(module, task, steps=1, seed=seed, eval_seed=eval_seed, **_KW)
        runs[seed, eval_seed] = [x for x, _ in task.draws]
    held_out = {k: v[0] for k, v in runs.items()}
    assert torch.equal(held_out[1, 0], held_out[2, 0])
    assert not torch.equal(held_out[1, 0], held_out[1, 5])
    assert not torch.equal(runs[1, 0][1], runs[2, 0][1])
    assert torch.equal(runs[1, 0][1], runs[1, 5][1])


def test_a_network_that_sees_nothing_learns_the_chance_level() -> None:
    """A frozen module with all weights 0 outputs 0, so the prediction is the readout's bias
    b alone: SGD on the MSE moves b to the mean target E[y] = 1, and the held-out MSE to
    Var(y) = 1/6, the chance level, from (b0 - 1)^2 + 1/6 >= (1 - 1/2)^2 + 1/6 at the start
    (|b0| <= 1/sqrt(4)). The bias is trained as well as the weight."""
    module = nn.RNN(2, 4)
    for p in module.parameters():
        nn.init.zeros_(p)
        p.requires_grad_(False)
    kw = dict(batch=256, eval_batch=4000, eval_points=1, optimizer="sgd", lr=0.25, clip=None)
    result = train_cell(module, AddingProblem(6), steps=30, **kw)
    assert result.eval_losses[0] >= 0.25 + 1 / 6 - 0.02
    assert result.final_loss == pytest.approx(1 / 6, abs=0.02)


@pytest.mark.parametrize(
    ("task", "threshold"),
    [(AddingProblem(4), 1 / 60), (RecallFirst(4), math.log(8) / 10)],
)
def test_the_default_threshold_is_a_tenth_of_chance(task, threshold: float) -> None:
    """The doc's criterion: MSE < 0.0167 (adding), cross-entropy < 0.208 nats (recall, K 8)."""
    torch.manual_seed(0)
    module = nn.RNN(task.input_size, 4)
    result = train_cell(module, task, steps=1, batch=2, eval_batch=4, eval_points=1)
    assert result.chance_loss == pytest.approx(threshold * 10, rel=1e-12)
    assert result.threshold == pytest.approx(threshold, rel=1e-12)


class _InfGradient(torch.autograd.Function):
    """The identity forward, an infinite gradient backward: a finite loss whose gradient is
    not (as back-propagation through a long exploding sequence can give)."""

    @staticmethod
    def forward(ctx, value):
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * math.inf


def test_a_non_finite_gradient_stops_the_run_before_its_update() -> None:
    """The doc: "an inf or NaN training loss or gradient ... stops the run". The third
    step's loss is finite and its gradient infinite, so only two updates are taken, the module
    keeps their finite weights, and every evaluation after them is NaN."""
    module = _rnn()
    task = _spy(module)
    calls = []

    def loss(output, target):
        value = AddingProblem.loss(task, output, target)
        if torch.is_grad_enabled():
            calls.append(1)
            if len(calls) == 3:
                return _InfGradient.apply(value)
        return value

    object.__setattr__(task, "loss", loss)
    result = train_cell(module, task, steps=4, optimizer="sgd", lr=0.1, clip=None, **_KW)
    assert result.diverged and not result.solved
    assert math.isfinite(result.eval_losses[0]) and math.isnan(result.final_loss)
    assert all(torch.isfinite(p).all() for p in module.parameters())
    weights_at_third_draw = task.draws[3][1]  # the held-out batch, then training batches 1-3
    for p, w in zip(module.parameters(), weights_at_third_draw, strict=True):
        assert torch.equal(p.detach(), w)


def test_the_held_out_loss_is_taken_in_eval_mode_and_training_in_train_mode() -> None:
    """Dropout off for the held-out batch, on for the training batches (module docstring)."""
    module = _rnn()
    module.eval()  # and restored so on return
    task = _spy(module)
    modes = []

    def loss(output, target):
        modes.append((torch.is_grad_enabled(), module.training))
        return AddingProblem.loss(task, output, target)

    object.__setattr__(task, "loss", loss)
    train_cell(module, task, steps=2, optimizer="sgd", lr=0.1, eval_points=2, batch=8)
    # evaluations at steps 0, 1, 2 and an update before each of the last two
    assert modes == [(False, False), (True, True), (False, False), (True, True), (False, False)]
    assert not module.training
