"""Spectral norms of a slowly changing sequence of matrices, without an SVD per step.

The engine needs ||G_k||_2 for every lag k of a backward product G_k = G_{k-1} M_k. Appending
factors on the right makes the *left* singular vectors of G_k converge (Oseledets), so the top
left singular subspace at one lag is an excellent start for the next. :class:`SpectralNorms`
keeps a block of ``p`` orthonormal vectors U per sample and runs block power (subspace)
iteration on A = G G^T from that warm start (each step shifted by half the block's smallest
Ritz value, capped: :func:`_shifted_step`), reading Ritz values from the small Gram matrix
(G^T U)^T (G^T U) (Rayleigh-Ritz). The top Ritz value theta_1 never exceeds sigma_1^2 and its
error shrinks like (sigma_{p+1} / sigma_1)^(4 n) after n iterations. A matrix is done when the
Kato-Temple estimate of that error, ||r_1||^2 / (theta_1 - theta_2) with r_1 the residual of
the top Ritz pair, is at most ``rtol`` theta_1 (see :func:`top_singular_values`); in float64
this leaves an error far below 1e-6 (the tests compare with an SVD). A matrix that has not
settled after ``max_iter`` iterations, or whose estimate has stalled (from check STALL_CHECKS
on), or (on a CPU) whose remaining checks would cost more than an exact norm
(:func:`_costs_more`), gets its exact norm (:func:`exact_norms`), so no answer is ever a guess.

Per-operation overhead, not arithmetic, dominates such small products, so matrices are queued
and handled ``chunk`` lags at a time in one batch: on a CPU, lags that converge leave the batch
and the rest iterate on; on a GPU they stay, masked (see :func:`top_singular_values`). The queue
holds at most ``chunk`` lags per stream (never T of them): CPU_CHUNK on a CPU; on a GPU up to
GPU_CHUNK within :func:`queue_bytes` (a share of the device's memory, 1-4 GiB). The first
``first_chunk`` lags start from a seeded block of ``block`` rows; after them the warm start is
the previous chunk's last lag's block, cut to its leading ``steady_block`` Ritz rows (the top
direction only drifts from lag to lag, and a thinner block halves the products), plus the
chunk's look-ahead row (:mod:`.lookahead`): the direction outside those rows along which the
chunk's last matrix that is not all zero is largest, as a filtered search from a few random rows
finds it (a decoupled block overtaking the one the warm rows sit on, which no bound inside the
iteration sees early). Matrices with a small side are not iterated: on a CPU those with a side
of at most GRAM_SMALL, or a tall one of GRAM_SIDE (an input Jacobian H x I with I small), have
their Gram matrices squared (:func:`gram_norms`), on a GPU those with a side of at most
``exact_below`` get exact norms (:func:`exact_norms`), a chunk at a time in one batched call. A
stream's first two chunks are *cold* (see COLD_POWER_STEPS).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from . import lookahead, scaling
from .block_rows import orthonormal_rows, pair_bound, start_block, unit_scaled
from .gram import default_rtol, exact_norms, gram_norms
from .queue_sizes import CPU_CHUNK, takes_gram

__all__ = ["SpectralNorms", "queue_bytes", "top_singular_values"]

#: One power step per check on a CPU (its queue: CPU_CHUNK lags per stream, queue_sizes).
CPU_POWER_STEPS = 1
#: Block power steps per convergence check on a GPU (each check waits for the device).
GPU_POWER_STEPS = 2
#: A stream is *cold* for its first two chunks (``first_chunk + chunk`` lags): the top
#: singular values of a product of few factors lie close together, and the warm start is
#: still far from converged, so the iteration needs many steps. While cold it runs this many
#: power steps per check (any device): fewer checks, each a small eigh and its bookkeeping.
COLD_POWER_STEPS = 4
#: From this many checks on, a matrix whose estimate no longer moves (by half the tolerance)
#: and whose Kato-Temple bound has not halved since the last check, without passing the test,
#: gets its exact norm (see top_singular_values).
STALL_CHECKS = 8
#: On a CPU an exact norm (:func:`exact_norms`) costs about this many float32 one-step checks
#: per unit of its Gram matrix's side (measured 0.15-0.34 at sides 32-128, 0.10-0.20 at
#: 192-512, one thread: the value errs towards iterating on), and a float64 check about
#: F64_CHECK_COST float32 ones (the exact norm is float64 either way): from check 2 on, a
#: matrix whose bound falls too slowly to pass at a lower cost, at two checks in a row, gets
#: its exact norm (see :func:`_costs_more`).
EXACT_COST_PER_SIDE = 1 / 3
F64_CHECK_COST = 2
#: After a call's first step (plain), the next block is a power step shifted by b / 2
#: (:func:`_shifted_step`), b the smallest Ritz value but at most SHIFT_CAP times the largest;
#: below SHIFT_FLOOR times the largest, the plain step. Counts: docs/maths.md, section 5.
SHIFT_CAP = 0.5
SHIFT_FLOOR = 1e-3
#: On a GPU: at most this many lags per stream, within the queue's bytes (every chunk waits for
#: the device a few times, so longer chunks mean fewer waits): GPU_QUEUE_SHARE of the device's
#: memory, at least GPU_QUEUE_BYTES and at most GPU_QUEUE_MAX_BYTES (:func:`queue_bytes`). On an
#: H200 (139 GiB) at B = 64, H = 1024 (256 MiB a lag) a 4 GiB queue (16 lags) took 0.83x the
#: time of a 1 GiB one (4 lags) with 409 host waits against 1077, and a 16 GiB one 0.88x (its
#: lags that converge early stay in the batch, masked): benchmarks/profile_spectral.py.
GPU_CHUNK = 64
GPU_QUEUE_BYTES = 1 << 30
GPU_QUEUE_MAX_BYTES = 4 << 30
GPU_QUEUE_SHARE = 1 / 32


def queue_bytes(device: torch.device) -> int:
    """The most bytes a stream's queue may hold on a GPU: GPU_QUEUE_SHARE of a CUDA device's
    memory, between GPU_QUEUE_BYTES and GPU_QUEUE_MAX_BYTES (GPU_QUEUE_BYTES where the device
    does not say its memory). Asking costs no wait for the device."""
    total = 0
    if device.type == "cuda" and torch.cuda.is_available():
        total = torch.cuda.get_device_properties(device).total_memory
    return int(min(max(total * GPU_QUEUE_SHARE, GPU_QUEUE_BYTES), GPU_QUEUE_MAX_BYTES))


def top_singular_values(
    g: torch.Tensor,
    u: torch.Tensor,
    *,
    rtol: float | None = None,
    max_iter: int = 300,
    power_steps: int = 1,
    compact: bool | None = None,
    lengths: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """sigma_1 of each matrix of ``g`` (``(N, m, n)``) by block power iteration from ``u``.

    ``u`` is ``(N, p, m)``: p orthonormal *rows* (the warm start; rows, because a (p x m) @
    (m x n) product with few rows runs several times faster than one with few columns). Each
    iteration forms W = U G and Z = W G^T = U A (A = G G^T), the Ritz pairs (theta_i, y_i) of
    S = U A U^T = W W^T, and the residual r_1 = y_1^T Z - theta_1 y_1^T U of the top pair. By the
    Kato-Temple bound the top eigenvalue lies within ||r_1||^2 / (theta_1 - lambda_2) above
    theta_1; with theta_2 for lambda_2 (exact once the block has settled) a matrix is done when
    that estimate is below ``rtol`` theta_1, so a warm start that is already right costs one
    iteration. After a check the block moves to orth((2 A / b - I) U), a power step shifted by
    half of b = min(theta_p, theta_1 / 2) (:func:`_shifted_step`). ``power_steps`` > 1 runs
    that many block power steps per check (the extra ones shifted by the last check's Ritz
    values, plain before the first check): on a GPU each check waits for the device (its
    small ``eigh`` and the test of ``done``), so fewer checks of more steps keep the device
    busy. ``max_iter`` counts checks. ``compact`` (default: on a CPU) drops finished matrices
    from the batch and orthonormalizes by Householder QR; otherwise (a GPU's way) they stay in
    the batch, masked, and Gram-Schmidt orthonormalizes. ``lengths``: g's row lengths ``(N, m)``, if
    the caller has them (:func:`.block_rows.pair_bound`). Returns ``(sigma, u)``: ``(N,)`` in
    g's dtype, and the final blocks.
    """
    rtol = default_rtol(g.dtype) if rtol is None else rtol
    f64 = torch.float64
    n_mat, p = g.shape[0], u.shape[-2]
    # A CPU drops finished matrices from the batch (fewer products); a GPU keeps them and
    # masks (dropping them would wait for the device at each step of the bookkeeping).
    compact = not scaling.gpu_like(g.device) if compact is None else compact
    orthonormal = orthonormal_rows(compact)
    sigma = torch.zeros(n_mat, dtype=f64, device=g.device)
    u = u.clone()
    active = torch.arange(n_mat, device=g.device)  # matrices still in the batch
    pending = torch.ones(n_mat, dtype=torch.bool, device=g.device)  # ... and not yet done
    ga, ua = g, u
    # Lower bounds on sigma_1, against a trapped warm start: rows that span an (almost)
    # invariant subspace without the top direction (G diagonal, near-diagonal or made of
    # decoupled blocks, when another unit or block overtakes) settle at once on a wrong value.
    # (1) sigma_1 >= sigma_1 of the two longest rows, whatever the start (reached at the left
    # vector ``lead``; pair_bound). (2) For every row q of the block, sigma_1 >= ||q A|| /
    # ||q G|| (one power step ahead of q's own Rayleigh quotient), read from W and Z at each
    # check (a warm block's look-ahead row, SpectralNorms, is a row outside its warm rows). A
    # matrix that settles below either bound is not done: ``lead``, or the best row's step
    # q A, replaces its first row.
    margin = 1 - 10 * rtol  # rounding must not flag an exact answer
    # Row lengths in g's own dtype (a float64 copy of the whole batch cost 4x the pass); the
    # two longest rows in float64. Squares that underflow in g's dtype choose lower rows.
    low, lead = pair_bound(g, lengths)
    low = low * margin
    previous = torch.full((n_mat,), -1.0, dtype=f64, device=g.device)  # last check's value
    previous_bound = torch.full((n_mat,), torch.inf, dtype=f64, device=g.device)  # ... bound
    slow = torch.zeros(n_mat, dtype=torch.bool, device=g.device)  # hopeless at the last check
    # An exact norm's cost in one-step checks of g's dtype (side: of its Gram matrix).
    exact_cost = EXACT_COST_PER_SIDE * min(g.shape[-2:])
    exact_cost /= F64_CHECK_COST if g.dtype == torch.float64 else 1
    last: tuple[torch.Tensor, ...] | None = None  # last check's theta_p, theta_1 (/ c^2), c
    for check in range(max_iter):
        for _ in range(power_steps - 1):  # shifted by the last check's Ritz values, if any
            w, c = unit_scaled(ua @ ga)
            z = w @ ga.mT
            if last is not None and p > 1:  # the Ritz values in this step's units, 1 / c^2
                rescale = (last[2].to(f64) / c.to(f64)).square()
                z = _shifted_step(z, ua, c, last[0] * rescale, last[1] * rescale)
            ua = orthonormal(z)
        # W = c W1 with max |W1| = 1, so that nothing below squares G's scale: S, its Ritz
        # values and the residual test are all of order 1 (with the raw W, a G of norm 1e-80
        # in float64 or 1e-10 in float32 gave a residual that underflowed to 0, "converged").
        w, c = unit_scaled(ua @ ga)  # (N', p, n) = U G / c, c = max |U G|
        z = w @ ga.mT  # (N', p, m) = U A / c
        # The small problems in float64: LAPACK's float32 eigh can fail on badly scaled S.
        gram = (w @ w.mT).to(f64)  # S / c^2, S = W W^T
        if not compact:  # a GPU run whose checks are deferred may carry inf/NaN (see below)
            gram = torch.where(torch.isfinite(gram), gram, 0.0)
        theta, y = torch.linalg.eigh(gram)  # ascending
        top, y1 = theta[..., -1], y[..., -1:].mT.to(g.dtype)  # (N',), (N', 1, p)
        # r_1 / c^2, in g's dtype: its rounding (~eps ||A U||) is far below the test's
        # threshold unless the top two singular values agree to ~1e-8.
        resid = (y1 @ z) / c[:, None, None] - top.to(g.dtype)[:, None, None] * (y1 @ ua)
        r2 = resid.square().sum(dim=(-2, -1)).to(f64)
        gap = top - theta[..., -2] if p > 1 else top
        need = rtol * top * gap.clamp_min(0)
        settled = r2 <= need
        bound = r2 / need  # the test passes at <= 1 (inf where the gap is 0: tied values)
        if not compact:
            # An engine on a GPU defers its tiny-norm checks (vanishlab.core.scaling.TinyNorms)
            # and measures the call again when one fails: the inf/NaN matrices such a run may
            # carry are let go at once, not iterated on; their answers are discarded.
            settled = settled | ~torch.isfinite(r2)
        value = c.to(f64) * top.clamp_min(0).sqrt()  # sigma_1 = c sqrt(theta_1 / c^2)
        # Row lengths in float64, z's scaled by its largest entry (z ~ ||G|| A-scaled rows
        # would overflow float32 squares from G ~ 1e18, float64 ones from 1e154).
        z1, z_max = unit_scaled(z)
        w_len = torch.linalg.vector_norm(w, dim=-1, dtype=f64)
        z_len = torch.linalg.vector_norm(z1, dim=-1, dtype=f64) * z_max.to(f64)[:, None]
        step = torch.where(w_len > 0, z_len / w_len.clamp_min(torch.finfo(f64).tiny), 0.0)
        probe, best = step.max(dim=-1)  # (N',): sigma_1 >= probe, from row ``best``
        probe = probe * margin
        trapped = settled & (value < torch.maximum(low, probe))
        settled = settled & ~trapped
        done = pending & settled
        give_up = None
        if compact and check >= 2:  # hopeless at two checks in a row (see _costs_more)
            hopeless = pending & ~settled & ~trapped
            hopeless = hopeless & _costs_more(bound, previous_bound, power_steps, exact_cost)
            give_up, slow = hopeless & slow, hopeless
        if check >= STALL_CHECKS:
            # Stalled: the estimate no longer moves and the test makes no headway (tied or
            # nearly tied top singular values: the gap stays ~0, and the bound with it). Exact
            # norms now, instead of max_iter checks (35-55x the Frobenius-only call for an
            # orthogonal W_hh without input, where every singular value is equal). A bound
            # that still halves from check to check is converging: at H = 1024 a quarter of
            # the cold lags' matrices had estimates that no longer moved at check 8 but passed
            # a few checks later, and their exact norms took 2x the whole call on a CPU, 30x
            # on an H200 (benchmarks/results/diagnose_stalls_h200_2026-11-30.log). On a GPU
            # this asks for one more wait per check, from check STALL_CHECKS on only (few
            # chunks get there).
            unmoved = (value - previous).abs() <= 0.5 * rtol * value
            stalled = pending & ~settled & unmoved & ~(bound < 0.5 * previous_bound)
            give_up = stalled if give_up is None else give_up | stalled
        if give_up is not None and bool(give_up.any()):
            which = give_up.nonzero().squeeze(-1)
            value = value.clone()
            value[which] = exact_norms(ga[which]).to(f64)
            done = done | give_up
        previous, previous_bound = value, bound
        # The call's first step is plain: it removes the block's null-space part (dead relu
        # units, a new look-ahead row) at once; shifted, a third stays per step (an IRNN
        # stalled).
        shifted = p > 1 and (check > 0 or power_steps > 1)
        step_rows = _shifted_step(z, ua, c, theta[..., 0], top) if shifted else z
        last = theta[..., 0], top, c  # for the next check's extra steps
        if not compact or bool(trapped.any()):  # (a GPU: no wait, the rows are masked)
            ahead = z.gather(1, best[:, None, None].expand(-1, 1, z.shape[-1])).squeeze(1)
            new_row = torch.where((probe > low)[:, None], ahead, lead)
            step_rows[:, 0] = torch.where(trapped[:, None], new_row, step_rows[:, 0])
        # Blocks are stored in Ritz order (top singular direction first), so a smaller block
        # can take the leading rows as its warm start.
        if not compact:
            sigma = torch.where(done, value, sigma)
            ritz = y.flip(-1).mT.to(g.dtype) @ ua
            u = torch.where(done[:, None, None], ritz, u)
            pending = pending & ~done
            if not bool(pending.any()):  # the one wait per check, besides eigh's own
                return sigma.to(g.dtype), u
        elif bool(done.any()):
            sigma[active[done]] = value[done]
            u[active[done]] = y[done].flip(-1).mT.to(g.dtype) @ ua[done]
            pending = pending & ~done
            left = int(pending.sum())
            if left == 0:
                return sigma.to(g.dtype), u
            # Shrink the batch once a quarter of it is done (the copy then pays); finished
            # matrices that stay iterate harmlessly, their results already stored.
            if 4 * left <= 3 * len(active):
                keep = pending
                active, ga, low, lead = active[keep], ga[keep], low[keep], lead[keep]
                step_rows, last = step_rows[keep], tuple(t[keep] for t in last)
                previous, previous_bound, slow = previous[keep], previous_bound[keep], slow[keep]
                pending = pending[keep]
        ua = orthonormal(step_rows)  # (N', p, m): the next block
    # Not settled (nearly degenerate top singular values): an exact answer for those.
    sigma[active[pending]] = exact_norms(ga[pending]).to(f64)
    u[active[pending]] = ua[pending]
    return sigma.to(g.dtype), u


def _costs_more(
    bound: torch.Tensor, previous_bound: torch.Tensor, power_steps: int, exact_cost: float
) -> torch.Tensor:
    """Where the checks still needed cost more than an exact norm, on a CPU: at the last
    check's rate ``bound / previous_bound``, a bound above 1 passes after ln(bound) /
    ln(previous_bound / bound) more checks of ``power_steps`` steps each, against an exact
    norm's ``exact_cost`` one-step checks; a bound that did not fall (tied top singular
    values: inf) never passes. Products of a few orthogonal factors (a sweep's first lags)
    have their top singular values this close: ~30 checks of 4 steps per matrix, where the
    exact norm costs ~10 (docs/maths.md, section 5, "Hopeless iterations"). Callers ask it
    twice in a row: a bound near 1 can rise once before it passes (an IRNN's did)."""
    rate = bound / previous_bound
    left = torch.where(rate < 1, torch.log(bound) / torch.log(1 / rate), torch.inf)
    return left * power_steps > exact_cost


def _shifted_step(
    z: torch.Tensor, u: torch.Tensor, c: torch.Tensor, lowest: torch.Tensor, top: torch.Tensor
) -> torch.Tensor:
    """Rows spanning (2 A / b - I) U: the next block of a check, a power step shifted by b / 2.

    ``z`` = U A / c and ``u`` = U, as in :func:`top_singular_values`; ``lowest`` and ``top`` are
    the block's smallest and largest Ritz values in units of 1 / c^2. The step maps A's
    eigenvalues in [0, b] into [-1, 1] and lambda_1 to 2 lambda_1 / b - 1 >= 3, with
    b = min(theta_p, SHIFT_CAP theta_1): a degree-1 Chebyshev filter on [0, b]. Against the
    plain step (ratio lambda / lambda_1 per step) it damps directions near b faster, e.g.
    1/3 against 1/2 at lambda = b = lambda_1 / 2, and those near 0 at least 3x per step; it
    pays where the top singular values lie close together (an orthogonal W_hh), where the
    plain step crawls (docs/maths.md, section 5). Where b is below SHIFT_FLOOR theta_1 (a
    spectrum that falls fast, where the plain step already converges at once), or not a
    number, or where 2 / (b c) overflows z's dtype (c below ~6e-36 in float32, ~1e-305 in
    float64: inf and NaN rows, and the next ``eigh`` failed), the plain rows ``z`` are kept.
    A new tensor: ``z`` is left as it is."""
    b = torch.minimum(lowest, SHIFT_CAP * top)
    shift = b > SHIFT_FLOOR * top  # False for NaN
    coef = 2.0 / torch.where(shift, b * c.to(b.dtype), 1.0)  # z c / b_raw, b_raw = b c^2
    shift = shift & (coef <= torch.finfo(z.dtype).max)
    shifted = z * coef.to(z.dtype)[:, None, None] - u
    return torch.where(shift[:, None, None], shifted, z)


class SpectralNorms:
    """Queue ``(B, m, n)`` matrices lag by lag; compute their spectral norms a chunk at a time.

    ``push(lag, g, on_ready)`` queues g; when ``chunk`` matrices are queued (or on ``flush``)
    their spectral norms are computed together and ``on_ready(lag, sigma)`` is called for each,
    in lag order, with ``sigma`` a ``(B,)`` tensor. A producer may first ask for
    :meth:`slot` and write the next matrix into it: then queueing it copies nothing.
    """

    def __init__(
        self,
        *,
        block: int = 8,
        chunk: int | None = None,
        first_chunk: int = 4,
        steady_block: int = 4,
        exact_below: int = 16,
        rtol: float | None = None,
        power_steps: int | None = None,
        compact: bool | None = None,
    ) -> None:
        # chunk, power_steps, compact None: chosen by the device of the first matrix.
        self.block, self.chunk, self.exact_below, self.rtol = block, chunk, exact_below, rtol
        self.power_steps, self.compact = power_steps, compact
        # The first lags start from a random block, not from converged vectors: a short first
        # chunk hands its vectors on to the next one sooner.
        self.first_chunk = first_chunk
        # Once warm, fewer vectors suffice: the top direction only drifts from lag to lag.
        self.steady_block = min(steady_block, block)
        self._lags: list[int] = []
        self._buffer: torch.Tensor | None = None  # (chunk, B, m, n): the queued matrices
        self._u: torch.Tensor | None = None  # (B, p, m): warm start carried between chunks
        self._on_ready: Callable[[int, torch.Tensor], None] | None = None
        self._handed = 0  # lags whose norms the queue has handed out
        self._draws = 0  # the next chunk's set of sketch rows (lookahead)

    def _for_device(self, shape: torch.Size, dtype: torch.dtype, device: torch.device) -> None:
        """Chunk and power steps for the device: a CPU works best on a cache-sized queue of
        CPU_CHUNK lags, one power step per check; a GPU waits for every check, so it queues up
        to GPU_CHUNK lags (within :func:`queue_bytes`) and runs two steps per check."""
        cpu = not scaling.gpu_like(device)
        if self.chunk is None and cpu:
            self.chunk = CPU_CHUNK
        elif self.chunk is None:
            per_lag = shape.numel() * torch.finfo(dtype).bits // 8
            self.chunk = max(1, min(GPU_CHUNK, queue_bytes(device) // max(per_lag, 1)))
        if self.power_steps is None:
            self.power_steps = CPU_POWER_STEPS if cpu else GPU_POWER_STEPS
        if self.compact is None:
            self.compact = cpu
        self.first_chunk = min(self.first_chunk, self.chunk)

    def _configure(self, shape: torch.Size, dtype: torch.dtype, device: torch.device) -> None:
        """Chunk, power steps and batching for the device of the first matrix pushed."""
        if self.chunk is None or self.power_steps is None or self.compact is None:
            self._for_device(shape, dtype, device)

    def _no_start(self, shape: torch.Size) -> bool:
        """Whether a matrix of this shape is computed without a warm start: by
        :func:`gram_norms` on a CPU (see GRAM_SMALL), exactly on a GPU (a side <= exact_below)."""
        if self.compact:
            return takes_gram(shape[-2], shape[-1])
        return min(shape[-2], shape[-1]) <= self.exact_below

    def _full_at(self, shape: torch.Size) -> int:
        """How many queued lags make a chunk: a short first chunk while the iteration has no
        warm start yet (exact norms and :func:`gram_norms` need none)."""
        assert self.chunk is not None
        if self._no_start(shape) or self._u is not None:
            return self.chunk
        return min(self.first_chunk, self.chunk)

    def flushes_on_push(self, g: torch.Tensor) -> bool:
        """Whether pushing ``g`` next computes spectral norms (of the full queue)."""
        self._configure(g.shape, g.dtype, g.device)
        return len(self._lags) + 1 >= self._full_at(g.shape)

    def slot(self, shape: torch.Size, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """Where the next pushed matrix of this shape may be written."""
        self._configure(shape, dtype, device)
        assert self.chunk is not None
        buf = self._buffer
        if buf is None or buf.shape[1:] != shape or buf.dtype != dtype or buf.device != device:
            if self._lags:
                self.flush()
            buf = self._buffer = torch.empty(self.chunk, *shape, dtype=dtype, device=device)
        return buf[len(self._lags)]

    def push(
        self, lag: int, g: torch.Tensor, on_ready: Callable[[int, torch.Tensor], None]
    ) -> None:
        self._on_ready = on_ready
        target = self.slot(g.shape, g.dtype, g.device)
        if target.data_ptr() != g.data_ptr():
            target.copy_(g)
        self._lags.append(lag)
        if len(self._lags) >= self._full_at(g.shape):
            self.flush()

    def flush(self) -> None:
        if not self._lags:
            return
        assert self._buffer is not None and self._on_ready is not None
        lags, self._lags = self._lags, []
        K = len(lags)
        gs = self._buffer[:K]  # (K, B, m, n)
        _, B, m, n = gs.shape
        if self._no_start(gs.shape):
            if self.compact:  # a CPU: by repeated squaring
                sigma = gram_norms(gs.reshape(K * B, m, n), self.rtol).reshape(K, B)
            else:  # a GPU: exact, one batched call (inf/NaN only in a deferred run that is
                # measured again: see top_singular_values)
                sigma = exact_norms(torch.where(torch.isfinite(gs), gs, 0.0))
            self._hand_out(lags, sigma)
            return
        cold = self._handed < self._cold_lags()
        p = min(self.block if self._u is None else self.steady_block, m, n)
        if self._u is not None and self._u.shape[0] == B and self._u.shape[1] > p:
            self._u = self._u[:, :p]  # the leading Ritz rows
        flat = gs.reshape(K * B, m, n)
        lengths = torch.linalg.vector_norm(flat, dim=-1)  # (K B, m): the pair bound's too
        if self._u is None or self._u.shape != (B, p, m):
            self._u = start_block(m, p, gs.dtype, gs.device).mT.expand(B, p, m)
        elif p < min(m, n):  # a warm block: the chunk's look-ahead row joins it
            orthonormal = orthonormal_rows(self.compact)
            g = lookahead.searched(gs, lengths.view(K, B, m), self.compact)
            row = lookahead.lookahead_row(self._u, g, orthonormal, self._draws)
            self._draws = (self._draws + 1) % lookahead.SKETCHES
            self._u = orthonormal(torch.cat([self._u, row], dim=1))
            p += 1
        steps = max(self.power_steps or 1, COLD_POWER_STEPS if cold else 1)
        start = self._u.unsqueeze(0).expand(K, B, p, m).reshape(K * B, p, m)
        sigma, u = top_singular_values(
            flat,
            start,
            rtol=self.rtol,
            power_steps=steps,
            compact=self.compact,
            lengths=lengths,
        )
        # The largest lag's block is the best start for the next chunk.
        self._u = u.reshape(K, B, p, m)[-1]
        self._hand_out(lags, sigma.reshape(K, B))

    def _cold_lags(self) -> int:
        """How many lags a stream hands out before its warm start counts as converged."""
        assert self.chunk is not None
        return self.first_chunk + self.chunk

    def _hand_out(self, lags: list[int], sigma: torch.Tensor) -> None:
        assert self._on_ready is not None
        self._handed += len(lags)
        for lag, value in zip(lags, sigma, strict=True):
            self._on_ready(lag, value)
        # Dropped once handed (each push gives it again): the owner's bound method it was
        # (a stream's) made a reference cycle, and the queue's buffer, 16 L B H^2 numbers,
        # outlived the measurement until Python's cyclic collector ran. A sweep's worker held
        # it beside its next cell: at H = 1024, T = 50, B = 8 (512 MiB) its third cell peaked
        # 236 MiB beyond what the sweep counts for it (benchmarks/worker_memory.py, 2026-12-07).
        self._on_ready = None
