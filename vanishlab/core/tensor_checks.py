"""Checking the tensors a user passes to the analysis functions: a sequence (``x``, a monitor's
probe) as the module's forward takes it, an initial state, and any tensor's values.

A sequence is ``(T, B, I)``, ``(B, T, I)`` with ``batch_first=True``, or an unbatched ``(T, I)``,
and comes back ``(T, B, I)``; a state ``(L, B, H)`` or, unbatched, ``(L, H)``, and comes back
``(L, B, H)``. What is no tensor, no dense tensor, of another dtype or device than the weights,
of the wrong shape, beside a module of no unit or input feature, or holds an inf or NaN is
refused with a ``TypeError`` or ``ValueError`` that names it, where it is, and how to mend it
(:mod:`vanishlab.core.inputs` checks the module).
"""

from __future__ import annotations

import torch

__all__ = [
    "NESTED_ADVICE",
    "PADDED_STEPS",
    "check_dense",
    "check_finite",
    "check_sequence",
    "check_sizes",
    "check_state",
    "require_tensor",
    "swapped_layout",
    "token_ids_advice",
]

NESTED_ADVICE = ": pad it to one length with torch.nested.to_padded_tensor(x, 0.0)"  # x, --inputs
#: What a PackedSequence unpacked to its padded tensor then is to a measurement (x, --inputs).
PADDED_STEPS = "its padded steps are then measured as inputs"


#: The question a tensor of integers raises (token ids, where the module takes their embeddings?).
TOKEN_IDS = "token ids? give the embedded sequence, as the module receives it"


def token_ids_advice(x: torch.Tensor) -> str:
    """The hint after refusing a tensor of integers (:data:`TOKEN_IDS`, in parentheses): ``x``
    and a monitor's probe, and ``vanishlab analyze --inputs``; ``""`` for any other dtype."""
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        return ""
    return f" ({TOKEN_IDS})"


def check_dense(t: torch.Tensor, what: str) -> None:
    """Refuse a sparse (or other non-strided) tensor, or one with no data (the meta device),
    which failed inside torch's kernels."""
    if t.is_nested:  # a strided-layout nested tensor failed with torch's "Internal error"
        raise TypeError(f"{what} must be a dense tensor, got a nested tensor{NESTED_ADVICE}")
    if t.layout != torch.strided:
        raise TypeError(f"{what} must be a dense tensor, got layout {t.layout} (use .to_dense())")
    if t.is_meta:
        raise TypeError(f"{what} is on the meta device: it holds no values to measure")


def require_tensor(x: object, what: str) -> None:
    """Refuse a sequence that is no tensor, saying how to turn a PackedSequence into one."""
    if isinstance(x, torch.nn.utils.rnn.PackedSequence):
        raise TypeError(
            f"{what} must be a torch.Tensor, got PackedSequence: unpack it with "
            f"torch.nn.utils.rnn.pad_packed_sequence ({PADDED_STEPS})"
        )
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {_no_tensor(x, what)}")


def _no_tensor(x: object, what: str) -> str:
    """The type of ``x``, no tensor, and for a NumPy array or a nested list of numbers how to
    make it one (not for a tuple of tensors, a module's (output, h_n): torch.as_tensor refuses
    it). A tuple or list of arrays (a NumPy (output, h_n), or a sequence's steps) is told to
    pick one or stack them: torch.as_tensor refuses arrays of several shapes, and makes arrays
    of one shape a tensor with a dimension more than each."""
    kind = type(x).__name__
    if isinstance(x, list | tuple):
        if any(isinstance(v, torch.Tensor) for v in x):
            return kind
        arrays = sum(hasattr(v, "__array__") and getattr(v, "ndim", 0) > 0 for v in x)
        if arrays:
            return (
                f"{kind} of {arrays} array{'s' * (arrays > 1)}, not one: convert the one that "
                f"is the sequence (torch.as_tensor({what}[0])) or, for steps of one shape, "
                f"their stack (torch.as_tensor(np.stack({what}))), in the module's dtype"
            )
    arraylike = hasattr(x, "__array__") or isinstance(x, list | tuple)
    how = f": convert it with torch.as_tensor({what}), in the module's dtype" * arraylike
    return f"{kind}{how}"


def _converted(what: str, t: torch.Tensor, like: torch.Tensor) -> str:
    """The end of a message refusing ``what`` in another dtype or on another device than the
    weights ``like``: the conversion that gives it theirs."""
    device = "" if t.device == like.device else f"'{like.device}', "
    return f": convert it with {what}.to({device}{like.dtype})"


