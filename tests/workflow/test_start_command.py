"""The start command the service documents (README "Run", the Dockerfile's CMD) passes
``--ws none``: no generated route is a WebSocket, so uvicorn should not load a WebSocket
library. Run here as documented, against uvicorn's defaults, and against Hayhooks for the
handshake (a deliberate difference, README "Deliberate differences")."""

from __future__ import annotations

import json
import re
import shlex
import socket
import sys
from pathlib import Path

import httpx
import pytest

from support.servers import HOST, clean_env, serve, serve_hayhooks

from ._helpers import ECHO_WRAPPER, cli, ok, write_wrapper

pytestmark = pytest.mark.e2e

# A route added by hooks.py: which WebSocket libraries the serving process has imported.
HOOKS = """\
import sys

from fastapi import FastAPI


def configure(app: FastAPI) -> None:
    @app.get("/ws-libraries")
    def ws_libraries() -> list[str]:
        return sorted(name for name in ("websockets", "wsproto") if name in sys.modules)
"""

HANDSHAKE = (
    "GET /status HTTP/1.1\r\n"
    "Host: {host}\r\n"
    "Connection: Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "\r\n"
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("start")
    write_wrapper(root / "wrappers", "echo", ECHO_WRAPPER)
    ok(cli("build", "wrappers", "-o", "service", cwd=root))
    (root / "service" / "app" / "hooks.py").write_text(HOOKS, encoding="utf-8")
    return root / "service"


def _readme_command(service: Path) -> list[str]:
    readme = (service / "README.md").read_text("utf-8")
    lines = [line.strip() for line in readme.splitlines() if line.startswith("    uvicorn ")]
    assert lines, "no uvicorn command in the README"
    return shlex.split(lines[0])


def _dockerfile_command(service: Path) -> list[str]:
    dockerfile = (service / "Dockerfile").read_text("utf-8")
    match = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert match, "no CMD in the Dockerfile"
    command: list[str] = json.loads(match.group(1))
    return command


def _options(command: list[str]) -> dict[str, str]:
    """``--name value`` pairs after the app, without the address (it differs on purpose)."""
    pairs = dict(zip(command[2::2], command[3::2], strict=True))
    return {k: v for k, v in pairs.items() if k not in ("--host", "--port")}


def _serving(command: list[str]) -> list[str]:
    """``command`` run by this interpreter on 127.0.0.1, on the port serve() picks."""
    assert command[0] == "uvicorn"
    options = [*command[2:]]
    options[options.index("--host") + 1] = HOST
    options[options.index("--port") + 1] = "{port}"
    return [sys.executable, "-m", "uvicorn", command[1], *options]


def _handshake_status(url: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(HANDSHAKE.format(host=f"{host}:{port}").encode())
        return conn.recv(4096).split(b"\r\n", 1)[0]


def test_readme_and_dockerfile_start_the_same_way(service: Path) -> None:
    readme, docker = _readme_command(service), _dockerfile_command(service)
    assert readme[:2] == docker[:2] == ["uvicorn", "app.main:app"]
    assert _options(readme) == _options(docker) == {"--ws": "none"}


def test_documented_command_loads_no_websocket_library(service: Path) -> None:
    pytest.importorskip("websockets")  # else uvicorn's defaults load none either
    with serve(_serving(_dockerfile_command(service)), service, clean_env()) as url:
        assert httpx.post(f"{url}/echo/run", json={"text": "hi"}, timeout=30).json() == {
            "result": {"text": "hi"}
        }
        assert httpx.get(f"{url}/ws-libraries", timeout=30).json() == []
        # the handshake is served as the plain GET it also is
        assert _handshake_status(url) == b"HTTP/1.1 200 OK"
    defaults = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", HOST]
    with serve(defaults, service, clean_env()) as url:
        assert "websockets" in httpx.get(f"{url}/ws-libraries", timeout=30).json()
        assert _handshake_status(url) == b"HTTP/1.1 403 Forbidden"


def test_hayhooks_refuses_the_handshake(tmp_path: Path) -> None:
    """Hayhooks (uvicorn's defaults, `websockets` installed with it) accepts the upgrade, then
    closes it for want of a WebSocket route: 403, where the documented command answers 200."""
    pytest.importorskip("websockets")
    write_wrapper(tmp_path / "wrappers", "echo", ECHO_WRAPPER)
    with serve_hayhooks(tmp_path / "wrappers") as url:
        assert _handshake_status(url) == b"HTTP/1.1 403 Forbidden"
