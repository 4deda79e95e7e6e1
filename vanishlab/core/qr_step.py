"""One step of the QR method: re-orthonormalise the pushed directions and read their growth.

Shared by the nn.RNN and the gated Lyapunov spectra. ``z = J_t Q_{t-1}`` is ``(B, n, k)``; the
step returns Q_t and |R_t[i, i]| (``(B, k)``) with Q_t R_t = z.

Exact zeros. A row of z that is identically 0 (a relu unit off, a derivative that is exactly
0) caps the rank of z at the number of other rows, r. An upper-triangular R of rank r has at
least k - r zero diagonal entries, so that many directions are annihilated exactly at this
step. Householder QR reads them as rounding (an entry near 1e-17 |z|, not 0), which would give
a finite exponent where the true one is -inf; so the k - r smallest entries are set to 0. The
other way round, an entry that LAPACK rounds to exactly 0 where z has no zero row and no zero
column is rounding, not a lost direction, and is read at rounding's size, eps max|z|.

Annihilated directions go last. Q_t's column for a zero R_t[i, i] is no image of the tracked
directions: Householder QR fills it with some unit vector orthogonal to the others. Left at its
place i, it takes one of the next step's rank slots before the directions after it, which
still carry the dynamics: with every step short of rank, the slot of the live directions hopped
from column to column and each column met a zero in turn, so a relu stack whose Jacobian
product is not zero (its top exponent finite, e.g. -1.3) read -inf for every exponent, the
top one too, with the default q0 = I as with a random one. So the columns of Q_t, and the sums
of ln |R[i, i]| with them, are put in a stable order with the annihilated ones last: a column
then loses a rank slot only to a direction it follows in the flag.

Graded rows. Householder QR's backward error is columnwise, eps ||z_j||: where z's rows are at
very different scales, it swamped a direction whose growth lives in the small rows, which read
at rounding's level (~-37 a step), often above the true top exponent (an LSTM with f and o at
-100: -40.4 for -95.0). With row pivoting it is row-wise (Powell & Reid 1969; Cox & Higham
1998): at each column the row of largest |entry| in the part not yet reduced goes first. The
order is taken from Gaussian elimination with partial pivoting (LAPACK getrf, one batched call:
the same rule on elimination's reduced part, not on Householder's), and z's rows put in it
before one Householder QR: P z = (P Q) R, the same R, and Q's rows go back. A single sort by max
|entry|, as before, read one layer as the reference but two layers up to 4.7 off (the reduced
rows' sizes no longer follow z's); this order reads two and three layers as the reference
(tests/test_qr_graded.py; not every stack: docs/maths.md section 6), as a Householder QR pivoted
column by column does (the two orders agreed in 76 of 80 graded steps measured), at a quarter of
that loop's cost. Not where z has a zero row: those rows put last are never touched by a
reflector, so every trailing R[i, i] came out exactly 0 and the k - r rule above then took a
live direction for the one that a rounding-level R[j, j] (j < r) had lost; such a step keeps its
order, as before. Nor where the rows span less than ``_GRADED``: an ordinary step reordered reads
as well, but costs an LU and the swaps that read its row order.
"""

from __future__ import annotations

import torch

from .scaling import scaled_norms

__all__ = ["qr_step"]

#: z's rows are reordered where their largest max |entry| is more than this times their smallest.
#: Measured with partial pivoting's order (helper 496; docs/maths.md section 6): float64 LSTMs
#: whose rows span 1e4 to 1e8 (f and o at -10 to -18) read the 120-digit reference only when
#: reordered (3.2e-9 and 7.2e-8 off at -15 and -18, pivoted 1.1e-14), but a lower threshold costs
#: ordinary calls: nn.RNN(32, 128) tanh, float32, weights x3 has 8.6% of its steps over 1e4 (1.16x
#: the call at 1e4; other seeds up to 7.5e5), x4 and x5 6.4% and 65% over 1e6 (1.12x, 1.46x at
#: 1e6); the LSTM and GRU up to x5 stay under 6e4.
_GRADED = 1e8


