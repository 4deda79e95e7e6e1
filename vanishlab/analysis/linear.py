"""The linear regime: the Jacobians of an ``nn.RNN`` at the origin, and their rate ln rho(W_hh).

The state Jacobian at lag k of a single-layer RNN is a product of k one-step factors
(docs/theory.md), J(k) = dh_{T-1} / dh_{T-1-k} = prod_{t} D_t W_hh with D_t = diag(act'(a_t)).
With zero input, zero bias and h0 = 0, a tanh network stays at h = 0 where D_t = I, so
J(k) = W_hh^k exactly. Its asymptotic rate is (Gelfand's formula)

    lim_k (1/k) ln ||W_hh^k|| = ln rho(W_hh),     rho = spectral radius,

for any norm. It is neither ln(gain) nor ln ||W_hh||_2: for W_hh with i.i.d. N(0, g^2/H) entries
the circular law puts the eigenvalues in the disc of radius g (rho -> g slowly in H) while the
largest singular value tends to 2g (Marchenko-Pastur), and a non-normal W_hh has ||W^k|| far
above rho^k for a while. At finite lags ||W^k||_F and ||W^k||_2 carry their own prefactors
(e.g. orthogonal g Q: ||.||_2 = g^k and ||.||_F = g^k sqrt(H) exactly). For relu, PyTorch's
relu'(0) = 0 makes the Jacobian at the origin exactly zero (log-norm -inf) for every k >= 1;
relu's linear regime is positive activity with every unit on (D = I), where the rate is again
ln rho(W_hh) (identity weights, Le, Jaitly & Hinton 2015: rate 0).

Units: rates in natural log per step; norms in log10 (as the engine reports them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import SupportsIndex

import numpy as np
import pandas as pd
import torch

from ..core.allocation import refuse_beyond_memory
from ..core.inputs import (
    check_float_module,
    check_rnn,
    wrong_module,
)
from ..core.integers import check_integer
from ..core.log_units import LN10
from ..core.tensor_checks import check_dense, check_finite
from ..core.weight_reads import module_weight

__all__ = [
    "FIXED_POINT_STEPS",
    "SETTLED_DISTANCE",
    "fixed_point_rates",
    "linear_rate",
    "origin_log_norms",
    "refuse_gated",
]

# origin_log_norms' resident peak per lag: its three arrays, the frame's columns as they are,
# 27 bytes measured at max_lag = 1,000,000 (pandas 3.1, 2026-12-06; 48 when the frame copied
# them). pandas 2 copies the two float columns into one block: 16 more, counted (not measured).
_LAG_BYTES = 48


def refuse_gated(module: object, what: str) -> None:
    """A ``TypeError`` for an ``nn.LSTM`` or ``nn.GRU`` given to ``what``, one of nn.RNN's
    theories: "expected a torch.nn.RNN module, got LSTM" alone read as a slip of the caller's,
    not as the theory having no gated counterpart (the README's "they refuse a gated cell")."""
    if isinstance(module, torch.nn.LSTM | torch.nn.GRU):
        kind = type(module).__name__
        raise TypeError(
            f"expected a torch.nn.RNN module, got {kind}: {what} is nn.RNN's theory (a tanh or "
            f"relu step), with no counterpart for a gated cell here; vl.jacobian_norms measures "
            f"the {kind}'s Jacobians"
        )


def _weight_hh(rnn_or_weight: torch.nn.RNN | torch.Tensor, layer: int) -> torch.Tensor:
    layer = check_integer(layer, "layer")  # 1.5 named no attribute weight_hh_l1.5
    refuse_gated(rnn_or_weight, "the linear rate")
    if isinstance(rnn_or_weight, torch.Tensor):
        if layer != 0:  # it was ignored: the rate of the tensor given, whatever layer said
            raise ValueError(
                f"layer={layer} picks a layer of a module; a weight tensor is one layer's "
                "W_hh already (pass the module, or leave layer out)"
            )
        w = rnn_or_weight
        # a meta, sparse or nested tensor failed inside torch (NotImplementedError: "Cannot
        # copy out of meta tensor"; "Could not run 'aten::ne.Scalar' ... 'SparseCPU'")
        check_dense(w, "W_hh")
    elif isinstance(rnn_or_weight, torch.nn.RNN):
        check_rnn(rnn_or_weight)  # a bidirectional module's other direction was left out
        check_float_module(rnn_or_weight, "RNN")  # float16 was taken, as the engine refuses it
        if not 0 <= layer < rnn_or_weight.num_layers:
            raise ValueError(f"layer must be in 0..{rnn_or_weight.num_layers - 1}, got {layer}")
        w = module_weight(rnn_or_weight, f"weight_hh_l{layer}")
    else:
        # a compiled or wrapped RNN is told where the module is, as everywhere else
        raise wrong_module(rnn_or_weight, "a square weight tensor or a torch.nn.RNN")
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] == 0:
        raise ValueError(f"W_hh must be a square (H, H) matrix, H > 0, got shape {tuple(w.shape)}")
    if not w.is_floating_point():
        raise TypeError(f"W_hh must be a floating-point tensor, got dtype {w.dtype}")
    w = w.detach().to(device="cpu", dtype=torch.float64)
    # LAPACK's eigvals crashed the interpreter on a NaN (oneMKL DGEBAL, then a double free).
    check_finite(w, f"W_hh (layer {layer})", ("entry",))
    return w


