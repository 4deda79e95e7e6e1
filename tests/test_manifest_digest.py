"""A run's manifest.json had no integrity check: plain JSON a user may edit, it was read without
a word when a byte flipped inside its description, its times, its command or its code digest
(12 of 37 random flips that still parsed). Every write now digests each key
(sweep/manifest_digest.py) and every read says what changed: never refused, said once by a
command, as a vl.ManifestChangedWarning in Python, in a note on the report's page; a writer
that resumes the run keeps the edit and digests it anew. An earlier release's manifest (no
digest) reads as before, without a word."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep import store
from vanishlab.sweep.manifest_digest import DIGEST

runner = CliRunner()
SMOKE = ["sweep", "--smoke", "--workers", "1", "-q"]
TINY = vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A smoke sweep's run (8 cells, a description, a command)."""
    run = tmp_path_factory.mktemp("digest") / "run"
    result = runner.invoke(app, [*SMOKE, "--out", str(run)])
    assert result.exit_code == 0, result.output
    return run


def _copy(made: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(made, tmp_path / "run"))


def _changed(run: Path) -> list[str]:
    """The ManifestChangedWarnings of one vl.load_manifest of ``run``."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        vl.load_manifest(run)
    return [str(w.message) for w in said if issubclass(w.category, vl.ManifestChangedWarning)]


def test_a_manifest_as_written_is_read_without_a_word_and_without_its_digest(made):
    text = (made / "manifest.json").read_text()
    assert f'"{DIGEST}": {{' in text  # in the file itself, written with it
    assert _changed(made) == []
    assert DIGEST not in vl.load_manifest(made)  # popped, as a shard's meta_digest is


@pytest.mark.parametrize(
    ("key", "old", "new"),
    [
        ("description", "Smoke variant", "Smoke varhant"),  # a flipped bit of a letter
        ("started", '"started": "20', '"started": "21'),  # of a digit of the year
        ("command", '"command": "vanishlab sweep', '"command": "vanishlab sweeq'),
        ("versions", '"vanishlab_code": "', '"vanishlab_code": "0'),
    ],
)
def test_a_flipped_byte_is_said_naming_the_file_and_the_key(made, tmp_path, key, old, new):
    run = _copy(made, tmp_path)
    path = run / "manifest.json"
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    (line,) = _changed(run)
    assert line == f"{path} changed since vanishlab wrote it ({key!r} changed): read as it is now"
    with pytest.warns(vl.ManifestChangedWarning):
        assert new.split('"')[-1] in json.dumps(vl.load_manifest(run)[key])  # as it is now


def test_keys_added_and_removed_and_a_damaged_digest_are_said(made, tmp_path):
    run = _copy(made, tmp_path)
    path = run / "manifest.json"
    m = json.loads(path.read_text())
    m["note"] = "mine"
    del m["finished"]
    path.write_text(json.dumps(m))  # another indentation is no change
    (line,) = _changed(run)
    assert "('note' added; 'finished' removed)" in line
    m[DIGEST] = "x"
    path.write_text(json.dumps(m))
    (line,) = _changed(run)
    assert f"(its {DIGEST!r} is not as vanishlab writes it)" in line


def test_an_earlier_releases_manifest_reads_as_before_without_a_word(made, tmp_path):
    """Written as releases before the digest wrote it (the same keys, indent 2, no digest):
    the same dict, no warning. (A run of commit 5565c12a, sweep, analyze and monitor alike,
    was checked so by hand.)"""
    run = _copy(made, tmp_path)
    path = run / "manifest.json"
    m = json.loads(path.read_text())
    del m[DIGEST]
    path.write_text(json.dumps(m, indent=2) + "\n")
    assert _changed(run) == []
    assert vl.load_manifest(run) == vl.load_manifest(made)


def test_the_report_says_it_once_on_stderr_and_in_a_note_on_its_page(made, tmp_path):
    """Its pages are of the overview alone (the manifest's ``sections`` written empty, as
    vanishlab writes it): the note is under the title, whatever sections a page shows."""
    run = _copy(made, tmp_path)
    path = run / "manifest.json"
    store.write_manifest(run, {**vl.load_manifest(made), "sections": []})
    # as written, no note: the page of the run as vanishlab wrote it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vl.render_report(run, tmp_path / "s.html", timestamp="2024-01-01")
    assert "manifest.json changed" not in (tmp_path / "s.html").read_text()
    path.write_text(path.read_text().replace("Smoke variant", "Smoke varhant"))
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(out), "--timestamp", "2024-01-01"])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warned == [
        f"warning: {path} changed since vanishlab wrote it ('description' changed): read as it "
        "is now"
    ]
    page = out.read_text()
    assert '<p class="note">This run&#39;s manifest.json changed since vanishlab wrote it' in page
    # the Python API: one warning a call, though a report or a summary reads it several times
    for call in (
        lambda: vl.render_report(run, tmp_path / "t.html", timestamp="2024-01-01"),
        lambda: vl.summarize(run, cache=False),
        lambda: vl.load_results(run),
        lambda: vl.load_cells(run),
    ):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            call()
        assert [w.category for w in said] == [vl.ManifestChangedWarning]


def test_a_resumed_sweep_keeps_the_edit_and_digests_it_anew(made, tmp_path):
    run = _copy(made, tmp_path)
    path = run / "manifest.json"
    path.write_text(path.read_text().replace('"started": "20', '"started": "19'))
    result = runner.invoke(app, [*SMOKE, "--out", str(run)])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert line.endswith(
        "('started' changed): read as it is now; this sweep writes it again with a new digest, "
        "the edit kept but in what it records anew"
    )
    assert _changed(run) == []  # digested anew
    assert vl.load_manifest(run)["started"].startswith("19")  # the edit is kept


def test_a_reopened_monitor_keeps_the_edit_and_digests_it_anew(tmp_path):
    torch.manual_seed(0)
    net, probe = torch.nn.RNN(2, 3), torch.randn(4, 1, 2)
    out = tmp_path / "mon"
    with vl.JacobianMonitor(net, probe, out=out) as mon:
        mon.step(0)
    path = out / "manifest.json"
    path.write_text(path.read_text().replace('"started": "20', '"started": "19'))
    said = pytest.warns(vl.ManifestChangedWarning, match="this monitor writes it again")
    with said, vl.JacobianMonitor(net, probe, out=out) as mon:
        mon.step(1)
    assert _changed(out) == []
    assert store.load_manifest(out)["started"].startswith("19")


def test_a_writer_replaces_a_stale_digest(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    m = {"format": store.FORMAT, "name": "a", "axes": {a: list(v) for a, v in TINY.axes().items()}}
    store.write_manifest(run, {**m, DIGEST: {"name": "0" * 16}})
    assert _changed(run) == []
