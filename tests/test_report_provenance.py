"""The versions and the command of a trained model's page and a monitor's close the page.

They stood in the opening section (Model, Monitored training), about 400 px of versions and a
command between the model's facts and "What this means for long dependencies", the section
that answers the reader's question. They are now the page's last section, "provenance".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.report import build_report
from vanishlab.report.model import Code, KeyValues, Report, Section
from vanishlab.report.sections.provenance import versions_block
from vanishlab.sweep.section_names import PROVENANCE


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"analyze": run, "monitor": run}``: one small nn.RNN analysed, and monitored."""
    root = tmp_path_factory.mktemp("provenance")
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 6)
    torch.save(rnn.state_dict(), root / "rnn.pt")
    args = ["analyze", str(root / "rnn.pt"), "--out", str(root / "analyze"), "--seq-len", "12"]
    result = CliRunner().invoke(app, [*args, "--batch", "2"])  # the CLI records its command
    assert result.exit_code == 0, result.output
    with vl.JacobianMonitor(rnn, torch.randn(12, 2, 3), out=root / "monitor", every=1) as mon:
        mon.step(0)
        mon.step(1)
    return {"analyze": root / "analyze", "monitor": root / "monitor"}


def _report(run: Path, sections: list[str] | None = None) -> Report:
    args = (vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))
    return build_report(*args, sections=sections, timestamp="2024-01-01")


def _titles(section: Section) -> list[str]:
    return [b.title for b in section.blocks]


@pytest.mark.parametrize(("which", "opening"), [("analyze", "model"), ("monitor", "monitor")])
def test_the_answer_follows_the_opening_section_and_provenance_closes_the_page(
    runs, which, opening
):
    report = _report(runs[which])
    keys = [s.key for s in report.sections]
    assert keys[:2] == [opening, "long-dependencies"] and keys[-1] == "provenance"
    first, last = report.sections[0], report.sections[-1]
    assert "Versions" not in _titles(first) and "Reproduce" not in _titles(first)
    kept = ["At a glance", "Model", "Inputs", "Measurement"]
    assert _titles(first) == (kept if which == "analyze" else ["Module", "Recording"])
    manifest = vl.load_manifest(runs[which])
    versions = next(b for b in last.blocks if isinstance(b, KeyValues))
    assert versions.items == versions_block(manifest).items
    assert dict(versions.items) == {k: str(v) for k, v in manifest["versions"].items()}
    assert {"vanishlab", "torch", "python", "platform"} <= set(dict(versions.items))
    codes = [b for b in last.blocks if isinstance(b, Code)]
    if which == "analyze":  # the command that measures the model again, as before
        assert last.title == PROVENANCE.title and _titles(last) == ["Versions", "Reproduce"]
        assert [c.text for c in codes] == [manifest["command"]]
        assert "--out naming a new directory" in codes[0].caption
    else:  # a monitor records no command: nothing to reproduce it with
        assert last.title == "Versions" and not codes
        assert _titles(last) == [""]  # one heading: it read "Versions" over "Versions"


@pytest.mark.parametrize("which", ["analyze", "monitor"])
def test_the_versions_are_headed_once_on_the_page(runs, which, tmp_path):
    html = vl.render_report(runs[which], tmp_path / "page.html", timestamp="2024-01-01")
    text = html.read_text(encoding="utf-8")
    part = text[text.index('<section id="provenance">') : text.index("</main>")]
    headings = re.findall(r"<h[23][^>]*>(.*?)</h[23]>", part)
    assert headings == (
        [PROVENANCE.title, "Versions", "Reproduce"] if which == "analyze" else ["Versions"]
    )


@pytest.mark.parametrize("which", ["analyze", "monitor"])
def test_the_versions_are_shown_when_fewer_sections_are_asked_for(runs, which):
    """They were in the opening section, which is always shown; so is their own section."""
    report = _report(runs[which], sections=["curves" if which == "analyze" else "training"])
    assert report.sections[-1].key == "provenance"
    assert any(isinstance(b, KeyValues) for b in report.sections[-1].blocks)


def test_a_manifest_without_versions_or_command_has_no_provenance_block():
    assert versions_block({}) is None and versions_block({"versions": {}}) is None
    block = versions_block({"versions": {"torch": "2.5.0", "python": "3.11.7"}})
    assert block == KeyValues("Versions", (("torch", "2.5.0"), ("python", "3.11.7")))