def linear_rate(
    rnn_or_weight: torch.nn.RNN | torch.Tensor, layer: int | SupportsIndex = 0
) -> float:
    """The asymptotic rate at the origin, ln rho(W_hh), in natural log per step.

    At h = 0 with zero input and zero bias a tanh network's one-step Jacobian is W_hh itself
    (tanh'(0) = 1), so ||dh_T/dh_{T-k}|| = ||W_hh^k||, and by Gelfand's formula
    (1/k) ln ||W_hh^k|| -> ln rho(W_hh) for every norm. This is not ln(gain): the spectral
    radius of a random N(0, g^2/H) matrix approaches g only slowly with H (an orthogonal
    g Q has rho = g exactly). Nor is it ln ||W_hh||_2, the one-step *bound* (about ln 2g for a
    Gaussian matrix, where singular values spread to 2g while eigenvalues stay in the disc of
    radius g). Finite lags have prefactors on top of rho^k: ||W^k||_F starts at sqrt(H), and a
    non-normal W_hh has transient growth; see :func:`origin_log_norms` for the exact values.

    For relu the origin is degenerate: PyTorch's relu'(0) = 0 makes every Jacobian of lag
    k >= 1 exactly zero. The same rate ln rho(W_hh) applies to relu where every unit is active
    (D_t = I), e.g. identity weights with positive activity (Le, Jaitly & Hinton 2015): rate 0.
    For a lower layer of a stack, paths through the layers above make the asymptotic rate of its
    state rows the largest ln rho(W_hh^j) over layers j >= layer.

    Args:
        rnn_or_weight: an ``nn.RNN`` (its ``weight_hh_l{layer}`` is used) or an ``(H, H)``
            tensor.
        layer: which layer's recurrent weight, for an ``nn.RNN``.

    Returns:
        ln rho(W_hh) as a float (``-inf`` for a nilpotent W_hh, e.g. all zeros).
    """
    w = _weight_hh(rnn_or_weight, layer)  # (H, H) float64
    rho = float(torch.linalg.eigvals(w).abs().max())
    return math.log(rho) if rho > 0 else -math.inf


#: Undriven steps :func:`fixed_point_rates` iterates before Newton's method polishes the point.
FIXED_POINT_STEPS = 200
#: Newton's iterations at most, and the residual |h - act(a)| (relative to max(1, max |h|)) of a
#: fixed point found.
NEWTON_STEPS, FIXED_POINT_TOLERANCE = 50, 1e-12
#: Where the last plain steps' distances to the point Newton's method found rise and fall (an
#: error turned round an ellipse by a complex pair of D* W_hh's eigenvalues, or several modes
#: beating), :func:`fixed_point_rates` goes on from the last state for 2, 4 and then 8 times
#: as many steps as the tail held, each judged as the tail was: ``default`` tanh networks, no
#: input, gains 1.25-2.5, seeds 0-39 at H = 16 and 0-19 at H = 64, that 20,000 plain steps
#: from 0 take to a stable point were rated None in 14 of 126 and 8 of 56, as if they cycled.
APPROACH_ROUNDS = (2, 4, 8)
#: How near its fixed point (largest |h_t - h*| over units and layers) an undriven state has
#: settled (:func:`fixed_point_rates`' ``settling``): tanh's slope 1 - h^2 then moves by 0.2 at
#: most. tanh, ``default``, H = 64, gain 2, seeds 0-7 at T = 100: the three that took longer
#: than T // 4 steps were 0.019, 0.035 and 0.138 per step from ln rho(D* W_hh) (seed 5: 129
#: steps), the three others with a fixed point within 0.012 (docs/theory.md, ``short``, which
#: says so to a user; tests/test_docs_theory.py holds the page's number to this one).
SETTLED_DISTANCE = 0.1


