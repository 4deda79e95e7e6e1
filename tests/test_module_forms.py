"""Recurrent modules in the forms a practitioner's models come in: each measured exactly (against
float64 autograd of the module's own forward) or refused in one line, never a traceback from
inside torch. README, "A first measurement", says which forms are which."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
import torch
from torch import nn

import vanishlab as vl

_KINDS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


def _sparse(kind: str, layout: str) -> nn.Module:
    """A module whose weight_hh_l0 is a sparse parameter (as a user's pruning to a sparse
    tensor leaves it); nn.RNN's own forward cannot run it either."""
    torch.manual_seed(0)
    module = _KINDS[kind](3, 4)
    weight = module.weight_hh_l0.detach()
    with warnings.catch_warnings():  # torch: "Sparse CSR tensor support is in beta state"
        warnings.simplefilter("ignore", UserWarning)
        dense = weight.to_sparse() if layout == "coo" else weight.to_sparse_csr()
    module.weight_hh_l0 = nn.Parameter(dense)
    return module


_CALLS: dict[str, Callable[[nn.Module, torch.Tensor, object], object]] = {
    "jacobian_norms": lambda m, x, tmp: vl.jacobian_norms(m, x),
    "lyapunov_spectrum": lambda m, x, tmp: vl.lyapunov_spectrum(m, x, k=1),
    "JacobianMonitor": lambda m, x, tmp: vl.JacobianMonitor(m, x, out=tmp / "run"),
}


@pytest.mark.parametrize("kind", sorted(_KINDS))
@pytest.mark.parametrize("layout", ["coo", "csr"])
@pytest.mark.parametrize("call", sorted(_CALLS))
def test_a_sparse_weight_is_refused_by_name(kind: str, layout: str, call: str, tmp_path) -> None:
    """A sparse weight failed inside torch's kernels, as a NotImplementedError ("Could not run
    'aten::ne.Scalar' with arguments from the 'SparseCPU' backend", some 90 lines) or a
    RuntimeError ("unsupported tensor layout: SparseCsr"), where a sparse x or h0, and a
    checkpoint's sparse weight, were refused by name."""
    module = _sparse(kind, layout)
    with pytest.raises(TypeError, match=r"weight_hh_l0 must be a dense tensor, got layout torch"):
        _CALLS[call](module, torch.randn(5, 1, 3), tmp_path)
    assert not (tmp_path / "run").exists()  # refused before anything is written


@pytest.mark.parametrize("call", [vl.linear_rate, vl.pascanu_bound])
def test_a_sparse_weight_is_refused_by_the_theory_too(call: Callable[[nn.Module], object]) -> None:
    """``linear_rate`` and ``pascanu_bound`` read the same checks (the same traceback)."""
    with pytest.raises(TypeError, match=r"weight_hh_l0 must be a dense tensor, got layout"):
        call(_sparse("RNN", "coo"))


