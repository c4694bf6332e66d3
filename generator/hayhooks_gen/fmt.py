"""Stage 4: format generated Python with ruff, isolated from any user configuration."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from ruff.__main__ import find_ruff_bin

# Explicit settings: a user's pyproject or ruff.toml can never change the output.
_SETTINGS = ("--isolated", "--line-length", "100", "--target-version", "py311", "--quiet")
RUFF_SORT_ARGS = ("check", *_SETTINGS, "--select", "I", "--fix", "--exit-zero")
RUFF_FORMAT_ARGS = ("format", *_SETTINGS)


def format_python(files: dict[str, bytes]) -> dict[str, bytes]:
    """Format every file (path -> source) with one ruff run; returns the formatted sources."""
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="hayhooks-gen-fmt-") as tmp:
        root = Path(tmp)
        for rel, content in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        ruff = find_ruff_bin()
        for args in (RUFF_SORT_ARGS, RUFF_FORMAT_ARGS):
            proc = subprocess.run(
                [ruff, *args, "."], cwd=root, capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                raise RuntimeError(f"ruff failed on generated code:\n{proc.stderr.strip()}")
        return {rel: (root / rel).read_bytes() for rel in files}
