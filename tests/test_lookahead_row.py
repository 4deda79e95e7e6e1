"""The look-ahead row (core/lookahead.py) on its own, in the cases a mutation review found
the rest of the suite left open: a matrix of any scale, a NaN matrix beside others, and the
row's direction where there is no trap to find (the filter's interval [0, b])."""

from __future__ import annotations

import pytest
import torch

from vanishlab.core import block_rows, lookahead

F64 = torch.float64


def _hidden_rank1(scale: float, dtype: torch.dtype, batch: int = 2, rotated: bool = False):
    """test_spectral's hidden rank-1 block (1.5 v v^T beside a diagonal 1 ... 0.5 whose top
    3 units are the warm block) as matrix 0, the diagonal alone as matrix 1 (its next unit,
    3, is the row), any others NaN; the whole batch times ``scale``. ``rotated``: all of it
    in a seeded orthonormal basis (Q G Q^T, the block U Q^T), so no row is a unit's. Returns
    (G, U, v, the next unit)."""
    n_a, n_b = 8, 40
    v = torch.randn(n_b, generator=torch.Generator().manual_seed(2), dtype=F64)
    v = torch.cat([torch.zeros(n_a, dtype=F64), v / v.norm()])
    g = torch.zeros(batch, n_a + n_b, n_a + n_b, dtype=F64)
    g[:, range(n_a), range(n_a)] = torch.linspace(1.0, 0.5, n_a, dtype=F64)
    g[0] += 1.5 * torch.outer(v, v)
    g[2:] = float("nan")
    u = torch.eye(n_a + n_b, dtype=F64)[:3].expand(batch, 3, n_a + n_b)
    unit = torch.eye(n_a + n_b, dtype=F64)[3]
    if rotated:
        gen = torch.Generator().manual_seed(5)
        q = torch.linalg.qr(torch.randn(n_a + n_b, n_a + n_b, generator=gen, dtype=F64))[0]
        g, u, v, unit = q @ g @ q.mT, u @ q.mT, q @ v, q @ unit
    return (g * scale).to(dtype), u.to(dtype), v, unit


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("rotated", [False, True])
@pytest.mark.parametrize(
    ("dtype", "scale"),
    [(torch.float32, 1e-25), (torch.float32, 1e25), (F64, 1e-200), (F64, 1e200)],
)
def test_the_lookahead_row_of_a_vanished_or_huge_matrix(compact, rotated, dtype, scale) -> None:
    """The chunk's last matrix is the engine's raw product: in float32 a vanished gradient's
    is 1e-25 and less, an exploding one's 1e25. The row is the same direction whatever the
    scale: the matrix is scaled to a largest entry of 1 first (without it, A = G G^T's
    entries underflowed to 0 or overflowed, and the filter's (2 / b) A with them). In the
    rotated basis the block's Rayleigh quotients are the squared lengths of its rows of U G
    (summing their absolute values instead moved b, and matrix 1's row to 0.967 of its next
    unit)."""
    g, u, v, unit = _hidden_rank1(scale, dtype, rotated=rotated)
    row = lookahead.lookahead_row(u, g, block_rows.orthonormal_rows(compact), 0).double()
    assert abs(float(row[0, 0] @ v)) > 0.9999, float(row[0, 0] @ v)
    assert abs(float(row[1, 0] @ unit)) > 0.99, float(row[1, 0] @ unit)


@pytest.mark.parametrize("compact", [True, False])
def test_a_nan_matrix_leaves_the_other_rows_as_they_are(compact) -> None:
    """A NaN matrix in the batch (a GPU's deferred NaN, its lag measured again) must not stop
    the others' rows: on a CPU, eigh of the Ritz Gram matrices raises on its NaN for the
    whole batch ('linalg.eigh: (Batch element 2): The algorithm failed to converge') unless
    its non-finite entries are zeroed first."""
    g, u, v, _ = _hidden_rank1(1.0, F64, batch=3)
    row = lookahead.lookahead_row(u, g, block_rows.orthonormal_rows(compact), 0)
    assert abs(float(row[0, 0] @ v)) > 0.9999
    assert abs(float(row[1, 0, 3])) > 0.99


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("second", [0.6, 0.0])
def test_without_a_trap_the_row_is_the_block_s_next_direction(compact, second) -> None:
    """No trap: A = diag(1, ``second``, 0.5, 0.25, 0.05, ...), the warm block on units 0 and
    1. The row is unit 2, the block's next direction. The filter's interval is [0, b], b the
    block's smallest Rayleigh quotient (0.6), or, for a dead row (0), its floor (1e-3 of the
    largest): p(lambda) = lambda / b T_3(2 lambda / b - 1) is largest near b and has zeros
    inside [0, b]; with b at the block's largest Rayleigh quotient (1), or 1 for the dead
    row, unit 2 sat on the zero at b / 2 and the row came out near unit 3."""
    m = 30
    lam = torch.tensor([1.0, second, 0.5, 0.25] + [0.05] * (m - 4), dtype=F64)
    g = torch.diag(lam.sqrt())[None]
    u = torch.eye(m, dtype=F64)[:2][None]
    row = lookahead.lookahead_row(u, g, block_rows.orthonormal_rows(compact), 0)
    assert abs(float(row[0, 0, 2])) > 0.98, row[0, 0, :4].tolist()


def _one_set(m: int, r: int, draw: int) -> torch.Tensor:
    """A set of sketch rows as it was made before the sets were built together: its own
    seeded draw and its own QR."""
    gen = torch.Generator().manual_seed(10_000 + draw)
    return torch.linalg.qr(torch.randn(m, r, generator=gen, dtype=F64))[0].mT


@pytest.mark.parametrize(
    ("m", "r"), [(5, 1), (8, 4), (48, 4), (64, 3), (200, 4), (9, 3), (21, 1), (33, 3), (257, 1)]
)
def test_the_sketch_rows_are_each_draw_s_own_rows(m, r) -> None:
    """Built together, every set is bit for bit the set a QR of its own draw gives (so no
    norm moved when they were), orthonormal rows in each dtype. A batched QR of the 64 draws
    was not, at 3 rows of 9, 1 of 21, 3 of 33 or 1 of 257 (its last bits follow the layout)."""
    for draw in range(lookahead.SKETCHES):
        rows = lookahead.sketch_rows(m, r, F64, torch.device("cpu"), draw)
        assert torch.equal(rows, _one_set(m, r, draw)), draw
    rows = lookahead.sketch_rows(m, r, torch.float32, torch.device("cpu"), 7)
    assert rows.dtype == torch.float32
    assert torch.equal(rows, _one_set(m, r, 7).float())


def test_a_size_s_sketch_rows_take_one_copy() -> None:
    """Each new (size, dtype, device) met to be copied at a chunk of a first call was a
    host-to-device copy on a GPU, where each waits for the work before it; a key's sets are
    now made and copied at once. Counted here as conversions to float32 on a CPU (one for
    each of the 64 draws before)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Copies(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func is torch.ops.aten._to_copy.default:
                Copies.count += 1
            return func(*args, **(kwargs or {}))

    with Copies():
        for draw in range(lookahead.SKETCHES):
            lookahead.sketch_rows(37, 4, torch.float32, torch.device("cpu"), draw)
    assert Copies.count == 1
