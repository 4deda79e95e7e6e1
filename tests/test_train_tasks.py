"""The long-memory tasks: their layout, their targets, and their chance levels by Monte Carlo."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
import torch

import vanishlab.train
from vanishlab.train import TASKS, AddingProblem, RecallFirst, make_task

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("T", [2, 3, 7, 50])
def test_adding_layout_and_target(T: int) -> None:
    x, y = AddingProblem(T).sample(512, _gen())
    assert x.shape == (512, T, 2) and x.dtype == torch.float32
    assert y.shape == (512, 1)
    values, markers = x[..., 0], x[..., 1]
    assert bool(((values >= 0) & (values < 1)).all())
    half = T // 2
    # exactly one marker in the first half {0..T//2-1}, one in the second {T//2..T-1}
    assert torch.equal(markers[:, :half].sum(1), torch.ones(512))
    assert torch.equal(markers[:, half:].sum(1), torch.ones(512))
    assert set(markers.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(y[:, 0], (values * markers).sum(1), rtol=0, atol=1e-6)


def test_adding_marker_positions_cover_each_half_uniformly() -> None:
    T, n = 10, 50_000
    x, _ = AddingProblem(T).sample(n, _gen(1))
    counts = x[..., 1].sum(0)  # (T,)
    # each half has 5 positions, each hit with probability 1/5; 5 sigma of a binomial count
    sigma = math.sqrt(n * 0.2 * 0.8)
    assert float((counts - n / 5).abs().max()) < 5 * sigma


def test_adding_chance_level_matches_monte_carlo() -> None:
    """Chance = Var(u1 + u2) = 1/6: the MSE of predicting the best constant (the mean, 1)."""
    task = AddingProblem(20)
    assert task.chance_loss == pytest.approx(1 / 6, rel=1e-15)
    n = 200_000
    _, y = task.sample(n, _gen(2))
    y = y[:, 0].double()
    # (y - 1)^2 has mean 1/6 and variance 1/15 - 1/36 (y - 1 is triangular on [-1, 1])
    se = math.sqrt((1 / 15 - 1 / 36) / n)
    mse_of_one = float(((y - 1) ** 2).mean())
    assert abs(mse_of_one - task.chance_loss) < 5 * se
    assert abs(float(y.mean()) - 1.0) < 5 * math.sqrt(1 / 6 / n)
    assert float(task.loss(torch.ones(n, 1), y.float().unsqueeze(1))) == pytest.approx(
        mse_of_one, rel=1e-4
    )


def test_adding_remembering_only_the_second_value_is_half_of_chance() -> None:
    """The documented plateau: u_{p2} + 1/2 leaves MSE 1/12, not a solution at 0.1 x chance."""
    n = 200_000
    x, y = AddingProblem(20).sample(n, _gen(3))
    second = (x[:, 10:, 0] * x[:, 10:, 1]).sum(1, keepdim=True)
    mse = float(((second + 0.5 - y) ** 2).double().mean())
    assert mse == pytest.approx(1 / 12, abs=5 * math.sqrt((1 / 80 - 1 / 144) / n))


@pytest.mark.parametrize("K", [2, 8])
def test_recall_layout_and_chance(K: int) -> None:
    task = RecallFirst(12, n_symbols=K)
    assert task.input_size == task.output_size == K
    assert task.chance_loss == pytest.approx(math.log(K), rel=1e-15)
    n = 100_000
    x, y = task.sample(n, _gen(4))
    assert x.shape == (n, 12, K) and y.shape == (n,) and y.dtype == torch.int64
    assert torch.equal(x.sum(-1), torch.ones(n, 12))
    assert torch.equal(x[:, 0].argmax(-1), y)
    # uniform logits score exactly ln K; the best input-free prediction, the empirical
    # marginal of the targets, scores its entropy, which Monte Carlo puts at ln K
    assert float(task.loss(torch.zeros(n, K), y)) == pytest.approx(math.log(K), rel=1e-6)
    p = torch.bincount(y, minlength=K).double() / n
    entropy = float(-(p * p.log()).sum())
    assert entropy == pytest.approx(math.log(K), abs=(K - 1) / (2 * n) + 1e-3)
    assert entropy <= math.log(K) + 1e-12


@pytest.mark.parametrize("name", sorted(TASKS))
def test_same_seed_same_batch(name: str) -> None:
    task = make_task(name, 9)
    a, b, c = (task.sample(16, _gen(s)) for s in (5, 5, 6))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_sampling_leaves_the_global_random_state_alone() -> None:
    state = torch.get_rng_state()
    for name in TASKS:
        make_task(name, 6).sample(8, _gen())
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: AddingProblem(1), "seq_len must be an integer >= 2"),
        (lambda: RecallFirst(0), "seq_len must be an integer >= 1"),
        (lambda: RecallFirst(5, n_symbols=1), "n_symbols must be an integer >= 2"),
        (lambda: make_task("copy", 5), "unknown task 'copy'; choose one of adding, recall"),
        (lambda: AddingProblem(5).sample(0, _gen()), "batch must be an integer >= 1"),
    ],
)
def test_bad_arguments_raise_value_error(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_a_size_of_the_wrong_type_is_a_type_error_and_a_numpy_integer_a_size() -> None:
    """AddingProblem(10.0) and AddingProblem(True) were ValueErrors, as a size out of range is,
    and a NumPy integer (from np.arange) was refused; train_cell says them as TypeErrors."""
    np = pytest.importorskip("numpy")
    for make in (
        lambda: AddingProblem(10.0),
        lambda: AddingProblem(True),
        lambda: RecallFirst(5, n_symbols="8"),
        lambda: AddingProblem(5).sample(2.0, _gen()),
    ):
        with pytest.raises(TypeError, match=r"(seq_len|n_symbols|batch) must be an integer >= "):
            make()
    task = RecallFirst(np.int64(5), n_symbols=np.int32(3))
    assert task == RecallFirst(5, n_symbols=3) and type(task.seq_len) is int
    assert task.sample(np.int64(2), _gen())[0].shape == (2, 5, 3)


def test_sizes_beyond_a_tensor_or_the_memory_are_refused_naming_them() -> None:
    """A seq_len, n_symbols or batch too large ended deep in torch, in its words ("Overflow
    when unpacking long long", "Storage size calculation overflowed", "DefaultCPUAllocator:
    can't allocate memory"); sizes no tensor can hold are refused up front, and a batch the
    allocator refuses is a MemoryError naming the sizes."""
    beyond = "bytes of tensors, more than torch can address (2**63 - 1): choose smaller sizes"
    for make, what in [
        (lambda: AddingProblem(2**63), "AddingProblem(seq_len=9223372036854775808) would need"),
        (lambda: RecallFirst(10, n_symbols=10**18), "RecallFirst(seq_len=10, n_symbols=10000"),
        (lambda: AddingProblem(10).sample(2**70, _gen()), "AddingProblem(seq_len=10).sample(b"),
    ]:
        with pytest.raises(ValueError, match=re.escape(what)) as err:
            make()
        assert str(err.value).endswith(beyond)
    # 2**60 bytes: beyond any machine's address space (2**57 with 5-level paging), so the
    # allocation fails everywhere, whatever the overcommit setting
    with pytest.raises(
        MemoryError, match=re.escape(f"AddingProblem(seq_len={2**56}).sample(")
    ) as err:
        AddingProblem(2**56).sample(1, _gen())  # constructed, but not drawn
    # the size in the words of every memory refusal (core.allocation.format_bytes), where it
    # said "1.07e+09 GiB" (and "3.7e-05 GiB" of a small batch)
    assert "needs about 1.0e+06 TiB for its tensors" in str(err.value)
    with pytest.raises(MemoryError, match=r"RecallFirst\(seq_len=8, n_symbols=\d+\)\.sample"):
        RecallFirst(8, n_symbols=2**53).sample(1, _gen())
    x, y = AddingProblem(2**20).sample(1, _gen())  # a long one that fits is drawn as before
    assert x.shape == (1, 2**20, 2) and y.shape == (1, 1)


def test_train_package_imports_torch_and_the_standard_library_only() -> None:
    """vanishlab.train is pure: torch, numpy and the standard library, its own modules, and of
    vanishlab's core only the lock on torch's global generator, the measurement's precision,
    the words of a size refused, the check of an integer count, the seeded generators, the
    solve criterion and the classes measured
    (docs/design.md's layer table; tests/test_architecture.py checks the rest)."""
    allowed_roots = {"torch", "numpy", "abc", "collections", "dataclasses", "hashlib", "math"}
    allowed_roots |= {"time", "__future__", "typing", "contextlib"}
    folder = Path(vanishlab.train.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                names = [a.name for a in node.names]
                allowed = {("core", ("global_rng",)), ("core.forward", ("own_precision",))}
                allowed.add(("core.allocation", ("format_bytes",)))
                allowed.add(("core.integers", ("as_integer",)))
                allowed.add(("core.seeds", ("seeded_generator",)))
                allowed.add(("core.training_facts", ("SOLVE_FRACTION",)))
                allowed.add(("core.modules", ("MEASURED", "measured_base")))
                assert (node.module, tuple(names)) in allowed, (path.name, node.module, names)
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                assert node.level == 1, (path.name, node.module)
            elif isinstance(node, ast.ImportFrom):
                assert node.module.split(".")[0] in allowed_roots, (path.name, node.module)