def check_sequence(
    x: object,
    *,
    input_size: int,
    batch_first: bool,
    like: torch.Tensor,
    name: str,
    what: str = "x",
) -> tuple[torch.Tensor, bool]:
    """Validate an input sequence as the module's forward would: ``(xs, batched)`` with ``xs``
    ``(T, B, I)``, detached; ``batched`` is False for an unbatched ``(T, I)`` input. Messages
    call it ``what``, the caller's name for the argument (``"probe"`` for a monitor's)."""
    require_tensor(x, what)
    check_dense(x, what)
    how = _converted(what, x, like)
    if not x.is_floating_point():  # integers: token ids, where the module takes embeddings?
        ids = token_ids_advice(x)
        if ids and x.dim() > 0 and x.shape[-1] != input_size:
            # (B, T) token ids: converted, they were refused again for their shape
            how = ""
            ids = (
                f" of shape {tuple(x.shape)}, whose last dimension is not the input size "
                f"{input_size} ({TOKEN_IDS}: the input layer's output, e.g. "
                f"embedding({what}).detach())"
            )
        raise TypeError(f"{what} must be a floating-point tensor, got dtype {x.dtype}{how}{ids}")
    if x.dtype != like.dtype:
        raise TypeError(
            f"{what} has dtype {x.dtype} but the {name}'s weights are {like.dtype}{how}"
        )
    if x.device != like.device:
        raise TypeError(
            f"{what} is on {x.device} but the {name}'s weights are on {like.device}{how}"
        )
    check_sizes(like, input_size, name)
    layout = "(B, T, input_size)" if batch_first else "(T, B, input_size)"
    if x.dim() == 2:
        batched, xs = False, x.unsqueeze(1)  # (T, 1, I)
    elif x.dim() == 3:
        batched, xs = True, (x.transpose(0, 1) if batch_first else x)  # (T, B, I)
    else:
        raise ValueError(
            f"{what} must be {layout} or unbatched (T, input_size), got shape {tuple(x.shape)}"
        )
    if xs.shape[-1] != input_size:
        raise ValueError(
            f"{what} has {xs.shape[-1]} features but the {name} expects input_size={input_size}: "
            f"{what} must be {layout if batched else '(T, input_size)'} with "
            f"input_size={input_size}"
        )
    check_finite(xs.detach(), what, ("time step", "sample", "feature"))
    if xs.shape[0] == 0:
        raise ValueError(f"{what} is an empty sequence (T = 0): there is nothing to differentiate")
    if xs.shape[1] == 0:
        raise ValueError(f"{what} has an empty batch (B = 0)")
    return xs.detach(), batched


def check_sizes(like: torch.Tensor, input_size: int, name: str) -> None:
    """Refuse a module of no hidden unit or no input feature, which its constructor refuses
    but zero-sized weights set afterwards make (its forward runs): its Jacobians failed deep in
    the engines, an LSTM's with a floating point exception that killed Python. ``like`` is its
    weight_ih_l0, ``(G hidden_size, input_size)``, as read and checked against the module."""
    hidden = like.shape[0] if like.dim() == 2 else 0
    for size, value, lacks in (
        ("hidden_size", hidden, "unit"),
        ("input_size", input_size, "feature"),
    ):
        if value == 0:
            raise ValueError(
                f"the {name} has {size}=0 (its weight_ih_l0 has shape {tuple(like.shape)}): "
                f"no {lacks} to differentiate; vanishlab measures modules with {size} >= 1, as "
                f"nn.{name}'s own constructor requires: build it with at least one {lacks}"
            )


#: What a whole initial state may be (a part of an LSTM's state tuple may not be None).
_WHOLE_STATE = "a torch.Tensor or None"


