"""The bound of Pascanu, Mikolov & Bengio (2013) on every Jacobian norm the engine reports.

Submultiplicativity gives, at every lag and on every trajectory,

    ||J(k)||_2 <= prod_t ||D_t||_2 ||W_hh||_2 <= (gamma ||W_hh||_2)^k,   gamma = sup |act'| = 1

for tanh and relu. So gamma ||W_hh||_2 < 1 suffices for vanishing (rho < 1 suffices in the
linear case, :mod:`vanishlab.analysis.linear`). The bound covers the state rows of one layer's
own recurrence: every row of a single-layer network and the top layer of a stack (lag 0 is the
identity, norm 1 = bound^0). An input row is one factor longer, dh_{T-1}/dx_{T-1-k} =
J(k) D W_ih, so its bound carries an extra gamma ||W_ih||_2; a lower layer of a stack sums paths
through the layers above, and the triangle inequality gives the bound B^l_k = a_l B^l_{k-1} +
c_{l+1} B^{l+1}_k (a_l = gamma ||W_hh^l||_2, c_l = gamma ||W_ih^l||_2) that
:func:`pascanu_envelope` evaluates in log space (docs/theory.md).

Units: :func:`pascanu_bound` is a rate, natural log per step; the envelope bounds norms, in log10
like the engine's columns.
"""

from __future__ import annotations

import math
import numbers
from typing import SupportsIndex

import numpy as np
import pandas as pd
import torch

from ..core.allocation import refuse_beyond_memory
from ..core.inputs import (
    check_float_module,
    check_rnn,
)
from ..core.integers import check_integer
from ..core.log_units import LN10
from ..core.tensor_checks import check_finite
from ..core.weight_reads import module_weight
from .activations import GAMMA
from .linear import refuse_gated
from .norm_frame import checked_lags, index_as_columns, norm_values
from .pascanu_records import check_frame_module, rounding_eps, row_text

__all__ = ["check_pascanu", "pascanu_bound", "pascanu_envelope", "pascanu_holds"]

# The envelope's resident peak per row, its L (T + 1) + T rows: 53-54 bytes measured at
# T = 4,000,000 (L = 1, 3 and 8, pandas 3.1: the bounds and the columns of the one frame made
# of them; 88-90 when two frames were made and concatenated, 2026-12-06). pandas 2 copies the
# two float columns into one block: 16 more, counted (not measured).
_ROW_BYTES = 72


def _rnn_weights(rnn: torch.nn.RNN) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    refuse_gated(rnn, "the Pascanu bound")
    check_rnn(rnn)
    # float16 and bfloat16 were taken (and check_pascanu's tolerance read from their eps), as
    # the engine refuses them: the same check, the same words
    check_float_module(rnn, "RNN")
    w_hh, w_ih = (
        [
            module_weight(rnn, f"weight_{kind}_l{l}").detach().cpu().double()
            for l in range(rnn.num_layers)
        ]
        for kind in ("hh", "ih")
    )
    for l, (hh, ih) in enumerate(zip(w_hh, w_ih, strict=True)):  # LAPACK fails on inf/NaN
        check_finite(hh, f"the RNN's parameter weight_hh_l{l}", ("entry",))
        check_finite(ih, f"the RNN's parameter weight_ih_l{l}", ("entry",))
    return w_hh, w_ih


def _log_spec(w: torch.Tensor) -> float:
    s = float(torch.linalg.matrix_norm(w, ord=2))
    return math.log(s) if s > 0 else -math.inf


# The lags of one block of a lower layer's recurrence (_own_and_up): each bound is rounded
# within a few eps (|bound| + _BLOCK |a_l|) of the exact sum, at any length.
_BLOCK = 256