class _Encoder(nn.Module):
    """A model whose LSTM is its ``enc``."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.LSTM(3, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(x)[0])


@pytest.mark.slow  # torch.export's first trace in a process: 3.4 s on the 2-core machine
def test_an_exported_program_says_which_module_to_pass(tmp_path) -> None:
    """torch.export traces the recurrent module into operations: neither the ExportedProgram
    nor its ``.module()`` holds an nn.LSTM. Both were refused as "got ExportedProgram" or "got
    GraphModule" alone, where a TorchScript copy and torch.compile's wrapper said what to pass;
    now they say it too, from the module stack that export records."""
    torch.manual_seed(0)
    x = torch.randn(5, 1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(_Encoder(), (x,))
    hint = r"traced into operations: pass the nn\.LSTM it was exported from, model\.enc\)"
    for exported in (program, program.module()):
        with pytest.raises(TypeError, match=rf"got (ExportedProgram|\w*GraphModule\w*) .*{hint}"):
            vl.jacobian_norms(exported, x)
    with pytest.raises(TypeError, match=hint):
        vl.lyapunov_spectrum(program, x)
    with pytest.raises(TypeError, match=hint):
        vl.JacobianMonitor(program.module(), x, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


class _WeightDrop(nn.Module):
    """AWD-LSTM's weight drop (Merity et al. 2017; fastai's WeightDropout alike): the module's
    ``weight_hh_l0`` parameter becomes ``weight_hh_l0_raw``, and each forward sets
    ``weight_hh_l0`` = dropout(``weight_hh_l0_raw``), a plain tensor, before the module runs."""

    def __init__(self, module: nn.Module, p: float = 0.5) -> None:
        super().__init__()
        self.module, self.p = module, p
        raw = module.weight_hh_l0
        del module._parameters["weight_hh_l0"]
        module.register_parameter("weight_hh_l0_raw", nn.Parameter(raw.detach().clone()))

    def forward(self, x: torch.Tensor) -> object:
        raw = self.module.weight_hh_l0_raw
        dropped = nn.functional.dropout(raw, p=self.p, training=self.training)
        self.module.weight_hh_l0 = dropped * 1  # a tensor, never the parameter itself
        return self.module(x)


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_a_weight_drop_wrapper_is_measured_with_its_raw_weight(kind: str, tmp_path) -> None:
    """A weight-drop wrapper's module was refused before its first forward ("has no
    weight_hh_l0: ... was it deleted?"), and after a forward in training mode measured with
    that forward's dropped weight, in silence: input rows 0.13 (GRU) to 1.46 (tanh RNN) off in
    log10 at T = 6, where dropout on a weight is ignored everywhere else. It is measured with
    ``weight_hh_l0_raw`` now, the weight the wrapper's forward sets in evaluation mode: the
    same rows, bit for bit, as the module holding that weight, in the API and the monitor."""
    torch.manual_seed(0)
    plain, x = _KINDS[kind](3, 4), torch.randn(6, 2, 3)
    expected = vl.jacobian_norms(plain, x)
    lyapunov = vl.lyapunov_spectrum(plain, x, k=2)
    dropped = _WeightDrop(_KINDS[kind](3, 4))
    dropped.module.load_state_dict(
        {k.replace("weight_hh_l0", "weight_hh_l0_raw"): v for k, v in plain.state_dict().items()}
    )
    dropped.train()
    for forwards in range(2):  # before any forward, then after one in training mode
        if forwards:
            dropped(x)
            assert not torch.equal(dropped.module.weight_hh_l0, plain.weight_hh_l0)
        assert vl.jacobian_norms(dropped.module, x).equals(expected)
        assert torch.equal(vl.lyapunov_spectrum(dropped.module, x, k=2), lyapunov)
    with vl.JacobianMonitor(dropped, x, out=tmp_path / "run", lyapunov=False) as monitor:
        monitor.step(0)
    rows = vl.load_results(tmp_path / "run")
    state = rows[rows.source == "input"].sort_values("lag")["log10_fro_mean"].to_numpy()
    means = expected[expected.source == "input"].groupby("lag")["log10_fro"].mean().to_numpy()
    assert state == pytest.approx(means, abs=1e-12)
    assert "weight_hh_l0" not in dropped.module._parameters  # the module is left as it was


@pytest.mark.parametrize("kind", sorted(_KINDS))
@pytest.mark.parametrize("wrapper", ["module's raw", "wrapper's raw"])
def test_a_weight_drop_checkpoint_is_read_with_its_raw_weight(
    kind: str, wrapper: str, tmp_path
) -> None:
    """Such a wrapper's state_dict holds ``module.weight_hh_l0_raw`` (AWD-LSTM's) or
    ``weight_hh_l0_raw`` beside ``module.weight_ih_l0`` (fastai's), and no
    ``module.weight_hh_l0``: ``vanishlab analyze`` refused both ("module 'module' ... has no
    weight_hh_l0: not the weights of a whole recurrent module", exit 2). It reads the raw weight
    as the module's ``weight_hh_l0`` now, the weight of its forward in evaluation mode."""
    torch.manual_seed(0)
    plain = _KINDS[kind](3, 4)
    weights = plain.state_dict()
    raw = {"weight_hh_l0_raw" if k == "weight_hh_l0" else k: v for k, v in weights.items()}
    if wrapper == "module's raw":
        dropped: nn.Module = _WeightDrop(_KINDS[kind](3, 4))
        dropped.module.load_state_dict(raw)
    else:  # the raw weight is the wrapper's, the others its module's
        dropped = _WrapperRawDropout(_KINDS[kind](3, 4))
        dropped.load_state_dict(
            {k if k.endswith("_raw") else f"module.{k}": v for k, v in raw.items()}
        )
    dropped.train()
    dropped(torch.randn(5, 1, 3))
    torch.save({"model": dropped.state_dict(), "epoch": 3}, tmp_path / "model.pt")
    read = vl.read_checkpoint(tmp_path / "model.pt")
    assert read.module_name == "module"
    assert read.others == ()
    assert set(read.weights) == set(weights)
    for name, weight in weights.items():
        assert torch.equal(read.weights[name], weight), name


class _WrapperRawDropout(nn.Module):
    """fastai's ``WeightDropout``: the raw weight is the wrapper's own parameter
    (``weight_hh_l0_raw``), and each forward sets the module's ``weight_hh_l0``, a plain tensor,
    to its dropout (a clone in evaluation mode)."""

    def __init__(self, module: nn.Module, p: float = 0.5) -> None:
        super().__init__()
        self.module, self.p = module, p
        raw = module.weight_hh_l0
        del module.weight_hh_l0
        self.weight_hh_l0_raw = nn.Parameter(raw.detach().clone())
        module.weight_hh_l0 = raw.clone()  # as fastai's: a clone with a grad_fn, no detach

    def forward(self, x: torch.Tensor) -> object:
        raw = self.weight_hh_l0_raw
        self.module.weight_hh_l0 = (
            nn.functional.dropout(raw, p=self.p) if self.training else raw.clone()
        )
        return self.module(x)


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_a_weight_computed_by_code_vanishlab_does_not_run_is_said(kind: str) -> None:
    """A module whose weight is a tensor its wrapper computed (a grad_fn) in the last forward,
    with the raw weight out of the module's sight, was measured with that tensor in silence: after
    a training forward, a dropout draw. It still is (the module alone cannot tell what its
    wrapper would set next), but a UserWarning says so and what to do; a plain tensor set by
    hand, with no grad_fn, stays silent (the suite's warnings are errors)."""
    torch.manual_seed(0)
    x = torch.randn(6, 1, 3)
    wrapped = _WrapperRawDropout(_KINDS[kind](3, 4))
    wrapped.train()
    wrapped(x)
    message = r"weight_hh_l0 is no parameter but a tensor computed by code vanishlab does not run"
    with pytest.warns(UserWarning, match=message):
        vl.jacobian_norms(wrapped.module, x)
    with pytest.warns(UserWarning, match=message):
        vl.lyapunov_spectrum(wrapped.module, x, k=1)
    wrapped.module.weight_hh_l0 = wrapped.weight_hh_l0_raw.detach()  # the advice: silent
    vl.jacobian_norms(wrapped.module, x)


def _with_weight_hh(module: nn.Module, weight: torch.Tensor) -> nn.Module:
    """``module`` with its ``weight_hh_l0`` parameter replaced by the tensor ``weight``."""
    del module.weight_hh_l0
    module.weight_hh_l0 = weight
    return module


@pytest.mark.parametrize("kind", sorted(_KINDS))
@pytest.mark.parametrize("form", ["p[:]", "p.T.T", "fastai fresh", "fastai after eval forward"])
def test_a_parameter_s_values_are_measured_in_silence(kind: str, form: str) -> None:
    """A weight that holds a parameter's current values is no computed weight: a view of one
    (README: views are read), or a clone equal to it (fastai's WeightDropout leaves
    ``weight_hh_l0`` = ``raw.clone()`` when built and after each forward in evaluation mode,
    the weight to measure). All four warned ("computed by code vanishlab does not run ...
    the last forward's dropout draw"), a crash under ``-W error``; they are measured, the
    same rows as the plain module, and silent."""
    torch.manual_seed(0)
    x = torch.randn(6, 1, 3)
    plain = _KINDS[kind](3, 4)
    expected = vl.jacobian_norms(plain, x)
    twin = _KINDS[kind](3, 4)
    twin.load_state_dict(plain.state_dict())
    p = twin.weight_hh_l0
    if form.startswith("fastai"):
        wrapped = _WrapperRawDropout(twin)
        if form.endswith("forward"):
            wrapped.eval()
            wrapped(x)  # in grad mode: weight_hh_l0 = raw.clone(), a CloneBackward0
        module = wrapped.module
    else:
        module = _with_weight_hh(twin, p[:] if form == "p[:]" else p.T.T)
        module.kept = p  # the parameter, kept alive by the model (tied elsewhere)
    assert module.weight_hh_l0.grad_fn is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert vl.jacobian_norms(module, x).equals(expected)


def test_the_computed_weight_warning_names_several_in_one_sentence() -> None:
    """A hypernetwork's weights (each computed, none a parameter's values) are said in one
    warning, its verb plural ("weight_ih_l0, weight_hh_l0 is no parameter" before), and the
    advice names the module's attribute it writes (``module.weight_ih_l0 = ...``)."""
    torch.manual_seed(0)
    module, hyper = nn.RNN(3, 4), nn.Linear(2, 28)
    made = hyper(torch.randn(2))
    _with_weight_hh(module, made[12:].view(4, 4))
    del module.weight_ih_l0
    module.weight_ih_l0 = made[:12].view(4, 3)
    said = r"the RNN's weight_ih_l0, weight_hh_l0 are no parameters but tensors computed by code"
    with pytest.warns(UserWarning, match=said) as caught:
        vl.jacobian_norms(module, torch.randn(5, 1, 3))
    (warning,) = caught
    assert "measured as they are now" in str(warning.message)
    assert "(module.weight_ih_l0 = wrapper.weight_ih_l0_raw.detach())" in str(warning.message)
    assert warning.filename == __file__  # the user's line


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_a_monitor_measures_the_raw_weight_of_a_wrapper_it_was_given(kind: str, tmp_path) -> None:
    """fastai's WeightDropout keeps the raw weight on the wrapper, out of its module's sight;
    a monitor given the wrapper (or a model holding it) measured each step's training-forward
    dropout draw, up to 0.3 off in log10 at T = 6, with a UserWarning at every step whose
    advice a monitor's user cannot follow between its steps. It holds the model: it measures
    the raw weight now, the rows of the plain module with that weight, in silence."""
    torch.manual_seed(0)
    x = torch.randn(6, 2, 3)
    wrapped = _WrapperRawDropout(_KINDS[kind](3, 4))
    optimizer = torch.optim.SGD(wrapped.parameters(), lr=0.5)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with vl.JacobianMonitor(wrapped, x, out=tmp_path / "run", lyapunov=False) as monitor:
            for step in range(2):
                optimizer.zero_grad()
                wrapped(x)[0].pow(2).mean().backward()
                optimizer.step()
                wrapped(x)  # a training forward: the module's weight is a dropout draw
                drawn = wrapped.module.weight_hh_l0
                monitor.step(step)
                assert wrapped.module.weight_hh_l0 is drawn  # the module's tensor put back
    plain = _KINDS[kind](3, 4)
    weights = {k: v for k, v in wrapped.module.state_dict().items()}
    plain.load_state_dict({**weights, "weight_hh_l0": wrapped.weight_hh_l0_raw.detach()})
    expected = vl.jacobian_norms(plain, x)
    rows = vl.load_results(tmp_path / "run")
    last = rows[(rows.source == "input") & (rows.step == 1)].sort_values("lag")
    means = expected[expected.source == "input"].groupby("lag")["log10_fro"].mean().to_numpy()
    assert last["log10_fro_mean"].to_numpy() == pytest.approx(means, abs=1e-12)
    assert [str(w.message) for w in said] == []


def test_a_monitor_s_weights_digest_holds_a_wrapper_s_raw_weight(tmp_path) -> None:
    """A monitor skips a step already recorded with the same weights and refuses it with other
    weights, by a digest of the module's parameters and buffers. fastai's raw weight is the
    wrapper's, not the module's: a step replayed after that weight alone changed (the module's
    weight_ih its optimizer left alone) was skipped as "the same weights", though it measures
    the raw weight and its rows would differ. It is in the digest now, and refused."""
    torch.manual_seed(0)
    x = torch.randn(6, 1, 3)
    wrapped = _WrapperRawDropout(nn.GRU(3, 4))
    with vl.JacobianMonitor(wrapped, x, out=tmp_path / "run", lyapunov=False) as monitor:
        assert monitor.step(1) is not None
        assert monitor.step(1) is None  # the same raw weight: skipped
        with torch.no_grad():
            wrapped.weight_hh_l0_raw.mul_(2.0)  # trained: the raw weight alone
        other = r"step 1 was already recorded by this monitor, from other weights"
        with pytest.raises(vl.VanishlabError, match=other):
            monitor.step(1)  # before: None, skipped as the same weights


def test_a_plain_weight_left_behind_by_double_is_told_apart() -> None:
    """``module.double()`` converts parameters, not fastai's plain ``weight_hh_l0`` (its clone
    of the raw weight until the wrapper's next forward): the refusal advised "convert the whole
    module with module.float() or module.double()", which the user had just done. It says what
    .double() leaves behind and what converts it now; after the wrapper's forward it measures."""
    torch.manual_seed(0)
    wrapped = _WrapperRawDropout(nn.LSTM(3, 4)).double()
    x = torch.randn(5, 1, 3, dtype=torch.float64)
    said = (
        r"the LSTM's weight_hh_l0 \(no parameter\) is torch.float32 on cpu, but its weight_ih_l0"
        r" is torch.float64 on cpu: module.float\(\), module.double\(\) and .to\(\) leave a "
        r"tensor that is no parameter as it is: convert it too \(module.weight_hh_l0 = "
    )
    with pytest.raises(TypeError, match=said):
        vl.jacobian_norms(wrapped.module, x)
    wrapped.eval()
    wrapped(x)
    vl.jacobian_norms(wrapped.module, x)


class _Hyper(nn.Module):
    """A hypernetwork that writes its GRU's ``weight_hh_l0`` (a computed tensor) when asked."""

    def __init__(self) -> None:
        super().__init__()
        self.gru, self.hyper = nn.GRU(3, 4), nn.Linear(2, 48)
        del self.gru.weight_hh_l0
        self.write()

    def write(self) -> None:
        self.gru.weight_hh_l0 = self.hyper(torch.ones(2)).view(12, 4)


def test_a_monitor_says_a_computed_weight_once(tmp_path) -> None:
    """A monitor of a hypernetwork's GRU warned of its computed weight where it opened and then
    at every step, twice with the Lyapunov exponent (7 warnings for 3 steps under "always"; 4
    under Python's "default", whose once-per-line registry the warning filters' catch_warnings
    between steps clears). It is said once now, where the monitor opens, at the user's line."""
    torch.manual_seed(0)
    model = _Hyper()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with vl.JacobianMonitor(model, torch.randn(5, 1, 3), out=tmp_path / "run") as monitor:
            for step in range(3):
                model.write()
                monitor.step(step)
    assert [w.filename for w in said] == [__file__], [str(w.message) for w in said]
    words = "GRU's weight_hh_l0 is no parameter but a tensor computed by code"
    assert words in str(said[0].message)


def test_a_weight_computed_from_a_later_step_on_is_said_once(tmp_path) -> None:
    """A weight that becomes computed after the monitor opened (a parameter, then a
    hypernetwork's) is said at the first step that measures it: once, where the step's
    rows and its Lyapunov exponent each said it (twice)."""
    torch.manual_seed(0)
    model = _Hyper()
    kept = model.gru.weight_hh_l0.detach()
    model.gru.weight_hh_l0 = kept  # no grad_fn: silent where the monitor opens
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with vl.JacobianMonitor(model, torch.randn(5, 1, 3), out=tmp_path / "run") as monitor:
            monitor.step(0)
            for step in range(1, 3):
                model.write()
                monitor.step(step)
    assert [w.filename for w in said] == [__file__], [str(w.message) for w in said]


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_a_weight_drop_checkpoint_saved_after_evaluation_holds_no_other_key(
    kind: str, tmp_path
) -> None:
    """AWD-LSTM's WeightDrop in evaluation mode sets ``weight_hh_l0`` = dropout(raw, training=
    False), which is the raw parameter itself, so nn.Module registers it as ``weight_hh_l0``
    too: a state_dict saved after validation holds both, equal. ``vanishlab analyze`` noted
    "module also holds weight_hh_l0_raw, which an nn.LSTM has not (a subclass?)"; the raw key
    is that same weight now, and no other key. A raw key that differs is still one."""
    torch.manual_seed(0)
    weights = _KINDS[kind](3, 4).state_dict()
    saved = {f"module.{k}": v for k, v in weights.items()}
    saved["module.weight_hh_l0_raw"] = weights["weight_hh_l0"]
    torch.save(saved, tmp_path / "model.pt")
    read = vl.read_checkpoint(tmp_path / "model.pt")
    assert read.others == ()
    assert all(torch.equal(read.weights[k], v) for k, v in weights.items())
    saved["module.weight_hh_l0_raw"] = weights["weight_hh_l0"] * 2
    torch.save(saved, tmp_path / "model.pt")
    assert vl.read_checkpoint(tmp_path / "model.pt").others == ("weight_hh_l0_raw",)
