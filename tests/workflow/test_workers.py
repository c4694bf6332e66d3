"""The generated service runs unchanged with several worker processes: every route answers in
every worker, under `uvicorn --workers 2`, gunicorn with uvicorn workers, and `fastapi run`.

Workers are told apart by a wrapper returning ``os.getpid()`` and by an ``x-worker-pid``
header that ``hooks.py`` adds to every response. Requests use a new connection each, so the
kernel spreads them over the workers; every loop is bounded.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import httpx
import pytest

from support.servers import HOST, clean_env, serve

from ._helpers import ECHO_WRAPPER, HOOKS, cli, ok, write_wrapper

pytestmark = pytest.mark.e2e

WORKERS = 2
MAX_REQUESTS_PER_ROUTE = 200

PID_WRAPPER = '''\
import os

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.setup_pid = os.getpid()

    def run_api(self) -> dict:
        """Which worker process answers, and which one ran setup()."""
        return {"pid": os.getpid(), "setup_pid": self.setup_pid}
'''

# (method, path, JSON body): every route of the service, and the documentation routes.
ROUTES = [
    ("GET", "/status", None),
    ("GET", "/status/echo", None),
    ("GET", "/status/pid", None),
    ("POST", "/echo/run", {"text": "hi"}),
    ("POST", "/pid/run", {}),
    ("GET", "/openapi.json", None),
    ("GET", "/docs", None),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workers")
    write_wrapper(root / "wrappers", "echo", ECHO_WRAPPER)
    write_wrapper(root / "wrappers", "pid", PID_WRAPPER)
    ok(cli("build", "wrappers", "-o", "service", cwd=root))
    (root / "service" / "app" / "hooks.py").write_text(HOOKS, encoding="utf-8")
    return root / "service"


def _worker_pids(url: str) -> set[int]:
    pids: set[int] = set()
    for _ in range(MAX_REQUESTS_PER_ROUTE):
        response = httpx.post(f"{url}/pid/run", json={}, timeout=30)
        body = response.json()["result"]
        assert body["pid"] == body["setup_pid"] == int(response.headers["x-worker-pid"])
        pids.add(body["pid"])
        if len(pids) == WORKERS:
            break
    return pids


def _assert_every_route_answers_in_every_worker(url: str) -> None:
    workers = _worker_pids(url)
    assert len(workers) == WORKERS, f"saw workers {workers} in {MAX_REQUESTS_PER_ROUTE} requests"
    for method, path, body in ROUTES:
        answered: set[int] = set()
        for _ in range(MAX_REQUESTS_PER_ROUTE):
            response = httpx.request(method, f"{url}{path}", json=body, timeout=30)
            assert response.status_code == 200, (method, path, response.text)
            answered.add(int(response.headers["x-worker-pid"]))
            if answered >= workers:
                break
        assert answered == workers, f"{method} {path} answered by {answered}, workers {workers}"


def test_uvicorn_workers(service: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        HOST,
        "--port",
        "{port}",
        "--ws",
        "none",
        "--workers",
        str(WORKERS),
        "--log-level",
        "warning",
    ]
    with serve(cmd, service, clean_env()) as url:
        _assert_every_route_answers_in_every_worker(url)


def test_gunicorn_with_uvicorn_workers(service: Path) -> None:
    pytest.importorskip("gunicorn")
    if importlib.util.find_spec("uvicorn_worker") is not None:
        worker_class = "uvicorn_worker.UvicornWorker"
    else:  # deprecated in uvicorn, still shipped
        worker_class = "uvicorn.workers.UvicornWorker"
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "app.main:app",
        "-k",
        worker_class,
        "-w",
        str(WORKERS),
        "-b",
        f"{HOST}:{{port}}",
    ]
    with serve(cmd, service, clean_env()) as url:
        _assert_every_route_answers_in_every_worker(url)


def test_fastapi_run_workers(service: Path) -> None:
    pytest.importorskip("fastapi_cli")
    cmd = [
        sys.executable,
        "-m",
        "fastapi",
        "run",
        "app/main.py",
        "--host",
        HOST,
        "--port",
        "{port}",
        "--workers",
        str(WORKERS),
    ]
    with serve(cmd, service, clean_env()) as url:
        _assert_every_route_answers_in_every_worker(url)
