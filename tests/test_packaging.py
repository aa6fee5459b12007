"""The editable install `make` does: setuptools' default (lenient) mode with a plain .pth file pointing at the
project folder (what imports from a clone rely on), and no warning on the way (the 'compat' editable mode
printed a boxed deprecation warning on every fresh `make run`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_makefile_installs_in_the_default_editable_mode() -> None:
    install = [line for line in (ROOT / "Makefile").read_text().splitlines() if "pip install" in line and "-e" in line]
    assert len(install) == 1 and "editable_mode" not in install[0] and "--config-settings" not in install[0]


def test_the_editable_wheel_is_a_pth_to_the_project_and_builds_without_a_warning(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "assistant", project / "assistant")
    build = "from setuptools import build_meta; print(build_meta.build_editable('out'))"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", build], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]  # -W error: any warning (the compat one) fails the build
    wheel = zipfile.ZipFile(project / "out" / done.stdout.split()[-1])
    pth = [n for n in wheel.namelist() if n.endswith(".pth")]
    assert len(pth) == 1 and wheel.read(pth[0]).decode().strip() == str(project)
    assert not [n for n in wheel.namelist() if "finder" in n]  # no import hook: a plain path entry
