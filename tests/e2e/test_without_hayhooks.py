"""A generated service whose wrappers use only core names runs with Hayhooks absent.

The service is started under uvicorn in a subprocess whose ``sys.meta_path`` begins with a
finder that refuses ``hayhooks`` and ``haystack`` (and their submodules), and records every
attempt in a file. The OpenAI-compatible routes are then called over HTTP, streamed and not.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.servers import HOST, clean_env, serve

from .test_openai import _chat, _sse, _stream

pytestmark = pytest.mark.e2e

BLOCKED = ("hayhooks", "haystack")

# Runs ``python -c BLOCKER <uvicorn args>``: the finder is installed before anything else.
BLOCKER = f"""
import os, sys

BLOCKED = {BLOCKED!r}
LOG = os.environ["HHG_BLOCKED_IMPORTS_LOG"]


class RefuseBlocked:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(name + "\\n")
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None


sys.meta_path.insert(0, RefuseBlocked())
if sys.argv[1:] == ["--probe"]:
    import hayhooks  # must fail
    sys.exit(0)
import uvicorn

sys.exit(uvicorn.main())
"""

# Core-only cases with OpenAI routes: per case a chat call (model, message, answer) and the
# status of a Responses API call to the same model.
CASES = {
    "chat_and_run": ("chat_only", "yo", "Echo: yo", 501),
    "chat_streams": ("sync_gen", "a b c", "a b c", 501),
    "file_upload": ("b_store", "hello", "b_store chats", 501),
    "headers_optin": ("with_headers", "hi", "tenant=acme multi=[] host=service.test", 200),
    "responses_api": ("resp_sync_gen", "hi", "chat works too", 200),
}
# Sent with every call (read by headers_optin's wrapper, ignored by the others).
HEADERS = {"host": "service.test", "x-tenant": "acme"}


def _env(log: Path) -> dict[str, str]:
    return clean_env({"HHG_BLOCKED_IMPORTS_LOG": str(log)})


def test_blocker_refuses_hayhooks(tmp_path: Path) -> None:
    """The finder works: without it the tests below would prove nothing."""
    log = tmp_path / "blocked.log"
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, "--probe"],
        env=_env(log),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "No module named 'hayhooks' (blocked)" in proc.stderr
    assert log.read_text(encoding="utf-8").split() == ["hayhooks"]


@pytest.fixture(scope="module", params=sorted(CASES))
def blocked_service(
    request: pytest.FixtureRequest, build_case: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, httpx.Client, Path, Path]]:
    case: str = request.param
    out: Path = build_case(case)
    log = tmp_path_factory.mktemp(f"blocked-{case}") / "blocked.log"
    cmd = [sys.executable, "-c", BLOCKER, "app.main:app", "--host", HOST, "--log-level", "warning"]
    with serve(cmd, out, _env(log)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield case, client, out, log


def test_pyproject_does_not_depend_on_hayhooks(
    blocked_service: tuple[str, httpx.Client, Path, Path],
) -> None:
    _, _, out, _ = blocked_service
    with (out / "pyproject.toml").open("rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0] for dep in deps}
    assert "fastapi-openai-compat" in names
    assert not names & {"hayhooks", "haystack-ai"}, deps


def test_openai_routes_serve_without_hayhooks(
    blocked_service: tuple[str, httpx.Client, Path, Path],
) -> None:
    case, client, _, log = blocked_service
    model, message, answer, responses_status = CASES[case]

    status = client.get("/status").json()
    models = client.get("/v1/models")
    assert models.status_code == 200, models.text
    assert [m["id"] for m in models.json()["data"]] == status["pipelines"]

    r = client.post("/v1/chat/completions", json=_chat(model, message), headers=HEADERS)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == answer

    code, ctype, body = _stream(
        client, "/v1/chat/completions", _chat(model, message, stream=True), HEADERS
    )
    assert (code, ctype) == (200, "text/event-stream; charset=utf-8")
    chunks = [data for _, data in _sse(body)]
    assert "".join(c["choices"][0]["delta"]["content"] or "" for c in chunks) == answer
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"

    for stream in (False, True):
        r = client.post(
            "/v1/responses", json={"model": model, "input": "hi", "stream": stream}, headers=HEADERS
        )
        assert r.status_code == responses_status, r.text

    upload = client.post(
        "/v1/files", data={"purpose": "assistants"}, files={"file": ("a.txt", b"abc", "text/plain")}
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["bytes"] == 3

    attempts = log.read_text(encoding="utf-8").split() if log.exists() else []
    assert attempts == [], f"the service tried to import {sorted(set(attempts))}"
