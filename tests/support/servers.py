"""Start real HTTP servers (Hayhooks and generated services) on 127.0.0.1 for tests.

Every wait here is bounded in count and in time. Servers only ever listen on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = REPO_ROOT / "golden"
GENERATOR_SRC = REPO_ROOT / "generator"

HOST = "127.0.0.1"
START_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.05
STOP_TIMEOUT_S = 5.0
BUILD_TIMEOUT_S = 120.0
# A free port can be taken by another process between picking it and the server binding it.
PORT_ATTEMPTS = 3
STDERR_TAIL_CHARS = 4000


class ServerStartError(RuntimeError):
    """The server process exited or did not answer ``GET /status`` in time."""

    def __init__(self, message: str, stderr_tail: str) -> None:
        super().__init__(f"{message}\n--- stderr/stdout tail ---\n{stderr_tail}")
        self.stderr_tail = stderr_tail


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def clean_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment without any ``HAYHOOKS_*`` variable, plus ``overrides``.

    Both servers of a parity pair get the same ``HAYHOOKS_*`` settings only from the test.
    """
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HAYHOOKS_")}
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_COLOR"] = "1"
    if overrides:
        env.update(overrides)
    return env


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return "<no output captured>"
    return data[-STDERR_TAIL_CHARS:].decode("utf-8", errors="replace")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def _with_port(cmd: Sequence[str], port: int) -> list[str]:
    if any("{port}" in part for part in cmd):
        return [part.replace("{port}", str(port)) for part in cmd]
    return [*cmd, "--port", str(port)]


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> str | None:
    """None when ``GET /status`` answered; otherwise why the start failed."""
    deadline = time.monotonic() + START_TIMEOUT_S
    max_polls = int(START_TIMEOUT_S / POLL_INTERVAL_S) + 1
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        for _ in range(max_polls):
            if proc.poll() is not None:
                return f"server exited with code {proc.returncode} before answering GET /status"
            try:
                client.get("/status")
            except httpx.TransportError:
                pass
            else:
                return None
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL_INTERVAL_S)
    return f"server did not answer GET /status within {START_TIMEOUT_S:.0f} s"


@contextlib.contextmanager
def serve(
    cmd: Sequence[str],
    cwd: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> Iterator[str]:
    """Start ``cmd`` on a free 127.0.0.1 port, wait for ``GET /status``, yield the base URL.

    ``cmd`` gets ``--port N`` appended, or its ``{port}`` placeholders replaced. Its output goes
    to a temporary file whose tail is part of the error when the start fails, or to
    ``log_file`` (for the caller to read once the block ends). On exit the process is
    terminated, then killed if it has not stopped within a few seconds.
    """
    full_env = dict(env) if env is not None else clean_env()
    with tempfile.TemporaryDirectory(prefix="hhg-serve-") as logdir:
        last_error: ServerStartError | None = None
        for attempt in range(PORT_ATTEMPTS):
            port = free_port()
            base_url = f"http://{HOST}:{port}"
            log_path = log_file or Path(logdir) / f"server-{attempt}.log"
            with log_path.open("wb") as log_file:
                proc = subprocess.Popen(
                    _with_port(cmd, port),
                    cwd=os.fspath(cwd),
                    env=full_env,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            try:
                failure = _wait_ready(proc, base_url, log_path)
                if failure is None:
                    yield base_url
                    return
            finally:
                _stop(proc)
            tail = _tail(log_path)
            last_error = ServerStartError(f"{failure}: {' '.join(cmd)} (cwd={cwd})", tail)
            if "address already in use" not in tail.lower():
                break
        assert last_error is not None
        raise last_error


def uvicorn_cmd(app: str, *, factory: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "uvicorn", app]
    if factory:
        cmd.append("--factory")
    return [*cmd, "--host", HOST, "--log-level", "warning"]


@contextlib.contextmanager
def serve_hayhooks(
    wrappers_dir: str | os.PathLike[str],
    extra_env: Mapping[str, str] | None = None,
    cwd_files: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Hayhooks 2.1.0 (the oracle) serving ``wrappers_dir`` in durable mode (fixed pipeline set).

    Otherwise Hayhooks' defaults (monitoring on, as /status reports), but no tracing; the
    dashboard credentials it then writes go to a temporary cache folder. ``cwd_files`` (name
    -> text) are written into its working folder first (a ``.env``, say)."""
    with tempfile.TemporaryDirectory(prefix="hhg-hayhooks-") as cwd:
        for name, text in (cwd_files or {}).items():
            Path(cwd, name).write_text(text, encoding="utf-8")
        env = clean_env(
            {
                "HAYHOOKS_PIPELINES_DIR": os.fspath(Path(wrappers_dir).resolve()),
                "HAYHOOKS_DURABLE_MODE": "true",
                "HAYHOOKS_TRACING_ENABLED": "false",
                "XDG_CACHE_HOME": os.path.join(cwd, ".cache"),
                **(extra_env or {}),
            }
        )
        with serve(uvicorn_cmd("hayhooks.server.app:create_app", factory=True), cwd, env) as url:
            yield url


@contextlib.contextmanager
def serve_generated(
    out_dir: str | os.PathLike[str],
    extra_env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> Iterator[str]:
    """The generated service in ``out_dir`` (``app.main:app``), run from ``out_dir`` with the
    option its start command documents (``--ws none``)."""
    env = clean_env(dict(extra_env or {}))
    with serve([*uvicorn_cmd("app.main:app"), "--ws", "none"], out_dir, env, log_file) as url:
        yield url


def build_env() -> dict[str, str]:
    """Environment for the generator CLI: works installed, or from the source tree."""
    env = clean_env()
    env["PYTHONPATH"] = os.fspath(GENERATOR_SRC)
    return env


def run_cli(
    *args: str, cwd: str | os.PathLike[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hayhooks_gen", *args],
        cwd=os.fspath(cwd) if cwd is not None else None,
        env=build_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )


def build_service(wrappers_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
    """Run ``hayhooks_gen build WRAPPERS -o OUT``; assert exit 0; return ``out_dir``."""
    out = Path(out_dir)
    result = run_cli("build", os.fspath(wrappers_dir), "-o", os.fspath(out))
    assert result.returncode == 0, (
        f"hayhooks_gen build {wrappers_dir} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-STDERR_TAIL_CHARS:]}\n"
        f"--- stderr ---\n{result.stderr[-STDERR_TAIL_CHARS:]}"
    )
    assert (out / "app" / "main.py").is_file(), f"build wrote no {out / 'app' / 'main.py'}"
    return out


def golden_cases(*, include_errors: bool = False) -> list[str]:
    """Names of ``golden/<case>/`` folders that hold a ``wrappers/`` folder, sorted."""
    if not GOLDEN_DIR.is_dir():
        return []
    return sorted(
        p.name
        for p in GOLDEN_DIR.iterdir()
        if p.is_dir()
        and (p / "wrappers").is_dir()
        and (include_errors or not p.name.startswith("error_"))
    )


def wrappers_dir(case: str) -> Path:
    return GOLDEN_DIR / case / "wrappers"
