"""The forward pass of a stacked ``nn.RNN``, keeping every layer's hidden states.

For layer l (0-based) and time t (0..T-1), with h^{-1}_t = x_t and h^l_{-1} = h0[l]:

    a^l_t = W_ih^l h^{l-1}_t + b_ih^l + W_hh^l h^l_{t-1} + b_hh^l,    h^l_t = act(a^l_t)

``nn.RNN`` returns only the top layer's states; the Jacobians need all of them, plus the
activation derivatives act'(a^l_t): for tanh sech^2(a) = 4 e / (1 + e)^2 with e = exp(-2|a|),
from the pre-activation a (1 - h^2 from the state loses its relative accuracy as h nears +-1:
0.08 in log10 at |a| ~ 8 in float32, and exactly 0 from |a| ~ 9, whose true value is ~6e-8;
sech^2 is accurate until it leaves the dtype's normal range, |a| ~ 44 in float32 and ~ 354 in
float64, nearly so through the first subnormals, and 0 once it has lost its digits); for relu
1[a > 0] (= 1[h > 0]), PyTorch's own derivative (relu'(0) = 0). Dropout is not applied
(evaluation semantics).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import torch

from ..errors import NonFiniteStateError
from . import warning_filters
from .inputs import RNNInputs

__all__ = [
    "DIGITLESS",
    "check_finite_states",
    "flush_digitless",
    "layer_states",
    "ln_sigmoid_derivative",
    "ln_tanh_derivative",
    "own_precision",
    "recurrence_kernel",
    "relu_derivative",
    "states_and_derivatives",
    "tanh_derivative",
]


def tanh_derivative(a: torch.Tensor, *, in_place: bool = False) -> torch.Tensor:
    """tanh'(a) = sech^2(a) = 4 e / (1 + e)^2 with e = exp(-2|a|), elementwise: accurate to a
    few ulps wherever it is a normal number (unlike 1 - tanh(a)^2), and through the first
    subnormals (:func:`flush_digitless`); 0 beyond (|a| past ~45 in float32, ~355 in float64).
    ``in_place``: written into ``a`` (one temporary the size of ``a``, not several)."""
    e = (a.abs_() if in_place else a.abs()).mul_(-2).exp_()
    denominator = (e + 1).square_()
    return flush_digitless(e.div_(denominator).mul_(4))


def ln_sigmoid_derivative(a: torch.Tensor) -> torch.Tensor:
    """ln sigma'(a) = ln sigma(a) + ln sigma(-a) of ``a`` (float64), finite where sigma'(a)
    itself is below any float's range (the gated cells' carried exponents)."""
    lsig = torch.nn.functional.logsigmoid
    return lsig(a) + lsig(-a)


def ln_tanh_derivative(v: torch.Tensor) -> torch.Tensor:
    """ln tanh'(x) = ln 4 - 2|x| - 2 ln(1 + e^-2|x|) of ``v`` = |x| (float64), finite where
    tanh'(x) itself is below any float's range (the gated cells' carried exponents)."""
    return (math.log(4) - 2 * v) - 2 * torch.log1p(torch.exp(-2 * v))


#: A derivative below the dtype's smallest normal number times this keeps fewer than
#: (mantissa bits - 3) significant bits: 20 in float32, so about 1e-6 in log10.
DIGITLESS = 2.0**-3


def flush_digitless(d: torch.Tensor, *, signed: bool = False) -> torch.Tensor:
    """``d`` (in place) with its values below tiny * :data:`DIGITLESS` set to 0: a subnormal
    that small has lost its digits (a float32 tanh unit at |a| ~ 51 read 0.12 in log10 off,
    finite and unflagged), so such a unit reads as exactly off (-inf), as with
    ``torch.set_flush_denormal(True)``. Subnormals above it keep their value (|a| 44 to 45 in
    float32 still agree with float64 to ~1e-7). ``signed``: ``d`` may be negative, and an
    entry is flushed by its magnitude (the gated cells' coefficients, products of gates,
    states and derivatives: :mod:`.gated_forward`); without it, a derivative's values are
    taken to be non-negative and compared as they are (one pass fewer over ``d``)."""
    floor = torch.finfo(d.dtype).tiny * DIGITLESS
    return d.masked_fill_((d.abs() if signed else d) < floor, 0.0)


#: Held by a thread inside :func:`recurrence_kernel`, whose settings are the process's.
_KERNEL_SETTINGS = threading.Lock()
#: PyTorch 2.9+'s precision setting of cuDNN's RNN kernels (None in an older PyTorch).
_CUDNN_RNN: Any = getattr(torch.backends.cudnn, "rnn", None)
if not hasattr(_CUDNN_RNN, "fp32_precision"):
    _CUDNN_RNN = None


@contextlib.contextmanager
def recurrence_kernel() -> Iterator[None]:
    """The context for PyTorch's fused recurrence kernels here: on a GPU, cuDNN (the whole
    sequence in one call, where the native kernel launches several per step) with TF32 off
    (cuDNN's RNNs otherwise run float32 in TF32, about 1e-3 relative error). Weights that are
    not in cuDNN's one flat buffer are copied per call; its warning about that is silenced.

    cuDNN's flags and the warning filters belong to the whole process, and each is saved on
    entry and restored on exit: one thread at a time (Dask workers measure cells in threads),
    or a thread leaving restored TF32 under another's kernel, and the last to leave kept the
    other's settings (TF32 off, the filter) for good. The filters' lock (that of
    :mod:`.warning_filters`, which vanishlab's other filtered stretches hold too) is taken
    first."""
    cudnn = torch.backends.cudnn
    with warning_filters.ignoring(".*single contiguous chunk of memory.*"), _KERNEL_SETTINGS:
        if _CUDNN_RNN is None:  # PyTorch before 2.9: the legacy flags
            with cudnn.flags(
                enabled=True,
                benchmark=cudnn.benchmark,
                deterministic=cudnn.deterministic,
                allow_tf32=False,
            ):
                yield
            return
        # PyTorch 2.9+: cuDNN's RNN reads its own precision, and cudnn.flags (which sets the
        # legacy allow_tf32) raised on exit once a caller had used the new API
        # (torch.backends.fp32_precision = "tf32", or cudnn.rnn's own "ieee": "a mix of the
        # legacy and new APIs"), failing every LSTM and GRU measurement, on a CPU too.
        enabled, precision = cudnn.enabled, _own(_CUDNN_RNN, cudnn)
        try:
            cudnn.enabled, _CUDNN_RNN.fp32_precision = True, "ieee"
            yield
        finally:
            cudnn.enabled, _CUDNN_RNN.fp32_precision = enabled, precision


#: PyTorch 2.9+'s float32 precision of matrix products per backend (cuBLAS', oneDNN's), which
#: its kernels read; empty in an older PyTorch, which has only the process-wide
#: ``torch.get/set_float32_matmul_precision``. Where these exist that getter cannot be used: once
#: a caller has set one of them (``torch.backends.cuda.matmul.fp32_precision = "tf32"``, as
#: PyTorch's notes advise) it raises ("mix of the legacy and new APIs").
_PER_BACKEND: tuple[Any, ...] = tuple(
    getattr(backend, "matmul", None) for backend in (torch.backends.cuda, torch.backends.mkldnn)
)
if not all(hasattr(matmul, "fp32_precision") for matmul in _PER_BACKEND):
    _PER_BACKEND = ()
#: The setting each of :data:`_PER_BACKEND` reads through while its own is "none".
_PARENTS: tuple[Any, ...] = (torch.backends, torch.backends.mkldnn) if _PER_BACKEND else ()
#: Full float32 products, as :func:`_matmul_precision` reads.
_FULL = ("ieee",) * len(_PER_BACKEND) if _PER_BACKEND else ("highest",)


def _own(setting: Any, parent: Any) -> str:
    """The value to restore ``setting`` (a PyTorch 2.9+ ``fp32_precision``) to: "none" while
    it reads as its ``parent`` does, so that it follows the parent again afterwards (it reads
    through an unset value: restoring what it read would pin it)."""
    value = setting.fp32_precision
    return "none" if value == getattr(parent, "fp32_precision", None) else value


def _matmul_precision() -> tuple[str, ...]:
    """The float32 matmul precision in force: per backend, or PyTorch's one setting."""
    if _PER_BACKEND:
        return tuple(matmul.fp32_precision for matmul in _PER_BACKEND)
    return (torch.get_float32_matmul_precision(),)


def _saved_matmul_precision() -> tuple[str, ...]:
    """What :func:`_set_matmul_precision` restores: per backend its own setting (:func:`_own`)."""
    if not _PER_BACKEND:
        return _matmul_precision()
    return tuple(_own(m, p) for m, p in zip(_PER_BACKEND, _PARENTS, strict=True))


def _set_matmul_precision(precision: tuple[str, ...]) -> None:
    if _PER_BACKEND:
        for matmul, value in zip(_PER_BACKEND, precision, strict=True):
            matmul.fp32_precision = value
    else:
        (value,) = precision
        torch.set_float32_matmul_precision(value)


def _full(precision: tuple[str, ...]) -> bool:
    # "none": the backend's default (its parents' setting is read through), full float32
    return all(value in ("highest", "ieee", "none") for value in precision)


class _FullFloat32Products:
    """float32 matrix products in full float32 (:data:`_FULL`) while any thread measures: that
    setting is the process's, so the first measurement to enter saves the caller's and the last
    to leave restores it (a count under a lock: measurements in threads never serialise, and
    none restores it under another)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._saved: tuple[str, ...] = ()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._inside == 0:
                self._saved = () if _full(_matmul_precision()) else _saved_matmul_precision()
                if self._saved:
                    _set_matmul_precision(_FULL)
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._inside == 0 and self._saved:
                    _set_matmul_precision(self._saved)


_full_float32_products = _FullFloat32Products()


@contextlib.contextmanager
def own_precision(x: object) -> Iterator[None]:
    """The context of a measurement: the module is measured in its own dtype (float32 or
    float64), whatever reduced precision the caller runs in.

    - ``torch.autocast`` is off on the CPU and on ``x``'s device, for a caller's autocast
      region (a training loop's mixed precision). There PyTorch's recurrence kernels and
      matrix products ran in bfloat16 or float16: an RNN or LSTM failed with "self and mat2
      must have the same dtype", a GRU was measured 1e-2 off in log10, unflagged.
    - float32 matrix products run in full float32: a caller's
      ``torch.set_float32_matmul_precision("high")`` (TF32 on a CUDA GPU, ~1e-3 relative
      error per product) or ``"medium"`` (bfloat16 products in oneDNN on a CPU that has them),
      or the same set per backend (PyTorch 2.9+'s ``torch.backends.cuda.matmul.fp32_precision``
      and ``torch.backends.mkldnn.matmul.fp32_precision``), is set aside for the call (see
      :class:`_FullFloat32Products`).

    The caller's settings are in force again on exit."""
    kinds = dict.fromkeys(["cpu", x.device.type if isinstance(x, torch.Tensor) else "cpu"])
    with contextlib.ExitStack() as stack:
        for kind in kinds:
            with contextlib.suppress(RuntimeError):  # a device without autocast (meta)
                stack.enter_context(torch.autocast(kind, enabled=False))
        stack.enter_context(_full_float32_products())
        yield


def relu_derivative(h: torch.Tensor) -> torch.Tensor:
    """relu'(a) = 1[a > 0] = 1[h > 0] from the states h, elementwise (PyTorch's relu'(0) = 0)."""
    return (h > 0).to(h.dtype)


@torch.no_grad()
def layer_states(inp: RNNInputs) -> list[torch.Tensor]:
    """Hidden states of every layer: a list of L tensors, each ``(T, B, H)`` (see
    :func:`states_and_derivatives`)."""
    return states_and_derivatives(inp, derivatives=False)[0]


@torch.no_grad()
def states_and_derivatives(
    inp: RNNInputs, *, derivatives: bool = True
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Hidden states of every layer and their activation derivatives act'(a^l_t): two lists
    of L tensors, each ``(T, B, H)`` (the second empty when ``derivatives`` is False).

    Per layer, every input term W_ih h^{l-1}_t + b_ih + b_hh is one matrix product over all
    steps; the loop over time then does two operations per step, each into its row of the
    output (one product with W_hh; the activation, in place for relu, into the states for tanh,
    whose pre-activations are kept for the derivative): fewer and smaller operations
    than PyTorch's own recurrence kernel, which ``nn.RNN.forward`` calls (1.6x faster at
    B = 8, H = 128, T = 256 on 2 CPU cores). The states equal the module's own up to float
    rounding (the tests compare them).

    Raises :class:`~vanishlab.errors.NonFiniteStateError` naming the first layer, time step and
    sample where a state is inf or NaN (relu explosion, or NaN coming from the model itself).
    """
    if inp.x.device.type != "cpu":
        return _kernel_states(inp, derivatives)
    tanh = inp.nonlinearity == "tanh"
    below = inp.x  # (T, B, I) for layer 0, then (T, B, H)
    states: list[torch.Tensor] = []
    derivs: list[torch.Tensor] = []
    for layer in range(inp.num_layers):
        w_t, h = inp.weights_hh[layer].T, inp.h0[layer]
        pre = _drive(inp, layer, below)  # each row becomes a_t, in time order
        # tanh: the states in their own tensor (a is kept for the derivative); relu: in place.
        out = torch.empty_like(pre) if tanh else pre
        for a_t, h_t in zip(pre.unbind(0), out.unbind(0), strict=True):
            torch.addmm(a_t, h, w_t, out=a_t)  # drive_t + W_hh h_{t-1}
            if tanh:
                torch.tanh(a_t, out=h_t)
            else:
                a_t.relu_()
            h = h_t
        check_finite_states(out, layer)
        states.append(out)
        if derivatives:
            derivs.append(tanh_derivative(pre, in_place=True) if tanh else relu_derivative(out))
        del pre
        below = out
    return states, derivs


def _drive(inp: RNNInputs, layer: int, below: torch.Tensor) -> torch.Tensor:
    """W_ih h^{l-1}_t + b_ih + b_hh for every step, one product: ``(T, B, H)``."""
    T, B = below.shape[:2]
    w_ih, bias = inp.weights_ih[layer], inp.biases[layer]
    flat = below.reshape(T * B, below.shape[-1])
    drive = flat @ w_ih.T if bias is None else torch.addmm(bias, flat, w_ih.T)
    return drive.view(T, B, -1)


def _kernel_states(
    inp: RNNInputs, derivatives: bool
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """:func:`states_and_derivatives` on a GPU: one call of PyTorch's RNN kernel per layer
    (cuDNN, see :func:`recurrence_kernel`), not two launches per step. The kernel keeps no
    pre-activations: tanh's are formed again from the states, two products for all steps."""
    run = torch._VF.rnn_tanh if inp.nonlinearity == "tanh" else torch._VF.rnn_relu
    below = inp.x
    states: list[torch.Tensor] = []
    derivs: list[torch.Tensor] = []
    for layer in range(inp.num_layers):
        w_ih, w_hh, bias = inp.weights_ih[layer], inp.weights_hh[layer], inp.biases[layer]
        params = [w_ih, w_hh] if bias is None else [w_ih, w_hh, bias, torch.zeros_like(bias)]
        h0 = inp.h0[layer][None]
        with recurrence_kernel():
            # (input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
            # batch_first): the signature nn.RNN.forward uses.
            out, _ = run(below, h0, params, bias is not None, 1, 0.0, False, False, False)
        check_finite_states(out, layer)
        states.append(out)
        if derivatives and inp.nonlinearity == "tanh":
            prev = torch.cat([h0, out[:-1]])  # h_{t-1}, (T, B, H)
            pre = _drive(inp, layer, below)
            pre.view(-1, pre.shape[-1]).addmm_(prev.reshape(-1, prev.shape[-1]), w_hh.T)
            derivs.append(tanh_derivative(pre, in_place=True))
        elif derivatives:
            derivs.append(relu_derivative(out))
        below = out
    return states, derivs


def check_finite_states(states: torch.Tensor, layer: int) -> None:
    """Raise :class:`~vanishlab.errors.NonFiniteStateError` naming the first time step, sample
    and unit of layer ``layer``'s ``(T, B, H)`` states that is inf or NaN."""
    if bool(torch.isfinite(states.sum())):  # one cheap reduction; the search only if needed
        return
    finite = torch.isfinite(states)  # (T, B, H)
    if bool(finite.all()):
        return
    bad = (~finite).nonzero()[0]  # first (t, b, unit) in time order
    t, b, unit = (int(v) for v in bad)
    raise NonFiniteStateError(layer=layer, time=t, sample=b, value=float(states[t, b, unit]))