def _own_and_up(up: np.ndarray, a: float) -> np.ndarray:
    """b_k = ln(e^a e^{b_{k-1}} + e^{up_k}) for k = 0..n-1 (b_0 = up_0): a lower layer's bounds,
    B_k = a_l B_{k-1} + c_{l+1} B^{l+1}_k in natural log, without a step per lag in Python.

    Within a block of ``_BLOCK`` lags starting at m, b_{m+j} = ln(sum_{i<=j} e^{up_{m+i} +
    (j-i) a} + e^{b_{m-1} + (j+1) a}): a running log-sum-exp (np.logaddexp.accumulate) of
    up_{m+i} - i a, plus j a; then the carries b_{m-1}, one per block, in a loop over blocks.
    The offsets stay below _BLOCK |a|, so nothing cancels beyond a block (a global offset k a
    made rounding of eps k |a| at lag k, 1e-9 at 10**7 lags)."""
    n = len(up)
    if a == -math.inf or n == 1:  # no own term past lag 0 (an all-zero W_hh): the one above
        return up.copy()
    if not math.isfinite(a):  # +inf (a spectral norm beyond float64), NaN: as the per-lag sum
        out = np.empty(n)
        out[0] = up[0]
        for k in range(1, n):
            out[k] = np.logaddexp(out[k - 1] + a, up[k])
        return out
    blocks = -(-n // _BLOCK)
    width = min(n, _BLOCK)
    grid = np.full(blocks * width, -np.inf)
    grid[:n] = up
    grid = grid.reshape(blocks, width)
    offset = np.arange(width) * a  # j a, exact to one rounding each
    local = np.logaddexp.accumulate(grid - offset, axis=1)
    local += offset  # ln sum_{i<=j} e^{up_{m+i} + (j-i) a}, each block on its own
    carry = np.empty(blocks)  # b_{m-1}: the block before's last bound
    carry[0] = -math.inf
    step = width * a
    last = local[:, -1]
    for m in range(1, blocks):
        carry[m] = np.logaddexp(last[m - 1], carry[m - 1] + step)
    local = np.logaddexp(local, carry[:, None] + (offset + a))
    return local.ravel()[:n]


def pascanu_bound(rnn: torch.nn.RNN, layer: int | SupportsIndex = 0) -> float:
    """ln of gamma ||W_hh^layer||_2, the per-step factor of Pascanu et al. (2013), per step.

    ||dh_{T-1}/dh_{T-1-k}||_2 <= (gamma ||W_hh||_2)^k with gamma = sup |act'| = 1 (tanh and
    relu), for every lag k >= 0, every input and every h0, for the state rows of a layer's own
    recurrence (every row of a single-layer network, the top layer of a stack). Input rows and
    lower layers of a stack need the longer bound of :func:`pascanu_envelope`.

    Returns:
        ln(gamma ||W_hh^layer||_2), natural log per step like every rate of vanishlab
        (:func:`vanishlab.linear_rate`, :func:`vanishlab.fit_decay`); -inf for an all-zero W_hh.
    """
    w_hh, _ = _rnn_weights(rnn)
    if not 0 <= check_integer(layer, "layer") < len(w_hh):
        raise ValueError(f"layer must be in 0..{len(w_hh) - 1}, got {layer}")
    return math.log(GAMMA[rnn.nonlinearity]) + _log_spec(w_hh[layer])


def pascanu_envelope(rnn: torch.nn.RNN, seq_len: int | SupportsIndex) -> pd.DataFrame:
    """Upper bounds on every row :func:`vanishlab.jacobian_norms` reports for sequences of T.

    With a_l = gamma ||W_hh^l||_2 and c_l = gamma ||W_ih^l||_2, the backward recurrence of the
    engine (G^l_t = G^l_{t+1} D W_hh^l + G^{l+1}_t D W_ih^{l+1}), the triangle inequality and
    submultiplicativity give, for the state rows at lag k (B^{L-1}_k = a_{L-1}^k: Pascanu's bound):

        B^l_0 = c_{l+1} B^{l+1}_0,   B^l_k = a_l B^l_{k-1} + c_{l+1} B^{l+1}_k   (0 < k < T),
        B^l_T = a_l B^l_{T-1}            (h0[l] reaches the stack through W_hh^l only),

    and for the input rows dh/dx_{T-1-k} <= c_0 B^0_k. Frobenius norms are bounded by
    sqrt(rank) times the spectral bound, rank <= min of the Jacobian's dimensions. The bound is
    attained by orthogonal weights at the origin (tanh), so it cannot be tightened in general.

    Evaluated in natural log, in float64, without a step per lag in Python: the top layer's
    (every row of a single-layer network, and its input rows) as the running sum of ln a_{L-1},
    term by term, the same value to the last digit as a step per lag; a lower layer's as a
    running log-sum-exp in blocks of 256 lags, whose sums are grouped otherwise than one lag
    at a time: each bound within a few hundred eps (|ln B| + 256 |ln a_l|) of the per-lag sum's
    (2**-40 of max(1, |log10 bound|) in the tests, gains 1e-30-30). 10**7 lags of a 3-layer
    network take ~7 s of CPU, ~54 bytes a row at the peak.

    Args:
        rnn: the ``nn.RNN`` whose Jacobians are bounded.
        seq_len: T, the length of the measured sequence (state lags 0..T, input lags 0..T-1).

    Returns:
        One row per (source, layer, lag), with ``source``, ``layer`` (nullable Int64, null for
        ``"input"``), ``lag``, ``log10_spec_bound`` and ``log10_fro_bound`` (float64).
    """
    w_hh, w_ih = _rnn_weights(rnn)  # a clear TypeError for anything but an nn.RNN
    L, T = len(w_hh), check_integer(seq_len, "seq_len")
    spec, fro = _bounds(w_hh, w_ih, rnn.nonlinearity, T)
    return _frame(spec, fro, L, T)


def _bounds(
    w_hh: list[torch.Tensor], w_ih: list[torch.Tensor], nonlinearity: str, seq_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pascanu_envelope`'s ``log10_spec_bound`` and ``log10_fro_bound``, in its row
    order: layer l's state row at lag k at l (T + 1) + k, the input row at lag k at L (T + 1) + k
    (:func:`_rows`)."""
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    L, T = len(w_hh), seq_len
    rows = L * (T + 1) + T
    refuse_beyond_memory(  # numpy's MemoryError came from deep inside, or minutes later
        f"the Pascanu envelope for seq_len={T}",
        rows * _ROW_BYTES,
        f"bound shorter sequences (its {rows} rows take about {_ROW_BYTES} bytes each)",
    )
    H, I = w_hh[0].shape[0], w_ih[0].shape[1]
    ln_gamma = math.log(GAMMA[nonlinearity])
    a = [ln_gamma + _log_spec(w) for w in w_hh]
    c = [ln_gamma + _log_spec(w) for w in w_ih]
    b = np.empty((L, T + 1))  # natural-log bounds, (L, T + 1)
    # the top layer, a^k: the running sum of its log, term by term (np.cumsum adds in order)
    b[L - 1, 0] = 0.0
    b[L - 1, 1:] = a[L - 1]
    np.cumsum(b[L - 1], out=b[L - 1])
    for l in range(L - 2, -1, -1):
        b[l, :T] = _own_and_up(b[l + 1, :T] + c[l + 1], a[l])
        b[l, T] = b[l, T - 1] + a[l]
    b_in = b[0, :T] + c[0]  # (T,)
    ln_rank, ln_rank_in = 0.5 * math.log(H), 0.5 * math.log(min(H, I))
    n = b.size + b_in.size
    spec, fro = np.empty(n), np.empty(n)  # written in place: no temporary of n rows
    np.divide(b.ravel(), LN10, out=spec[: b.size])
    np.divide(b_in, LN10, out=spec[b.size :])
    np.add(b.ravel(), ln_rank, out=fro[: b.size])
    np.add(b_in, ln_rank_in, out=fro[b.size :])
    fro /= LN10
    return spec, fro


def _frame(spec: np.ndarray, fro: np.ndarray, L: int, T: int) -> pd.DataFrame:
    """The envelope's rows, made at once: the state rows of each layer (lags 0..T), then the
    input rows (lags 0..T-1), as a concat of the two frames made them (the same columns,
    dtypes and values), without a Python object per row (a list of T pd.NA and a string
    column broadcast row by row took most of the time at 10**7 lags)."""
    T1, n = T + 1, len(spec)
    states = L * T1
    is_input = np.zeros(n, dtype=bool)
    is_input[states:] = True
    layer = np.zeros(n, dtype=np.int64)
    layer[:states] = np.repeat(np.arange(L, dtype=np.int64), T1)
    lag = np.empty(n, dtype=np.int64)
    lag[:states].reshape(L, T1)[:] = np.arange(T1, dtype=np.int64)
    lag[states:] = np.arange(T, dtype=np.int64)
    return pd.DataFrame(
        {
            # the two names taken by code: pandas' own string dtype, as "state" broadcast
            "source": pd.Series(["state", "input"]).array.take(is_input.view(np.int8)),
            "layer": pd.arrays.IntegerArray(layer, is_input),
            "lag": lag,
            "log10_spec_bound": spec,
            "log10_fro_bound": fro,
        },
        copy=False,
    )


def _rows(frame: pd.DataFrame, lag: np.ndarray, L: int, T: int) -> np.ndarray:
    """Each row's position among :func:`_bounds`' (-1 where the envelope has none): the row
    of the same source, layer and lag, as a merge on those keys joins them (layer 1.0 is layer
    1; an input row's layer is missing, a state row's is not)."""
    source = frame["source"]
    is_state, is_input = (
        (source == name).fillna(False).to_numpy(dtype=bool) for name in ("state", "input")
    )
    layer = frame["layer"].to_numpy(dtype=np.float64, na_value=np.nan)
    own = is_state & (layer >= 0) & (layer < L) & (layer == np.floor(layer)) & (lag <= T)
    pos = np.full(len(frame), -1, dtype=np.int64)
    pos[own] = layer[own].astype(np.int64) * (T + 1) + lag[own]
    into = is_input & np.isnan(layer) & (lag < T)
    pos[into] = L * (T + 1) + lag[into]
    return pos


def _numbers(column: pd.Series) -> bool:
    """Whether a column that is not numeric (an object column, a categorical) holds numbers
    and missing values only: a frame's layer column after a concat or an astype."""
    return all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in column.dropna().unique()
    )


def _check_measured(frame: pd.DataFrame, col: str) -> None:
    """Refuse a NaN or +inf in the measured column ``col``: no bound can check it (a NaN was
    reported as within the bound)."""
    values = norm_values(frame, col)  # a TypeError for strings, booleans, complex numbers
    bad = np.isnan(values) | np.isposinf(values)
    if bad.any():
        at = int(np.argmax(bad))
        raise ValueError(
            f"frame's {col} holds {values[at]} at {row_text(frame, at)}: a log10 norm is finite, "
            "or -inf for an exactly zero Jacobian"
        )


def check_pascanu(
    rnn: torch.nn.RNN,
    frame: pd.DataFrame,
    *,
    seq_len: int | SupportsIndex | None = None,
    tolerance: float | None = None,
) -> pd.DataFrame:
    """Check measured norms against the Pascanu bound (:func:`pascanu_envelope`), row by row.

    The module comes first, as in every function of vanishlab that takes one
    (``jacobian_norms(rnn, x)``, ``pascanu_envelope(rnn, T)``); the old order
    ``check_pascanu(frame, rnn)`` is refused with a TypeError that says so.

    Args:
        rnn: the module that was measured.
        frame: from :func:`vanishlab.jacobian_norms` for ``rnn`` (``log10_spec`` and/or
            ``log10_fro``) or one cell of a sweep (``log10_spec_mean``/...: a mean of logs is
            bounded whenever every sample is). Named index levels count as columns
            (``frame.set_index(["source", "layer", "lag"])``), as in :func:`vanishlab.fit_decay`.
            A frame of :func:`vanishlab.jacobian_norms` records the weights it was measured on
            (``frame.attrs``; pandas keeps it through selections, ``set_index`` and a groupby
            mean, and from pandas 2.1 on through ``to_parquet`` and ``read_parquet``) and is
            refused beside a module with other weights; so is an analysis's (``vanishlab
            analyze``) frame of :func:`vanishlab.load_results`, whose shard records it, and
            one monitored step's (``cell_ids=`` its shard); a monitor's rows of several steps
            record each step's, so that one step's rows (``rows[rows.step == n]``) are compared
            too, and several steps' are refused, their ``step`` column renamed or dropped too,
            and a ``step`` that is none of the record's (a mean over steps, 1.5, or steps 1 and
            3's 2.0; 1.0, a CSV's, is step 1); one step's rows without it
            (``rows.xs(n, level="step")`` drops it) are compared by their ``cell_id``, and
            refused where that is gone too (``groupby(...).mean()``: which step's, or a mean
            over steps, cannot be told). A concat of frames whose records differ
            (several modules, or float32 and float64) has none (pandas drops them), and is
            refused where a measurement's row is there twice (its module cannot be told); so
            are rows without any record that hold several steps in a ``step`` column (a
            monitor's whose record pandas dropped in a merge, ``rows.merge(losses,
            on="step")``, or one of the user's own: either is read as a monitor's). A frame
            without the record otherwise is checked against the bound with no check of its
            module: :func:`vanishlab.load_results` of a sweep's cells (the weights of many
            cells; no ``step`` column), or of an analysis or one step written before its shard
            recorded it. Two such frames cannot be told from one module's, and are checked
            against ``rnn`` without a word: a mean over the keys of a concat whose records
            differ (``pd.concat([a, b]).groupby(["source", "layer", "lag"]).mean()``: its rows
            no longer repeat, and no record is left), and a folder of several modules' files
            read at once (``pd.read_parquet(folder)``: pyarrow reads the first file's metadata
            alone, and its record is on every row) beside the first file's module. Take each
            frame's mean apart (it keeps the frame's record), and read each file apart.
        seq_len: T of the measured sequence; default: the largest state lag or the largest
            input lag + 1, whichever is larger. Give it when the frame was cut short of lag T.
        tolerance: allowed excess in log10 per step of lag (the rounding of one normalised
            product per step); default 4 n eps / ln 10 with n the largest dimension of the
            weights and eps that of the coarser of the module's dtype and the one the frame was
            measured in (worst-case rounding of a product), which a frame of
            :func:`vanishlab.jacobian_norms`, an analysis's or one monitored step's records
            (``frame.attrs``): float32 norms checked beside the module's ``.double()`` copy,
            whose fingerprint is the same, are allowed float32's rounding; a sweep's rows, which
            record no module, each the coarser of the module's and its own ``dtype`` column's
            (a float32 cell's beside a float64 module: float32's; a name, or a numpy or torch
            dtype). A frame without either is allowed the module's.

    Returns:
        ``frame`` (its index too) with ``log10_spec_bound`` and ``log10_fro_bound`` joined on
        (source, layer, lag), ``excess`` (the largest of measured - bound over the norms
        present; <= 0 means within the bound) and ``violated`` (``excess > tolerance * (lag +
        1)``).
    """
    given, bounds, excess, violated = _checked(rnn, frame, seq_len, tolerance)
    # The frame's own columns, its labels and named levels in the index, no attrs (as the
    # merge that joined the bounds gave them), then the bounds, the excess and the verdict.
    out = given.copy()
    out.attrs = {}
    for name, values in bounds.items():
        out[name] = values
    out["excess"] = excess
    out["violated"] = violated
    return out


def pascanu_holds(
    rnn: torch.nn.RNN, frame: pd.DataFrame, *, seq_len: int | SupportsIndex | None = None
) -> bool:
    """Whether every row of ``frame`` lies within the bound: ``not check_pascanu(rnn, frame,
    seq_len=seq_len)["violated"].any()``, the same checks and refusals, without the frame of
    the rows (a sweep cell's ``pascanu_ok``)."""
    return not bool(_checked(rnn, frame, seq_len, None)[3].any())


def _checked(
    rnn: torch.nn.RNN,
    frame: pd.DataFrame,
    seq_len: int | SupportsIndex | None,
    tolerance: float | None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """:func:`check_pascanu`'s checks and its columns: the frame given, each row's bounds (by
    column name), its excess and whether it violates the bound."""
    if isinstance(rnn, pd.DataFrame) and isinstance(frame, torch.nn.Module):
        raise TypeError(
            "check_pascanu takes the module first: check_pascanu(rnn, frame), as "
            "jacobian_norms(rnn, x) does (the order check_pascanu(frame, rnn) is no longer "
            "accepted)"
        )
    w_hh, w_ih = _rnn_weights(rnn)  # a clear TypeError for anything but an nn.RNN
    if tolerance is not None and (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, numbers.Real)
        or not 0 <= tolerance < math.inf
    ):  # "x" failed inside numpy; a negative one reported violations of an exact bound
        raise ValueError(f"tolerance must be a finite number >= 0 or None, got {tolerance!r}")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    # Keys in the index (frame.set_index(["source", "layer", "lag"])) were "no source, layer,
    # lag column", and a sample there was dropped from the rows returned: named levels are
    # read as columns, as fit_decay reads them, and the frame's own index is given back.
    given, frame = frame, index_as_columns(frame)
    check_frame_module(rnn, frame, given.attrs)
    spec_col = next((c for c in ("log10_spec", "log10_spec_mean") if c in frame.columns), None)
    fro_col = next((c for c in ("log10_fro", "log10_fro_mean") if c in frame.columns), None)
    if spec_col is None and fro_col is None:
        raise ValueError("frame has no log10_spec/log10_fro (or *_mean) column to check")
    lacking = [c for c in ("source", "layer", "lag") if c not in frame.columns]
    if lacking:
        raise ValueError(f"frame has no {', '.join(lacking)} column: not a frame of Jacobian norms")
    if not len(frame):
        raise ValueError("frame has no rows to check")
    # The keys as merge() joins them: strings failed there in its words ("You are trying to
    # merge on str and Int64 columns for key 'layer'"), and boolean lags joined as 0 and 1.
    lags = checked_lags(frame)  # integers >= 0, as fit_decay reads them
    layer = frame["layer"]
    if pd.api.types.is_bool_dtype(layer) or not (
        pd.api.types.is_numeric_dtype(layer) or _numbers(layer)
    ):
        raise TypeError(f"frame's layer column must hold integers, got {layer.dtype}")
    if pd.api.types.is_numeric_dtype(frame["source"]):
        raise TypeError(
            f"frame's source column must hold 'state' or 'input', got {frame['source'].dtype}"
        )
    for col in (spec_col, fro_col):
        if col is not None:
            _check_measured(frame, col)
    if seq_len is None:  # T >= the largest state lag (h0's row), > the largest input lag
        state, inp = frame["source"] == "state", frame["source"] == "input"
        seq_len = max(
            int(frame.loc[state, "lag"].max()) if state.any() else 1,
            int(frame.loc[inp, "lag"].max()) + 1 if inp.any() else 1,
        )
    L, T = len(w_hh), check_integer(seq_len, "seq_len")
    spec_bounds, fro_bounds = _bounds(w_hh, w_ih, rnn.nonlinearity, T)
    # Each row's bound by its position in the envelope, where a merge with the envelope's
    # frame took 60 % of a small cell's check (the same rows, bounds and refusals).
    pos = _rows(frame, lags, L, T)
    found = pos >= 0
    bounds = {}
    for name, values in (("log10_spec_bound", spec_bounds), ("log10_fro_bound", fro_bounds)):
        bounds[name] = np.where(found, values[np.where(found, pos, 0)], np.nan)
    if np.isnan(bounds["log10_spec_bound"]).any():
        at = int(np.argmax(np.isnan(bounds["log10_spec_bound"])))
        raise ValueError(
            f"frame has rows that this rnn ({len(w_hh)} layer(s)) cannot produce for sequences "
            f"of length {seq_len}, the first at {row_text(frame, at)} (give seq_len when the "
            "frame was cut short of lag T)"
        )
    if tolerance is None:
        n = max(max(w.shape) for w in (*w_hh, *w_ih))
        tolerance = 4 * n * rounding_eps(rnn, frame, given.attrs) / LN10
    excess = np.full(len(frame), -np.inf)
    for col, bound in ((spec_col, "log10_spec_bound"), (fro_col, "log10_fro_bound")):
        if col is None:
            continue
        measured = norm_values(frame, col)
        with np.errstate(invalid="ignore"):  # -inf - -inf: an exact zero under a zero bound
            diff = measured - bounds[bound]
        diff = np.where(np.isneginf(measured), -np.inf, diff)
        excess = np.maximum(excess, diff)
    violated = excess > tolerance * (frame["lag"].to_numpy(dtype=np.float64) + 1)
    return given, bounds, excess, violated