def qr_step(
    z: torch.Tensor, total: torch.Tensor, counted: bool, prev: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Q_t of ``z = J_t Q_{t-1}`` (``(B, n, k)``; ``prev`` is Q_{t-1}) and ``total``
    (``(B, k)``, the sums of ln |R[i, i]|) plus this step's when ``counted``, both with
    annihilated directions last."""
    k = z.shape[-1]
    if k == 1:  # QR of one column is its normalisation; far cheaper than LAPACK's
        # At any scale: a plain vector_norm squares the entries, 0 below ~1e-154, and the
        # direction was then lost as "annihilated" (-inf where the exponent is finite).
        norm = scaled_norms(z)[:, None]  # (B, 1); 0 exactly when z is
        # An annihilated direction keeps a unit vector, its old one (QR fills one in for
        # k > 1): a zero q stayed zero, and a loss in a discarded step read -inf for ever.
        q = torch.where(norm[:, None] > 0, z / torch.where(norm > 0, norm, 1.0)[:, None], prev)
        return q, total + torch.log(norm) if counted else total
    n = z.shape[-2]
    size = z.abs().amax(dim=-1)  # (B, n) each row's max |entry|; NaN where the row has one
    live = (size != 0).sum(dim=-1)  # (B,) rows not identically zero >= rank(z)
    # Graded rows: P z = (P Q) R, the same R, with P the row order of partial pivoting;
    # Householder QR is then row-wise backward stable (Powell & Reid 1969; Cox & Higham 1998).
    # Only where z has no zero row and its rows span more than _GRADED (module docstring); else
    # the order is kept, and z's QR is the same as before, bit for bit.
    graded = (live == n) & (size.amax(dim=-1) > _GRADED * size.amin(dim=-1))  # (B,)
    # One test, on every device: ordinary steps skip the LU and the permutations (20% of a
    # call on the CPU). Off the CPU it reads one boolean a step (a host sync), where running
    # the LU on every step would not have been sync-free either: torch's CUDA lu_factor sends a
    # z with k < n, and a square one unless n <= 16, B = 1 or n <= 128 with B <= 16, to MAGMA's
    # batched getrf, which synchronises the device (c10::cuda::device_synchronize,
    # magma_queue_sync: aten/.../cuda/linalg/BatchLinearAlgebra.cpp), and _pivot_rows launches
    # 2 small ops a pivot. The sort by max |entry| before it (2d5fe1ef) synchronised nothing.
    if bool(graded.any()):
        q, r = _pivoted_qr(z, graded)
    else:
        q, r = torch.linalg.qr(z)  # (B, n, k), (B, k, k)
    diag = torch.diagonal(r, dim1=-2, dim2=-1).abs()
    # An R[i, i] that LAPACK rounds to exactly 0 where z has no zero row and no zero column is
    # rounding, not an annihilated direction: read it at rounding's size, eps max|z|, as the one
    # Householder QR usually leaves there (-inf was said of a 3-unit tanh net in float64 whose
    # steps are all of full rank, its third exponent -60.2 in 80-digit arithmetic).
    dense = (live == n) & (z != 0).any(dim=-2).all(dim=-1)  # (B,)
    rounding = torch.finfo(z.dtype).eps * size.amax(dim=-1)  # (B,) eps max|z|
    diag = torch.where((diag == 0) & dense[:, None], rounding[:, None], diag)
    lost = (k - live).clamp(min=0)[:, None]  # (B, 1) at least this many R[i, i] are 0
    place = diag.argsort(dim=-1).argsort(dim=-1)  # each entry's place, smallest first
    gone = place < lost  # (B, k); no branch: no host sync on a GPU
    if counted:
        total = total + torch.log(torch.where(gone, 0.0, diag))
    order = torch.sort(gone.to(torch.int8), dim=-1, stable=True).indices  # live first, in order
    return q.gather(-1, order[:, None, :].expand_as(q)), total.gather(-1, order)


def _pivoted_qr(z: torch.Tensor, graded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Q and R of ``z`` (``(B, n, k)``) from the QR of P z, P putting a ``graded`` sample's rows
    in the order of Gaussian elimination with partial pivoting (the identity for the others,
    whose LU is not taken): P z = (P Q) R."""
    B, n = z.shape[0], z.shape[-2]
    rows = torch.arange(n, device=z.device).repeat(B, 1)  # (B, n): row i of P^T z is z[rows[i]]
    some = graded.nonzero().squeeze(-1)  # the LU of the graded samples alone
    pivots = torch.linalg.lu_factor_ex(z[some])[1]  # never raises: a singular z is fine here
    rows[some] = _pivot_rows(pivots, n)
    batch = torch.arange(B, device=z.device)[:, None]
    q, r = torch.linalg.qr(z[batch, rows])  # (B, n, k), (B, k, k)
    return q[batch, rows.argsort(dim=-1)], r  # P's rows put back


def _pivot_rows(pivots: torch.Tensor, n: int) -> torch.Tensor:
    """``rows`` (``(B, n)``) with row i of P^T z equal to z[rows[i]], P being getrf's (z = P L
    U; :func:`_pivoted_qr`'s P is this P^T), from its ``pivots`` (``(B, min(n, k))``, 1-based:
    row i swapped with row pivots[i] - 1, in turn). Not from ``lu_unpack``'s P, dense
    ``(B, n, n)`` in z's dtype whatever k: on a graded step of B 64, n 512, k 2 it cost 4,100x
    the QR (0.29 s for 0.08 ms; k 64: 4.4x), and it is 8 B n^2 bytes, 2 GiB a step at B 4,
    n 8192, where the directions are 2 MiB.

    The swaps are sequential. On the CPU they are done on Python lists where B n is at most
    :data:`_HOST_ROWS` times the pivots m: the lists cost ~0.1 us a row of each sample (B n:
    each sample's n rows listed and turned back into a tensor) and a swap, 2 torch ops ~7 us a
    pivot (m) whatever B. At B 4, n = k = 128 the torch ops took 1.6 ms, more than the LU
    (1.3 ms), and the lists 0.07 ms; at B 64, n = k = 1024 the lists 18.5 ms, the torch ops
    11.5 ms. With few directions and many rows the torch ops win from a few samples on: B 4,
    n 2048, k 2, 0.04 ms for the lists' 0.51 ms; B 16, n 8192, k 2, 0.55 ms for 9.4 ms (the
    cap of 16 samples before this rule took the lists there: up to 105x the cheaper way's time
    over 89 shapes, B 1-64, n 16-8192, k 2-2048, one thread; this rule within 1.34x of it)."""
    if pivots.device.type == "cpu" and pivots.shape[0] * n <= _HOST_ROWS * pivots.shape[-1]:
        return _swapped_on_host(pivots, n)
    return _swapped_by_torch(pivots, n)


#: :func:`_pivot_rows` swaps on Python lists on the CPU where B n is at most this times the
#: number of pivots (one torch op pair a pivot costs about as much as this many listed rows).
_HOST_ROWS = 64


def _swapped_on_host(pivots: torch.Tensor, n: int) -> torch.Tensor:
    """:func:`_pivot_rows` on Python lists, one sample after another."""
    out = []
    for sample in pivots.tolist():
        rows = list(range(n))
        for i, p in enumerate(sample):
            rows[i], rows[p - 1] = rows[p - 1], rows[i]
        out.append(rows)
    return torch.tensor(out, dtype=torch.long).reshape(pivots.shape[0], n)


def _swapped_by_torch(pivots: torch.Tensor, n: int) -> torch.Tensor:
    """:func:`_pivot_rows` in 2 torch ops a pivot, batched over samples, on their device: on the
    CPU 0.04 ms at k 2, 0.45 ms at k 64, 7.9 ms at k 512."""
    swap = pivots.long() - 1  # (B, m) 0-based
    step = torch.arange(swap.shape[-1], device=swap.device).expand_as(swap)
    pair = torch.stack((step, swap), dim=-1)  # (B, m, 2): the rows swapped at each pivot
    back = pair.flip(-1)
    rows = torch.arange(n, device=swap.device).repeat(swap.shape[0], 1)  # (B, n)
    for i in range(swap.shape[-1]):  # in turn: each swap acts on the rows the last left
        rows.scatter_(-1, back[:, i], rows.gather(-1, pair[:, i]))
    return rows
