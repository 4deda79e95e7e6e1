"""docs/gated.md's worked example prints what the page says it prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "gated.md"


def test_the_worked_example_prints_the_page_s_output(capsys) -> None:
    """The page quotes the example's output as measured; a change of the engine, the fit or
    an init's draws that moves a printed digit makes the page wrong."""
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## A worked estimate you can check") :]
    (code,) = re.findall(r"^```python\n(.*?)^```", section, re.M | re.S)
    printed = section[section.index("It prints") :].split("```")[1].strip().splitlines()
    exec(compile(code, "docs/gated.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == printed


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_the_page_s_chrono_1000_numbers_are_measured() -> None:
    """The page quotes chrono_init(1000) on the example's LSTM at T = 1500 beside the built-in
    chrono's T_max = 100: its largest u, ln(u/(1 + u)), the fitted rate, no horizon, and how
    far the state norm falls over the 1500 steps."""
    import math

    import torch
    from torch import nn

    import vanishlab as vl

    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    said = (
        "With `vl.chrono_init(1000)` in place of the built-in, the same LSTM's largest u is "
        "980.8, so ln(u/(1 + u)) = −0.0010, and the fitted rate is −0.0014. No sequence falls "
        "1000-fold within the 1500 steps: there is no horizon, and the state norm falls only "
        "21- to 22-fold. vanishlab calls that rate stable"
    )
    assert said in text
    H, I, T = 64, 16, 1500
    x = torch.randn(T, 4, I, generator=torch.Generator().manual_seed(1))
    module = nn.LSTM(I, H)
    vl.chrono_init(1000).apply(module, 1.0, torch.Generator().manual_seed(0))
    u = float(module.bias_ih_l0[H : 2 * H].detach().double().exp().max())
    assert f"{u:.1f}" == "980.8" and f"{math.log(u / (1 + u)):.4f}" == "-0.0010"
    norms = vl.jacobian_norms(module, x)
    state = norms[norms.source == "state"]
    fits = vl.fit_decay(state)
    assert f"{fits.rate.mean():.4f}" == "-0.0014" and fits.horizon.isna().all()
    assert set(fits.phase) == {"stable"}
    fro = state.set_index(["sample", "lag"])["log10_fro"].unstack()
    folds = 10 ** (fro[0] - fro[T])
    assert (round(folds.min()), round(folds.max())) == (21, 22)


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


# In the slow tier: ~3 s of CPU; make test keeps the page's other measured numbers.
@pytest.mark.slow
def test_the_page_s_other_measured_numbers_are_the_code_s() -> None:
    """The numbers the page quotes beside its example, which no other test read: the built-in
    chrono's largest u, ln(u/(1 + u)), fitted rate and horizons at T = 1500 for the LSTM and
    the GRU; the GRU's rates at small weights; `default`'s rate at gain 0.01 against ln
    sigmoid of its largest forget bias; and the growth per step that explains gain 0.1. A
    change of the engine, the fit or an init's draws moves them silently."""
    import math

    import torch
    from torch import nn

    import vanishlab as vl

    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    num = r"([−\d.]+)"
    chrono = re.search(
        rf"its largest u is {num}, so ln\(u/\(1 \+ u\)\) = {num}, and the fitted rate is {num}\. "
        rf"The horizon \(the lag of a 1000-fold drop\) is (\d+) to (\d+) steps over the 4 "
        rf"sequences\. The same with an `nn\.GRU` gives {num} and (\d+) to (\d+) steps\.",
        text,
    )
    gru = re.search(rf"with `nn\.GRU` in place of `nn\.LSTM` measures {num} at gain 0\.1 and "
                    rf"{num} at gain 0\.01", text)  # fmt: skip
    default = re.search(rf"gain 0\.01 and inputs scaled by 0\.01 measure {num}, and ln "
                        rf"sigmoid\(largest b_f\) is {num}", text)  # fmt: skip
    growth = re.search(rf"For this draw that is {num}, and ln {num} = {num}, against", text)
    assert chrono and gru and default and growth, "a sentence moved: update this test"

    H, I = 64, 16

    def made(cls: type[nn.Module], init: str, gain: float) -> nn.Module:
        module = cls(I, H)
        vl.INITS[init].apply(module, gain, torch.Generator().manual_seed(0))
        return module

    def fitted(module: nn.Module, x: torch.Tensor) -> tuple[float, list[int]]:
        norms = vl.jacobian_norms(module, x)
        fits = vl.fit_decay(norms[norms.source == "state"])
        return float(fits.rate.mean()), [int(h) for h in fits.horizon]

    x = torch.randn(1500, 4, I, generator=torch.Generator().manual_seed(1))
    lstm = made(nn.LSTM, "chrono", 1.0)
    u = float((lstm.bias_ih_l0 + lstm.bias_hh_l0)[H : 2 * H].detach().double().exp().max())
    assert f"{u:.1f}" == chrono.group(1)
    assert round(math.log(u / (1 + u)), 4) == _number(chrono.group(2))
    rate, horizons = fitted(lstm, x)
    assert round(rate, 4) == _number(chrono.group(3))
    assert (min(horizons), max(horizons)) == (int(chrono.group(4)), int(chrono.group(5)))
    rate, horizons = fitted(made(nn.GRU, "chrono", 1.0), x)
    assert round(rate, 4) == _number(chrono.group(6))
    assert (min(horizons), max(horizons)) == (int(chrono.group(7)), int(chrono.group(8)))

    x = x[:200]  # the example's inputs: the same generator's first 200 steps
    assert torch.equal(x, torch.randn(200, 4, I, generator=torch.Generator().manual_seed(1)))
    for gain, said in ((0.1, gru.group(1)), (0.01, gru.group(2))):
        assert round(fitted(made(nn.GRU, "forget_bias", gain), gain * x)[0], 3) == _number(said)
    small = made(nn.LSTM, "default", 0.01)
    forget = (small.bias_ih_l0 + small.bias_hh_l0)[H : 2 * H].detach().double()
    assert round(fitted(small, 0.01 * x)[0], 3) == _number(default.group(1))
    assert round(math.log(torch.sigmoid(forget.max()).item()), 3) == _number(default.group(2))
    w_hg = made(nn.LSTM, "forget_bias", 0.1).weight_hh_l0[2 * H : 3 * H].detach().double()
    f = 1 / (1 + math.exp(-1.0))
    per_step = float((f + 0.25 * torch.linalg.eigvals(w_hg)).abs().max())
    assert f"{per_step:.3f}" == growth.group(1) == growth.group(2)
    assert round(math.log(per_step), 3) == _number(growth.group(3))