def fixed_point_rates(
    rnn: torch.nn.RNN, steps: int = FIXED_POINT_STEPS, *, settling: list[int | None] | None = None
) -> list[float] | None:
    """ln rho(D*_l W_hh^l) of each layer at the fixed point an undriven network settles to.

    With zero input but biases, the state does not stay at the origin: from h0 = 0 it moves to
    a fixed point h* = act(W_hh h* + b) (each layer above the first driven by the fixed point
    of the one below) when that point is stable, and near it every one-step factor is the
    same, D* W_hh with D* = diag(act'(a*)), so J(k) = (D* W_hh)^k and the rate is
    ln rho(D* W_hh) as k -> infinity, exact for the drawn network at any width (the origin's
    ln rho(W_hh) is the case D* = I). The mean field's 0.5 ln chi_1 is this rate's limit as
    H -> infinity only: rho(D* W_hh) is the edge of the drawn matrix's eigenvalue disc, which
    approaches sqrt(chi_1) slowly (the mean field was 0.037 below the measured rate at H = 256,
    ``default`` init, tanh, gain 1.5, 4 seeds; docs/theory.md).

    Per layer, in float64: ``steps`` undriven steps from h = 0, then Newton's method on
    h = act(W_hh h + drive) from there (a point approached at a rate near 0 takes thousands of
    plain steps). None when the network does not settle: the activity overflows, Newton does
    not converge, the point is unstable (rho(D* W_hh) >= 1: chaotic or exploding), or the
    plain steps were not approaching it (judged on the last half of them and, where their
    distances to the point rise and fall, on up to :data:`APPROACH_ROUNDS` more).

    ``settling``, where given (an empty list), gets one entry where the network settles: the
    steps the whole stack's undriven state, from h0 = 0 as a cell starts, takes to come within
    :data:`SETTLED_DISTANCE` of its fixed point in every unit, or None where it has not in
    ``steps`` steps. Until then the factors are not D* W_hh, and a fit whose window reaches
    back there measures the approach too (0.138 per step off at T = 100 for a cell that took
    129 steps; :data:`SETTLED_DISTANCE`).

    Returns:
        One rate per layer (natural log per step; ``-inf`` where D* W_hh is nilpotent, e.g.
        every relu unit off), or None.
    """
    check_rnn(rnn)
    refuse_gated(rnn, "the fixed-point rate")
    check_float_module(rnn, "RNN")
    steps = check_integer(steps, "steps")
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    rates: list[float] = []
    layers: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
    below: torch.Tensor | None = None  # layer 0's input is zero
    for l in range(rnn.num_layers):
        w_ih, w_hh = (
            module_weight(rnn, f"weight_{k}_l{l}").detach().to("cpu", torch.float64)
            for k in ("ih", "hh")
        )
        check_finite(w_hh, f"W_hh (layer {l})", ("entry",))
        bias = torch.zeros(w_hh.shape[0], dtype=torch.float64)
        if rnn.bias:
            for k in ("ih", "hh"):
                bias += module_weight(rnn, f"bias_{k}_l{l}").detach().to("cpu", torch.float64)
        drive = bias if below is None else bias + w_ih @ below
        settled = _settle(w_hh, drive, rnn.nonlinearity, steps)
        if settled is None:
            return None
        below, rate = settled
        rates.append(rate)
        layers.append((w_ih, w_hh, bias, below))
    if settling is not None:
        settling.append(_settling_steps(layers, rnn.nonlinearity, steps))
    return rates


def _settling_steps(
    layers: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]],
    nonlinearity: str,
    steps: int,
) -> int | None:
    """The steps the undriven stack (each layer's W_ih, W_hh, biases and fixed point), run from
    h0 = 0 with zero input, takes to come within :data:`SETTLED_DISTANCE` of its fixed point in
    every unit of every layer; None where it has not in ``steps`` steps."""
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    h = [torch.zeros_like(point) for *_, point in layers]
    for t in range(1, steps + 1):
        below: torch.Tensor | None = None
        for l, (w_ih, w_hh, bias, _) in enumerate(layers):
            a = w_hh @ h[l] + bias
            h[l] = act(a if below is None else a + w_ih @ below)
            below = h[l]
        if all(
            float((x - p).abs().max()) <= SETTLED_DISTANCE
            for x, (*_, p) in zip(h, layers, strict=True)
        ):
            return t
    return None


