"""The generated code (not the copied wrappers) passes ruff and mypy --strict, under the
settings the generated pyproject.toml declares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ruff.__main__ import find_ruff_bin

from golden_cases import GOLDEN

SERVICES = sorted(p for p in GOLDEN.glob("*/expected") if (p / "pyproject.toml").is_file())


@pytest.mark.parametrize("service", SERVICES, ids=[p.parent.name for p in SERVICES])
def test_generated_code_passes_ruff_check(service: Path) -> None:
    proc = subprocess.run(
        [find_ruff_bin(), "check", "--no-cache", "."],  # the rules pyproject.toml selects
        cwd=service,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("service", SERVICES, ids=[p.parent.name for p in SERVICES])
def test_generated_code_passes_mypy_strict(
    service: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = tmp_path_factory.getbasetemp() / "mypy-cache"
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-error-summary"],
        cwd=service,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
