"""Shared helpers of the workflow tests: git repositories, wrappers, the CLI in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from support.servers import REPO_ROOT, build_env

COMMAND_TIMEOUT_S = 300.0

ECHO_WRAPPER = '''\
from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str) -> dict:
        """Echo a text back."""
        return {"text": text}
'''

HOOKS = '''\
"""Customised by the tests: an x-worker-pid header on every response, and a guarded router."""

import os

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import security

extra = APIRouter()


@extra.get("/extra/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


class WorkerHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_pid(message: Message) -> None:
            if message["type"] == "http.response.start":
                pid = str(os.getpid()).encode()
                message["headers"] = [*message.get("headers", []), (b"x-worker-pid", pid)]
            await send(message)

        await self.app(scope, receive, send_with_pid)


def configure(app: FastAPI) -> None:
    app.add_middleware(WorkerHeader)
    app.include_router(extra, dependencies=security.pipeline_dependencies())
'''

ANSI_ESCAPE = "\x1b["


def git_env() -> dict[str, str]:
    env = build_env()
    env.update(
        {
            "GIT_AUTHOR_NAME": "test",
            "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "test",
            "GIT_COMMITTER_EMAIL": "test@example.invalid",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
    )
    return env


def run(
    cmd: Sequence[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        env=env if env is not None else git_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "hayhooks_gen", *args], cwd, env)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, (
        f"{proc.args} exited {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}\n"
        f"--- stderr ---\n{proc.stderr[-4000:]}"
    )
    return proc


def git_commit_all(repo: Path, message: str = "commit") -> None:
    if not (repo / ".git").exists():
        ok(run(["git", "init", "-q", "-b", "main"], repo))
    ok(run(["git", "add", "-A"], repo))
    ok(run(["git", "commit", "-q", "--no-verify", "-m", message], repo))


def write_wrapper(wrappers: Path, name: str, source: str = ECHO_WRAPPER) -> Path:
    folder = wrappers / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipeline_wrapper.py"
    path.write_text(source, encoding="utf-8")
    return path


def copy_hook_repository(dest: Path) -> Path:
    """A git repository holding this working tree's hayhooks-gen (what pre-commit installs).

    ``pre-commit try-repo`` on the real repository would only see committed and tracked
    files; a fresh commit of the working tree tests what is on disk now.
    """
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(REPO_ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")
    for name in ("generator", "templates"):
        shutil.copytree(REPO_ROOT / name, dest / name, ignore=ignore)
    git_commit_all(dest, "hayhooks-gen")
    return dest


def no_ansi(text: str) -> bool:
    return ANSI_ESCAPE not in text


def env_without(*names: str) -> dict[str, str]:
    env = build_env()
    for name in names:
        env.pop(name, None)
    return env
