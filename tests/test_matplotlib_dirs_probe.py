"""vanishlab.report.matplotlib_dirs' probe of matplotlib's folders under a stop."""

from __future__ import annotations

import signal
import sys
import tempfile

import pytest

from vanishlab.report import matplotlib_dirs


def test_a_ctrl_c_as_the_probe_is_made_acts_once_it_is_removed(tmp_path, monkeypatch):
    """The folder made and removed to learn whether matplotlib's folders can be written: a
    Ctrl-C that came between the two left ``.vanishlab-probe-*`` in the user's folder (helper
    368); it is held until the probe is gone, as the dry run's is (preflight)."""
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args: object, **kwargs: object) -> str:
        made = real_mkdtemp(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # as the probe is made
        return made

    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)  # as before its first import
    for name in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(matplotlib_dirs.tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(KeyboardInterrupt):
        matplotlib_dirs.quiet_matplotlib_dirs()
    assert list(tmp_path.iterdir()) == []
