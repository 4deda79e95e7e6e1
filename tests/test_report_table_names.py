"""Every table of every kind of page has an accessible name: a screen reader lists a page's
tables by it. None of the 15 tables of the five kinds of page (a sweep, a gated sweep, a
trainability sweep, a monitored training run, an analysed checkpoint) had a ``<caption>`` or
an ``aria-labelledby`` (the scrolling box around each had one, the table none).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import vanishlab as vl


class _Tagged(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = torch.nn.GRU(2, 4)
        self.head = torch.nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][-1])


@pytest.fixture(scope="module")
def pages(full_report: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each kind of page, tiny: a sweep's (the session's), a gated sweep's, a trainability
    sweep's, a monitored training run's and an analysed checkpoint's."""
    root = tmp_path_factory.mktemp("every-page")
    runs = {
        "gated": vl.Sweep(model=("rnn", "gru"), hidden_size=4, input_size=2, seq_len=6, batch=2),
        "trainability": vl.Sweep(
            hidden_size=2, input_size=2, seq_len=10, batch=8, task="adding", train_steps=1
        ),
    }
    for name, grid in runs.items():
        vl.run_sweep(grid, root / name, workers=1, progress=False)
    torch.manual_seed(0)
    model = _Tagged()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    probe = torch.randn(8, 2, 2)
    with vl.JacobianMonitor(model.rnn, probe, out=root / "monitor", every=1) as mon:
        mon.step(0)
        for n in (1, 2):
            loss = model(probe).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            mon.step(n, loss=loss)
    torch.save(model.state_dict(), root / "model.pt")
    vl.analyze_checkpoint(root / "model.pt", root / "analyze", seq_len=8, batch=2)
    out = {"sweep": full_report.read_text(encoding="utf-8")}
    for name in ("gated", "trainability", "monitor", "analyze"):
        page = vl.render_report(root / name, root / f"{name}.html", timestamp="2024-01-01")
        out[name] = page.read_text(encoding="utf-8")
    return out


#: A section each kind of page has, and the others do not all have: the page is of its kind.
_KIND_SECTION = {
    "sweep": "gain",
    "gated": "models",
    "trainability": "trainability",
    "monitor": "monitor",
    "analyze": "model",
}


@pytest.mark.parametrize("kind", list(_KIND_SECTION))
def test_every_table_of_every_kind_of_page_has_an_accessible_name(pages, kind: str) -> None:
    """A screen reader lists a page's tables by name: each is named by the heading above it
    (``aria-labelledby``, its id that of a heading with text), or by a ``<caption>``. None of
    the 15 tables of these five kinds of page was (the scrolling box around each was)."""
    html = pages[kind]
    assert f'<section id="{_KIND_SECTION[kind]}">' in html, kind
    tables = re.findall(r"<table\b[^>]*>.*?</table>", html, re.S)
    assert tables, kind
    for table in tables:
        if re.search(r"<caption\b[^>]*>\s*\S", table):
            continue
        named = re.match(r'<table\b[^>]*\baria-labelledby="([^"]+)"', table)
        assert named, (kind, table[:120])
        for ref in named.group(1).split():
            heading = re.search(rf'<(h[1-6])\b[^>]*\bid="{re.escape(ref)}"[^>]*>(.*?)</\1>', html)
            assert heading and heading.group(2).strip(), (kind, ref)
