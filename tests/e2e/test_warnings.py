"""End-to-end: the generated service under uvicorn prints no Python warning while it starts
and serves its first requests, even with every warning shown (``PYTHONWARNINGS=always``).

The request models say ``defer_build=True``; pydantic then finishes FastAPI's type adapters
on first use, outside the block in which FastAPI silences pydantic's warning about the body
parameter's alias. Without the service's own filter (``runtime.py``) the first request of
every case below printed ``UnsupportedFieldAttributeWarning``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from support.fixtures import BuildFn
from support.servers import serve_generated

pytestmark = pytest.mark.e2e

# case -> the first requests: the OpenAPI document (builds every schema), then one route
# validated and run (JSON, multipart, ``**kwargs``).
CASES: dict[str, list[tuple[str, dict[str, object]]]] = {
    "json_basic": [("/echo/run", {"json": {"query": "hi"}})],
    "uploads": [("/upload_one/run", {"files": [("files", ("a.txt", b"abc", "text/plain"))]})],
    "var_keyword": [("/options/run", {"json": {"query": "q", "kwargs": {"a": 1}}})],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_first_requests_print_no_warning(case: str, build_case: BuildFn, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    out = build_case(case)
    env = {"PYTHONWARNINGS": "always"}
    with serve_generated(out, env, log_file=log) as url, httpx.Client(base_url=url) as client:
        assert client.get("/openapi.json").status_code == 200
        for path, kwargs in CASES[case]:
            response = client.post(path, **kwargs)  # type: ignore[arg-type]
            assert response.status_code == 200, response.text
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Warning" not in text, text
