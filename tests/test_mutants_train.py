"""Mutation round on ``vanishlab/train/`` and ``experiments/``: the mutants no test killed.

Each test names the hand-made mutant it kills and checks against a number worked out apart
from the code under test: a schedule worked by hand, a loss computed with plain torch from
the documented seed streams, or an experiment's grid as its own docstring or README states it.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from vanishlab.core.seeds import seeded_generator
from vanishlab.sweep.catalog import BUILTIN_MODELS
from vanishlab.sweep.experiments import load_experiment
from vanishlab.train import AddingProblem, RecallFirst, train_cell

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[1]
README = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())


def _rnn(dtype: torch.dtype = torch.float32) -> nn.RNN:
    torch.manual_seed(0)
    return nn.RNN(2, 3).to(dtype)


# --- train/loop.py -------------------------------------------------------------------------


def test_the_evaluation_steps_are_rounded_to_the_nearest_step() -> None:
    """Mutant: ``round(i * steps / eval_points)`` read as ``int(...)`` (truncated). The doc:
    ``eval_points + 1`` evenly spaced steps from 0 to ``steps``, rounded to whole steps. By
    hand for 7 steps and 3 points: 0, 7/3 = 2.33, 14/3 = 4.67, 7 -> 0, 2, 5, 7 (truncation
    gives 4 for the third)."""
    result = train_cell(_rnn(), AddingProblem(2), steps=7, eval_points=3, batch=2, eval_batch=4)
    assert result.eval_steps == (0, 2, 5, 7)
    assert len(result.eval_losses) == 4


def test_the_loss_at_step_0_is_the_documented_readout_on_the_held_out_batch() -> None:
    """Mutants: the readout drawn from the data stream and the batches from the readout stream
    (the two streams swapped); the readout drawn U(-b/2, b/2) instead of U(-b, b). The held-out
    loss at step 0 is worked here with plain torch from the doc alone: the held-out batch from
    the "train/eval" stream of ``eval_seed``, W then b each ``2u - 1`` times 1/sqrt(F) from the
    "train/readout" stream of ``seed`` (u drawn in float64), the MSE of W o_{T-1} + b."""
    module = _rnn(torch.float64)
    before = copy.deepcopy(module)
    task = AddingProblem(5)
    result = train_cell(module, task, steps=1, eval_points=1, batch=2, eval_batch=16, seed=3)

    x, y = task.sample(16, seeded_generator(0, "train/eval"))
    gen = seeded_generator(3, "train/readout")
    bound = 1 / math.sqrt(3)
    weight = (2 * torch.rand((1, 3), generator=gen, dtype=torch.float64) - 1) * bound
    bias = (2 * torch.rand((1,), generator=gen, dtype=torch.float64) - 1) * bound
    with torch.no_grad():
        last = before(x.double().transpose(0, 1))[0][-1]  # (B, F): the top layer at T - 1
        expected = float(((last @ weight.T + bias - y.double()) ** 2).mean())
    assert result.eval_losses[0] == pytest.approx(expected, rel=1e-12, abs=0)


class _Batches(AddingProblem):
    """The adding problem, keeping every batch of ``batch`` sequences drawn (training's)."""

    def sample(self, batch, generator):
        x, y = super().sample(batch, generator)
        if batch == 2:
            self.kept.append(x)
        return x, y


def test_the_training_batches_do_not_depend_on_the_readout_s_draws() -> None:
    """Mutant: the training batches drawn from the readout's generator (after the readout's
    weights) instead of the data stream. The doc: "two independent streams", one for the
    readout's initial weights, one for the training batches. So a wider network, whose readout
    draws more numbers, is trained on the very same batches at the same seed."""
    drawn = []
    for hidden in (3, 5):
        task = _Batches(4)
        object.__setattr__(task, "kept", [])
        torch.manual_seed(0)
        train_cell(nn.RNN(2, hidden), task, steps=3, eval_points=1, batch=2, eval_batch=4)
        drawn.append(torch.stack(task.kept))
    assert drawn[0].shape == (3, 2, 4, 2)
    assert torch.equal(drawn[0], drawn[1])


def test_the_seed_sets_what_a_module_s_own_code_draws_during_training() -> None:
    """Mutant: the seed of the global generator during training fixed (0) instead of drawn
    from the seed's data stream. The doc: ``seed`` feeds the training batches *and dropout*;
    a module whose own code draws (here a forward pre-hook, as a weight drop's mask) must get
    other draws at another seed, and the same ones at the same seed."""

    def run(seed: int) -> list[float]:
        seen: list[float] = []
        rnn = _rnn()
        rnn.register_forward_pre_hook(lambda module, args: seen.append(float(torch.rand(()))))
        kw = dict(steps=2, eval_points=1, batch=2, eval_batch=4, seed=seed)
        train_cell(rnn, AddingProblem(3), **kw)
        return seen

    first = run(0)
    assert len(first) == 4  # two evaluations, two steps
    assert run(0) == first
    assert run(1) != first


def test_the_largest_task_a_tensor_can_hold_is_accepted_and_one_more_step_refused() -> None:
    """Mutants: the refusal's bound 2**62 for 2**63 - 1; the recall task's bytes counted as
    8 + 4K a step instead of 8 + 12K. Counted by hand from what ``sample`` builds for one
    sequence: adding, values and markers float32 (4 + 4 B a step) and x (2 x 4 B a step), plus
    the two int64 positions and one int64 row index (24 B): 16 T + 24; recall, the int64
    symbols (8 B a step), their int64 one-hot (8K) and the float32 x (4K): T (8 + 12 K).
    Constructing a task allocates nothing, so the largest that fits is accepted."""
    most = 2**63 - 1
    T = (most - 24) // 16
    assert AddingProblem(T).seq_len == T  # 16 T + 24 <= 2**63 - 1 (and > 2**62)
    with pytest.raises(ValueError, match="more than torch can address"):
        AddingProblem(T + 1)
    T = most // (8 + 12 * 8)
    assert RecallFirst(T).seq_len == T
    with pytest.raises(ValueError, match="more than torch can address"):
        RecallFirst(T + 1)


class _Watched(AddingProblem):
    """The adding problem, keeping the module's weights at each training draw and the gradient
    of each training batch's loss with respect to them."""

    def sample(self, batch, generator):
        if batch == 2:
            self.weights.append(_flat(self.module.parameters()))
        return super().sample(batch, generator)

    def loss(self, output, target):
        value = super().loss(output, target)
        if torch.is_grad_enabled():
            grads = torch.autograd.grad(value, list(self.module.parameters()), retain_graph=True)
            self.grads.append(_flat(grads))
        return value


def _flat(tensors) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1).double() for t in tensors])


