"""The generated project installs as a normal (non-editable) package and serves from anywhere.

The user-owned Dockerfile installs the project (`pip install .`), so the wheel must carry the
routes, the runtime and every wrapper file, data files and sub-packages included; its bytecode
step must leave nothing for the service to compile when it starts. Both are checked here
without a Docker engine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
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


# Imports app.main with every compile() of a source file recorded: the interpreter compiles a
# module's source only when it has no usable bytecode for it.
COMPILE_SPY = """
import builtins, json, os, sys
root = os.getcwd() + os.sep
seen = []
real = builtins.compile
def spy(source, filename, *args, **kwargs):
    seen.append(os.fspath(filename))
    return real(source, filename, *args, **kwargs)
builtins.compile = spy
sys.path.insert(0, os.getcwd())
import app.main
builtins.compile = real
print(json.dumps(sorted(os.path.relpath(f) for f in seen if f.startswith(root))))
"""


def _run(cmd: list[str], out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=out, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _sources_compiled_at_start(out: Path, env: dict[str, str]) -> list[str]:
    started = _run([sys.executable, "-c", COMPILE_SPY], out, env)
    assert started.returncode == 0, started.stderr
    compiled: list[str] = json.loads(started.stdout.splitlines()[-1])
    return compiled


def test_dockerfile_bytecode_step_leaves_nothing_to_compile_at_start(tmp_path: Path) -> None:
    wrappers = tmp_path / "wrappers"
    shutil.copytree(GOLDEN / "relative_imports" / "wrappers", wrappers)
    # A module no route imports and Python cannot compile: served (with a warning), as Hayhooks
    # serves it, so the image build must not fail on it.
    (wrappers / "with_helper" / "scratch.py").write_text("return 1\n", "utf-8")
    out = build_service(wrappers, tmp_path / "svc")
    # As in the image: the Dockerfile's ENV, so Python caches no bytecode at run time.
    env = clean_env({"PYTHONDONTWRITEBYTECODE": "1"})

    before = _sources_compiled_at_start(out, env)
    assert "app/main.py" in before and "app/pipelines/with_helper/helper.py" in before

    dockerfile = (out / "Dockerfile").read_text("utf-8")
    step = re.search(r"\((python -m compileall [^)]*)\)", dockerfile)
    assert step is not None, dockerfile
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    ran = _run(["sh", "-c", f"({step.group(1)})"], out, env)
    assert ran.returncode == 0
    assert "scratch.py" in ran.stdout, ran.stdout + ran.stderr
    assert _sources_compiled_at_start(out, env) == []
