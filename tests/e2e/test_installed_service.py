"""The generated project installs as a normal (non-editable) package and serves from anywhere.

This is what the user-owned Dockerfile does (`pip install .`, then uvicorn from another
folder), checked without a Docker engine: the wheel must carry the routes, the runtime and
every wrapper file, data files and sub-packages included.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support.servers import build_service, clean_env, serve

GOLDEN = Path(__file__).resolve().parents[2] / "golden"

pytestmark = pytest.mark.e2e


def test_wheel_of_the_service_serves_wrapper_data_files(tmp_path: Path) -> None:
    out = build_service(GOLDEN / "relative_imports" / "wrappers", tmp_path / "svc")
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (site / "app" / "pipelines" / "with_helper" / "data" / "words.txt").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env({"PYTHONPATH": str(site)})
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
    with serve(cmd, cwd=elsewhere, env=env) as url:
        answer = httpx.post(
            f"{url}/with_helper/run", json={"name": "Ann", "loud": True}, timeout=30
        )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "result": {"text": "HELLO ANN / BONJOUR ANN / HOLA ANN!", "languages": 3}
    }