def test_adam_steps_with_pytorch_s_default_betas_and_eps() -> None:
    """Mutants: Adam with betas (0.9, 0.99), or with eps 1e-6, instead of PyTorch's defaults
    (0.9, 0.999) and 1e-8 the doc states (its first step is lr sign(g) whatever the betas, so
    only a later step tells). Adam
    worked by hand (Kingma & Ba 2015) from the gradients of the batches the loop drew, in
    float64: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, update -lr m^/(sqrt(v^) + eps)."""
    module, lr = _rnn(torch.float64), 0.01
    task = _Watched(4)
    object.__setattr__(task, "module", module)
    object.__setattr__(task, "weights", [])
    object.__setattr__(task, "grads", [])
    kw = dict(steps=3, eval_points=1, batch=2, eval_batch=4, clip=None)
    train_cell(module, task, lr=lr, optimizer="adam", **kw)
    weights = [*task.weights, _flat(module.parameters())]
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = v = torch.zeros_like(weights[0])
    for k, g in enumerate(task.grads, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        step = -lr * (m / (1 - b1**k)) / ((v / (1 - b2**k)).sqrt() + eps)
        torch.testing.assert_close(weights[k] - weights[k - 1], step, rtol=1e-9, atol=1e-15)
    assert len(task.grads) == 3


# --- experiments/*.py: the grids their docstrings and README state ---------------------------


def _doc(name: str) -> str:
    return " ".join((load_experiment(name).path.read_text(encoding="utf-8")).split())


def test_activation_init_sweeps_every_builtin_rnn_init_at_the_stated_sizes() -> None:
    """Mutants: an init dropped from the grid ("kaiming_normal"); H = 32 for the stated 64.
    Its docstring: every built-in nn.RNN init at gain 1, both activations, "H = 64, T = 100,
    3 seeds"."""
    sweep = load_experiment("activation_init").sweep
    said = re.search(r"\(this SWEEP: H = (\d+), T = (\d+), (\d+) seeds;", _doc("activation_init"))
    assert said, "the docstring's sizes moved: update this test"
    rnn_inits = {name for name, models in BUILTIN_MODELS.items() if "rnn" in models}
    assert set(sweep.init) == rnn_inits and len(sweep.init) == len(rnn_inits)
    assert set(sweep.activation) == {"tanh", "relu"} and set(sweep.gain) == {1.0}
    assert sweep.hidden_size == (int(said.group(1)),) and sweep.seq_len == (int(said.group(2)),)
    assert len(sweep.seed) == int(said.group(3))


def test_depth_sweeps_one_to_four_layers() -> None:
    """Mutant: ``num_layers=(1, 2, 4)`` (a depth dropped). Its docstring: "1 to 4 stacked
    layers"."""
    said = re.search(r"gradients through (\d+) to (\d+) stacked layers", _doc("depth"))
    assert said, "the docstring's depths moved: update this test"
    low, high = int(said.group(1)), int(said.group(2))
    assert load_experiment("depth").sweep.num_layers == tuple(range(low, high + 1))


def test_meanfield_sweeps_zero_input_at_the_stated_width_and_length() -> None:
    """Mutants: ``input_std`` 0 dropped; H = 128 for the stated 256. Its docstring: "H = 256",
    "T = 200", and input_std = 0 is in the grid (tanh at the origin, relu exactly zero)."""
    doc = _doc("meanfield")
    sweep = load_experiment("meanfield").sweep
    assert "H = 256 keeps" in doc and "T = 200 leaves" in doc and "input_std = 0 puts" in doc
    assert sweep.hidden_size == (256,) and sweep.seq_len == (200,)
    assert 0.0 in sweep.input_std
    assert set(sweep.activation) == {"tanh", "relu"}
    assert set(sweep.init) == {"normal", "orthogonal"}
    # Both sides of each edge of chaos the docstring names: relu's sqrt(2), tanh's g = 1.
    assert min(sweep.gain) < 1 and max(sweep.gain) > math.sqrt(2)


def test_gated_sweeps_the_lengths_and_depths_the_readme_reports() -> None:
    """Mutant: ``seq_len=(50, 100)`` (T = 200 dropped). README, after "sweep gated --model
    rnn": the rates at H = 64, one layer, T = 100, and "T = 50 and 200 read within 0.01 of
    these, two layers within 0.03"; "rnn/lstm/gru x init x depth x T, H = 64"."""
    said = re.search(r"T = (\d+) and (\d+) read within 0\.01 of these, two layers within", README)
    assert said, "README's gated sentence moved: update this test"
    assert "vanishlab sweep gated # rnn/lstm/gru x init x depth x T, H = 64" in README
    sweep = load_experiment("gated").sweep
    assert set(sweep.seq_len) == {int(said.group(1)), 100, int(said.group(2))}
    assert set(sweep.num_layers) == {1, 2}
    assert set(sweep.model) == {"rnn", "lstm", "gru"} and sweep.hidden_size == (64,)


def test_trainability_smoke_is_the_rigor_pair_its_docs_name() -> None:
    """Mutant: the smoke grid's gain 0.25 changed to 0.5 (the test of the rigor pair replaces
    the gain with 0.25 itself, so it cannot see it). docs/trainability.md: "`vanishlab sweep
    trainability --smoke` runs the rigor pair's network through the sweep in seconds: tanh,
    `normal` at gains 0.25 and 1, H = 16, T = 6 and 60, 300 steps (4 cells)"; SMOKE's own
    docstring: "tanh at gain 0.25 solves T = 6 and not T = 60"."""
    page = " ".join((ROOT / "docs" / "trainability.md").read_text(encoding="utf-8").split())
    said = re.search(
        r"in seconds: tanh, `normal` at gains ([\d.]+) and ([\d.]+), H = (\d+), "
        r"T = (\d+) and (\d+), (\d+) steps \((\d+) cells\)",
        page,
    )
    assert said, "docs/trainability.md's smoke sentence moved: update this test"
    exp = load_experiment("trainability")
    own = re.search(r"tanh at gain ([\d.]+) solves T = (\d+) and not T = (\d+)", _doc(exp.name))
    assert own and own.groups() == (said.group(1), said.group(4), said.group(5))
    smoke = exp.smoke
    assert smoke.activation == ("tanh",) and smoke.init == ("normal",)
    assert set(smoke.gain) == {float(said.group(1)), float(said.group(2))}
    assert smoke.hidden_size == (int(said.group(3)),)
    assert set(smoke.seq_len) == {int(said.group(4)), int(said.group(5))}
    assert smoke.train_steps == (int(said.group(6)),) and smoke.size == int(said.group(7))
