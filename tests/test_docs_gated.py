"""docs/gated.md's worked example prints what the page says it prints."""

from __future__ import annotations

import re
from pathlib import Path

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
