"""setuptools' build backend (``setuptools.build_meta``), with one change: ``build/lib`` is
emptied before a wheel is built.

setuptools stages the package in ``build/lib`` and puts whatever lies there into the wheel,
adding files and never removing any (pypa/setuptools#1871, open since 2019). ``pip install .``
builds in the checkout itself: run again after a ``git pull`` that deleted or renamed a module,
it installed the old module beside the new one (a deleted experiment was still listed by
``vanishlab experiments`` and run by name, and the manifest's code digest read the extra file).
``python -m build`` builds its wheel from the sdist in a folder of its own, and is unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 (the backend's other hooks, unchanged)

__all__ = [*_setuptools.__all__]  # build_wheel among them, defined below


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, str | list[str]] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """``setuptools.build_meta.build_wheel`` from an empty ``build/lib`` (the working
    directory is the source tree's, as PEP 517 says)."""
    shutil.rmtree(Path("build", "lib"), ignore_errors=True)
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
