"""Matplotlib's config and cache folders, made writable before matplotlib is first imported.

Where they cannot be written (a read-only or missing home, an unwritable ``XDG_CACHE_HOME``,
or an ``MPLCONFIGDIR`` that cannot be made or written), matplotlib falls back to a temporary
folder of its own and says so in two lines of warning on stderr. :func:`quiet_matplotlib_dirs`
makes that fallback first: a private temporary folder, removed at exit, silently (one note line
for an ``MPLCONFIGDIR`` the user chose). It takes one too where matplotlib would make a home
folder that does not exist, as it may where it can (``HOME=/nonexistent``, root in a container:
/nonexistent/.config/matplotlib): a tool makes no home folder. Every module that may import
matplotlib first in a report calls it before: :mod:`.render` and :mod:`.text_metrics` (a page's
layout measures its titles before a figure is drawn).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..sweep.held_signals import signals_held
from ..sweep.progress import status_line

__all__ = ["quiet_matplotlib_dirs"]


def _writable(folder: Path) -> bool:
    """Whether ``folder`` is, or could be created as, a folder this process can write: a
    folder made and removed in its nearest existing one says so (as root, ``os.access`` says
    yes to /proc, where matplotlib then failed to make its folder and said so in two lines).
    A stop (Ctrl-C, SIGTERM, SIGHUP) waits until the probe is gone, as preflight's does: one
    that came between its making and its removal left it in the user's folder."""
    try:
        while not folder.exists():
            if folder.parent == folder:
                return False
            folder = folder.parent
        if not folder.is_dir():
            return False
        with signals_held():
            os.rmdir(tempfile.mkdtemp(prefix=".vanishlab-probe-", dir=folder))
        return True
    except OSError:  # a folder on the way that may not be searched, or written
        return False


def _made_writable(folder: Path) -> bool:
    """Whether ``folder`` exists or can be made, and can be written (:func:`_writable`), as
    matplotlib asks of an ``MPLCONFIGDIR``: it makes the folder itself."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return _writable(folder)


def _makes_no_home(folder: Path) -> bool:
    """Whether matplotlib can have ``folder`` without making the home folder: it exists, or
    lies outside the home, or the home exists. With ``HOME=/nonexistent`` (root in a container)
    it made /nonexistent/.config/matplotlib, and /nonexistent with it. One stat where the folder
    is there, as it is once matplotlib has run."""
    if folder.is_dir():
        return True
    try:
        home = Path.home()
    except RuntimeError:  # no home to make
        return True
    return not folder.is_relative_to(home) or home.is_dir()


def _matplotlib_dirs() -> list[Path] | None:
    """Matplotlib's default config and cache folders (as ``matplotlib.get_configdir`` and
    ``get_cachedir`` find them without ``MPLCONFIGDIR``), None when there is no home."""
    try:
        if sys.platform.startswith(("linux", "freebsd")):
            config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
            cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            return [Path(config, "matplotlib"), Path(cache, "matplotlib")]
        return [Path.home() / ".matplotlib"]
    except RuntimeError:  # Path.home(): no home directory to be found
        return None


def quiet_matplotlib_dirs() -> None:
    """Before matplotlib is first imported: when its folders cannot be written, point
    ``MPLCONFIGDIR`` at a private temporary folder (removed at exit). That is matplotlib's own
    fallback, made without its two lines of warning: silently where ``MPLCONFIGDIR`` is unset
    (matplotlib's default folders, e.g. a read-only home, or one that does not exist, which
    matplotlib would make: :func:`_makes_no_home`), and with one note line on stderr
    where the user set it to a folder that cannot be made or written."""
    if "matplotlib" in sys.modules or sys.platform == "win32":
        return
    chosen = os.environ.get("MPLCONFIGDIR")
    if chosen:
        if _made_writable(Path(chosen)):
            return
    else:
        found = _matplotlib_dirs()
        if found is not None and all(
            _makes_no_home(d) and _writable(Path(os.path.realpath(d))) for d in found
        ):
            return
    try:
        folder = tempfile.mkdtemp(prefix="matplotlib-")
    except OSError:
        return  # matplotlib says what is wrong itself
    os.environ["MPLCONFIGDIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    if chosen:  # a stderr that cannot take it is passed over, as every stderr line is
        status_line(
            f"note: MPLCONFIGDIR={chosen} cannot be written; matplotlib's cache is in a "
            "temporary folder for this run"
        )