def _settle(
    w_hh: torch.Tensor, drive: torch.Tensor, nonlinearity: str, steps: int
) -> tuple[torch.Tensor, float] | None:
    """The stable fixed point h* of h -> act(W_hh h + drive) reached from 0, and
    ln rho(D* W_hh); None where there is none (see :func:`fixed_point_rates`)."""
    tanh = nonlinearity == "tanh"
    act = torch.tanh if tanh else torch.relu

    def slope(a: torch.Tensor) -> torch.Tensor:
        return 1.0 - torch.tanh(a) ** 2 if tanh else (a > 0).to(torch.float64)

    # the states of the last half of the plain steps (>= 2), the last one h
    tail = _plain_steps(
        torch.zeros_like(drive), w_hh, drive, act, steps, min(steps // 2, steps - 2)
    )
    h = tail[-1]
    if not bool(torch.isfinite(h).all()):
        return None  # the activity exploded (relu past its edge)
    x = h
    eye = torch.eye(len(x), dtype=torch.float64)
    for _ in range(NEWTON_STEPS):
        a = w_hh @ x + drive
        residual = x - act(a)
        if float(residual.abs().max()) <= FIXED_POINT_TOLERANCE * max(1.0, float(x.abs().max())):
            break
        x = x - torch.linalg.solve(eye - slope(a)[:, None] * w_hh, residual)
        if not bool(torch.isfinite(x).all()):
            return None
    else:
        return None
    rho = float(torch.linalg.eigvals(slope(w_hh @ x + drive)[:, None] * w_hh).abs().max())
    if not rho < 1.0:
        return None  # unstable (chaos, divergence)
    kept = len(tail)
    for times in (0, *APPROACH_ROUNDS):
        if times:  # the tail's distances rose and fell: go on from its last state
            tail = _plain_steps(tail[-1], w_hh, drive, act, times * kept)
        if _approached(tail, x):
            return x, (math.log(rho) if rho > 0 else -math.inf)
    return None  # the plain steps were not approaching it (a cycle or chaos beside it)


def _plain_steps(
    h: torch.Tensor,
    w_hh: torch.Tensor,
    drive: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
    count: int,
    first_kept: int = 0,
) -> list[torch.Tensor]:
    """The states of ``count`` plain steps h -> act(W_hh h + drive) from ``h``, from step
    ``first_kept`` (0-based, < ``count``) on: the last one is the last state."""
    kept: list[torch.Tensor] = []
    for t in range(count):
        h = act(w_hh @ h + drive)
        if t >= first_kept:
            kept.append(h)
    return kept


def _approached(tail: list[torch.Tensor], x: torch.Tensor) -> bool:
    """Whether the last plain steps' states ``tail`` were approaching the point ``x`` Newton's
    method found: the last state at ``x`` to the fixed-point tolerance, or every distance to
    ``x`` of the tail's last quarter below every one of its first half. Two single states
    compared (the step half-way and the last) passed a cycle whose period divides their
    distance in steps (a 2-cycle beside a stable point: the same phase twice, equally far);
    a cycle of any period up to half the tail puts its nearest phase in its first half, and
    its farthest in the last quarter when the period is up to a quarter. The quarter between
    is left out: a state approaching slowly, whose distance wiggles from step to step, came
    a step farther just after the half-way step than just before it, and the whole second
    half against the first read as not approaching in every round (``default`` tanh, gain 2,
    H = 64, seed 6: rate -0.0116, the sixth of seeds 0-7 that docs/theory.md says settle)."""
    distances = [float((state - x).norm()) for state in tail]
    if distances[-1] <= FIXED_POINT_TOLERANCE * (1.0 + float(x.norm())):
        return True  # settled to the precision Newton polished it to
    last_quarter = distances[-max(1, len(distances) // 4) :]
    return max(last_quarter) < min(distances[: max(1, len(distances) // 2)])


def origin_log_norms(
    rnn_or_weight: torch.nn.RNN | torch.Tensor,
    max_lag: int | SupportsIndex,
    layer: int | SupportsIndex = 0,
) -> pd.DataFrame:
    """Exact log10 norms of the state Jacobians at the origin: log10 ||W_hh^k||_F and _2.

    The closed form of what :func:`vanishlab.jacobian_norms` measures for a single-layer tanh
    network with zero input, zero biases and h0 = 0 (source ``"state"``, every lag 0..T). The
    powers are formed by repeated normalised multiplication in float64 (M_k = W M_{k-1} /
    ||W M_{k-1}||_F, the log of the scale carried apart), so nothing under- or overflows at any
    lag; the spectral norm of each normalised power comes from an exact SVD. Cost: one
    (H x H) product per lag, in order (each power is the one before times W), and one SVD
    per lag, batched up to 1024 at a time. For a relu ``nn.RNN`` the origin has relu'(0) = 0, so
    lags >= 1 are exactly zero (-inf), as the engine reports. In a stack at the origin it gives
    the top layer's rows with ``layer = num_layers - 1``; lower layers sum paths through the
    layers above (see :func:`pascanu_envelope`) and are not covered.

    Args:
        rnn_or_weight: an ``nn.RNN`` or an ``(H, H)`` W_hh (then tanh'(0) = 1 is assumed).
        max_lag: the largest lag k (the sequence length T, to match the engine's h0 row).
        layer: which layer's W_hh, for an ``nn.RNN``.

    Returns:
        ``max_lag + 1`` rows: ``lag`` (int64), ``log10_fro``, ``log10_spec`` (float64).
    """
    if check_integer(max_lag, "max_lag") < 0:
        raise ValueError(f"max_lag must be >= 0, got {max_lag}")
    w = _weight_hh(rnn_or_weight, layer)  # (H, H)
    refuse_beyond_memory(  # numpy's MemoryError came from deep inside, or minutes later
        f"the origin's norms to max_lag={max_lag}",
        (max_lag + 1) * _LAG_BYTES,
        f"ask for fewer lags (each takes about {_LAG_BYTES} bytes)",
    )
    H = w.shape[0]
    relu = isinstance(rnn_or_weight, torch.nn.RNN) and rnn_or_weight.nonlinearity == "relu"
    fro = np.empty(max_lag + 1)
    spec = np.empty(max_lag + 1)
    fro[0], spec[0] = 0.5 * math.log10(H), 0.0  # the identity
    if relu:
        fro[1:] = spec[1:] = -math.inf
    else:
        _powers(w, fro, spec)
    return pd.DataFrame(
        {"lag": np.arange(max_lag + 1, dtype=np.int64), "log10_fro": fro, "log10_spec": spec},
        copy=False,
    )


# How many normalised powers wait for their spectral norms together (_powers): up to 1024,
# and up to 16 MiB of them (a 0-d tensor of each one's norms waits too, ~0.2 KiB apiece)
_CHUNK, _CHUNK_BYTES = 1024, 2**24


def _powers(w: torch.Tensor, fro: np.ndarray, spec: np.ndarray) -> None:
    """Fill lags 1.. of ``fro`` and ``spec`` (log10 ||W^k||_F and _2) in place.

    The same normalised products as one lag at a time (M_k = W M_{k-1} / ||W M_{k-1}||_F, the
    Frobenius norm as :func:`~vanishlab.core.scaling.scaled_norms` takes it: the largest
    |entry| a, then a ||M / a||), the same values to the last digit; the spectral norms of a
    chunk of them in one batched ``svdvals`` (LAPACK's per matrix, as ``matrix_norm(ord=2)``
    of each), and nothing read back to Python per lag: an all-zero power (a nilpotent W) is
    found at the chunk's end, where its lag and those after it are -inf."""
    H, n_lags = w.shape[0], len(fro) - 1
    chunk = max(1, min(n_lags, _CHUNK, _CHUNK_BYTES // (8 * H * H)))
    units = torch.empty(chunk, H, H, dtype=torch.float64)
    m = torch.eye(H, dtype=torch.float64) / math.sqrt(H)  # ||m||_F = 1
    log_scale = 0.5 * math.log(H)
    k = 1
    while k <= n_lags:
        count = min(chunk, n_lags + 1 - k)
        peaks, norms = [], []
        for i in range(count):
            p = w @ m
            a = torch.linalg.vector_norm(p, ord=math.inf)  # the largest |entry|
            n = a * torch.linalg.vector_norm(p / a)  # exact at any scale (W_hh of 1e-160 too)
            m = torch.div(p, n, out=units[i])
            peaks.append(a)
            norms.append(n)
        peaks = torch.stack(peaks).tolist()
        zero = peaks.index(0.0) if 0.0 in peaks else count  # nilpotent: zero from here on
        tops = torch.linalg.svdvals(units[:zero]).amax(-1).tolist()  # NaN past a zero
        for i, (n, top) in enumerate(zip(torch.stack(norms).tolist()[:zero], tops, strict=True)):
            log_scale += math.log(n)
            fro[k + i] = log_scale / LN10
            spec[k + i] = (log_scale + math.log(top)) / LN10
        if zero < count:
            fro[k + zero :] = spec[k + zero :] = -math.inf
            return
        k += count