def check_state(
    value: object,
    what: str,
    shape: tuple[int, ...],
    batched: bool,
    like: torch.Tensor,
    expected: str = _WHOLE_STATE,
    *,
    read: tuple[str, bool, int] | None = None,
) -> torch.Tensor:
    """Validate an initial state (``h0``, ``c0``) of ``shape``; return it ``(L, B, H)``.
    ``expected`` says what it may be where it is not a tensor (a part of an LSTM's state tuple
    may not be None: only the whole state may). ``read``: the sequence beside it, ``(its
    name, the module's batch_first, its T as read)``, so that a state whose batch is that T
    names the sequence's layout as a mistake it may be (:func:`swapped_layout`)."""
    if not isinstance(value, torch.Tensor):
        got = _no_tensor(value, what)
        whole = expected == _WHOLE_STATE  # a whole state, not an LSTM's part
        if (
            whole
            and isinstance(value, tuple | list)
            and value
            and all(isinstance(v, torch.Tensor) for v in value)
        ):  # an LSTM's (h0, c0), or a module's (output, h_n), given to a one-tensor state
            got = (
                f"a {type(value).__name__} of {len(value)} tensor{'s' * (len(value) > 1)}: it "
                f"is one tensor of shape {shape} (a tuple (h0, c0) is an nn.LSTM's state; a "
                "module's call returns (output, h_n), whose h_n is the state it ends in): "
                f"{_which_tensor(value, what, shape)}"
            )
        elif isinstance(value, tuple | list) and not value:  # as_tensor(()) has no such shape
            # None only for a whole state: an LSTM's part told to pass None was refused again
            zeros = "None (a state of zeros) or " if whole else ""
            got = f"an empty {type(value).__name__}: pass {zeros}one tensor of shape {shape}"
        raise TypeError(f"{what} must be {expected}, got {got}")
    check_dense(value, what)
    if read is not None and batched and (said := swapped_layout(value, what, shape, *read)):
        raise ValueError(said)
    if tuple(value.shape) != shape:
        raise ValueError(
            f"{what} must have shape (num_layers, {'B, ' if batched else ''}hidden_size) = "
            f"{shape}, got {tuple(value.shape)}"
        )
    if value.dtype != like.dtype or value.device != like.device:
        raise TypeError(
            f"{what} is {value.dtype} on {value.device} but the module's weights are "
            f"{like.dtype} on {like.device}{_converted(what, value, like)}"
        )
    out = (value if batched else value.unsqueeze(1)).detach()  # (L, B, H)
    check_finite(out, what, ("layer", "sample", "unit"))
    return out


def _which_tensor(
    value: tuple[torch.Tensor, ...] | list[torch.Tensor], what: str, shape: tuple[int, ...]
) -> str:
    """The way out for a one-tensor state given as a tuple (or list) of tensors: the one of
    ``shape`` among them, by its index (``pass h0[1]``). "pass that tensor" named none, and
    an (output, h_n) pair holds one of that shape, an LSTM's (h0, c0) two (its h0 first)."""
    fits = [i for i, v in enumerate(value) if tuple(v.shape) == shape]
    if len(fits) == 1:
        return f"pass {what}[{fits[0]}], the one of that shape"
    if len(value) == 2 and len(fits) == 2:
        return (
            f"pass {what}[0] where it is an LSTM's (h0, c0), {what}[1] where it is a call's "
            "(output, h_n)"
        )
    if fits:
        return f"pass the one that is the state, of {', '.join(f'{what}[{i}]' for i in fits)}"
    return "none of its tensors has that shape: pass one tensor of that shape"


def swapped_layout(
    state: torch.Tensor, what: str, shape: tuple[int, ...], x: str, batch_first: bool, steps: int
) -> str | None:
    """The words that refuse a state whose batch is the T the sequence beside it was read with
    (and not its B): a batch_first module given ``(T, B, I)``, or the reverse, is read with
    time and batch swapped, which its shape alone cannot tell. The shapes cannot tell either
    which of the two is wrong (an ``h0`` made with T for B beside a sequence laid out right
    reads alike), so both ways out are said: the transpose alone measured such a sequence
    swapped. None where the state does not show it."""
    L, B, H = shape
    if steps == B or tuple(state.shape) != (L, steps, H):
        return None
    read, other = ("(B, T, input_size)", "(T, B, input_size)")[:: 1 if batch_first else -1]
    return (
        f"{what} has batch {steps}, the T of {x} as the module reads it ({read}, "
        f"batch_first={batch_first}: B = {B}, T = {steps}): {x} laid out {other} goes in as "
        f"{x}.transpose(0, 1); {x} laid out {read} needs {what} of shape (num_layers, B, "
        f"hidden_size) = {shape}"
    )


def check_finite(t: torch.Tensor, what: str, axes: tuple[str, ...]) -> None:
    """Raise ``ValueError`` naming ``what`` and the first non-finite entry of ``t``.

    ``axes`` names the dimensions of ``t`` (e.g. ``("time step", "sample", "feature")``); a
    single name is used for the whole index of a parameter.
    """
    finite = torch.isfinite(t)
    if bool(finite.all()):
        return
    index = tuple(int(v) for v in (~finite).nonzero()[0])
    value = float(t[index])
    if len(axes) == len(index):
        where = ", ".join(f"{axis} {i}" for axis, i in zip(axes, index, strict=True))
    else:
        where = f"{axes[0]} {list(index)}"
    raise ValueError(
        f"{what} holds {value} at {where}: vanishlab measures finite inputs, states and weights"
    )
