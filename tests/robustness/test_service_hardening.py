"""Issue 4, the generated service under hostile traffic (uvicorn on 127.0.0.1, real HTTP).

- schemathesis fuzzes golden services whose wrappers do not raise: no 5xx, responses conform;
- a client that disconnects mid-stream closes the wrapper's generator (sync and async);
- 1,000 streamed requests leak no file descriptors or threads;
- a slow sync ``run_api`` does not block the event loop;
- multipart uploads are spooled to disk, and ``HAYHOOKS_GEN_MAX_BODY_BYTES`` answers 413;
- error bodies carry no traceback unless ``HAYHOOKS_SHOW_TRACEBACKS=true``.

Every loop is bounded in count and in time; no assertion is about a duration.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from support.fixtures import BuildFn
from support.servers import clean_env, serve_generated

from ._helpers import build_ok, write_tree

pytestmark = pytest.mark.e2e

HTTP_TIMEOUT_S = 30.0
POLL_S = 0.02
MARKER_WAIT_S = 15.0
SCHEMATHESIS_TIMEOUT_S = 300.0
SCHEMATHESIS_EXAMPLES = 25
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
FUZZ_CASES = ["json_basic", "json_types", "async_methods", "uploads", "generators"]


def wait_for(predicate: Callable[[], bool], timeout_s: float = MARKER_WAIT_S) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passes (bounded in count too)."""
    deadline = time.monotonic() + timeout_s
    for _ in range(int(timeout_s / POLL_S) + 1):
        if predicate():
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    return predicate()


# ------------------------------------------------------------------------------- schemathesis


def _schemathesis(url: str, report_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{url}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--max-examples",
            str(SCHEMATHESIS_EXAMPLES),
            "--generation-deterministic",
            "--no-shrink",
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
            "--report-dir",
            os.fspath(report_dir),
            *extra,
        ],
        cwd=os.fspath(report_dir),
        env=clean_env({"SCHEMATHESIS_HOOKS": os.fspath(HOOKS), "HOME": os.fspath(report_dir)}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SCHEMATHESIS_TIMEOUT_S,
        check=False,
    )


@pytest.mark.parametrize("case", FUZZ_CASES)
def test_schemathesis_no_server_errors_and_conforming_responses(
    case: str, build_case: BuildFn, tmp_path: Path
) -> None:
    out = build_case(case)
    with serve_generated(out) as url:
        result = _schemathesis(url, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis found problems in {case}:\n{output[-6000:]}"
    assert "passed" in output and "generated" in output, output[-3000:]


def test_schemathesis_harness_reports_server_errors(server: Running, tmp_path: Path) -> None:
    """The fuzzing harness can fail: on a wrapper that raises, it reports the 500s."""
    result = _schemathesis(server.url, tmp_path, "--include-path", "/fail/run")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Server error" in output, output[-3000:]


# ------------------------------------------------------------------------------- test wrappers


def _wrapper(imports: str, methods: str) -> str:
    """A pipeline_wrapper.py: ``imports``, then PipelineWrapper with setup() and ``methods``."""
    return (
        "from hayhooks import BasePipelineWrapper\n"
        + textwrap.dedent(imports)
        + "\n\nclass PipelineWrapper(BasePipelineWrapper):\n"
        "    def setup(self) -> None:\n"
        "        self.pipeline = None\n\n" + textwrap.indent(methods.lstrip("\n"), "    ")
    )


STREAM_SYNC = '''
def run_api(
    self, marker: str = "", n: int = 5, delay: float = 0.0
) -> Generator[str, None, None]:
    """Stream n chunks; write `marker` if closed before the end."""
    try:
        for i in range(n):
            if delay:
                time.sleep(delay)
            yield f"chunk-{i}\\n"
    except GeneratorExit:
        if marker:
            Path(marker).write_text("closed early", encoding="utf-8")
        raise
'''
STREAM_ASYNC = '''
async def run_api_async(
    self, marker: str = "", n: int = 5, delay: float = 0.0
) -> AsyncGenerator[str, None]:
    """Stream n chunks asynchronously; write `marker` if closed before the end."""

    async def chunks() -> AsyncGenerator[str, None]:
        try:
            for i in range(n):
                if delay:
                    await asyncio.sleep(delay)
                yield f"chunk-{i}\\n"
        except (GeneratorExit, asyncio.CancelledError):
            if marker:
                Path(marker).write_text("closed early", encoding="utf-8")
            raise

    return chunks()
'''
SLOW = '''
def run_api(self, started: str, release: str, max_polls: int = 3000) -> dict:
    """Block this worker thread (time.sleep) until `release` exists (bounded)."""
    Path(started).write_text("started", encoding="utf-8")
    for _ in range(max_polls):
        if Path(release).exists():
            return {"released": True}
        time.sleep(0.01)
    return {"released": False}
'''
UPLOAD = '''
def run_api(self, files: list[UploadFile], note: str = "") -> dict:
    """Describe each upload without reading it into memory."""
    described = []
    for f in files:
        f.file.seek(0, 2)
        described.append(
            {
                "name": f.filename,
                "size": f.file.tell(),
                "type": type(f.file).__name__,
                "rolled": bool(getattr(f.file, "_rolled", False)),
            }
        )
    return {"files": described, "note": note}
'''

WRAPPERS: dict[str, str] = {
    "stream_sync/pipeline_wrapper.py": _wrapper(
        "import time\nfrom collections.abc import Generator\nfrom pathlib import Path\n",
        STREAM_SYNC,
    ),
    "stream_async/pipeline_wrapper.py": _wrapper(
        "import asyncio\nfrom collections.abc import AsyncGenerator\nfrom pathlib import Path\n",
        STREAM_ASYNC,
    ),
    "slow/pipeline_wrapper.py": _wrapper("import time\nfrom pathlib import Path\n", SLOW),
    "quick_async/pipeline_wrapper.py": _wrapper(
        "", "async def run_api_async(self, x: int = 1) -> int:\n    return x + 1\n"
    ),
    "upload/pipeline_wrapper.py": _wrapper("from fastapi import UploadFile\n", UPLOAD),
    "echo/pipeline_wrapper.py": _wrapper(
        "", 'def run_api(self, text: str) -> dict:\n    return {"length": len(text)}\n'
    ),
    "fail/pipeline_wrapper.py": _wrapper(
        "", 'def run_api(self, message: str = "boom") -> dict:\n    raise ValueError(message)\n'
    ),
    "fail_async/pipeline_wrapper.py": _wrapper(
        "",
        'async def run_api_async(self, message: str = "boom") -> dict:\n'
        "    raise KeyError(message)\n",
    ),
    "fail_stream/pipeline_wrapper.py": _wrapper(
        "from collections.abc import Generator\n",
        "def run_api(self) -> Generator[str, None, None]:\n"
        '    yield "first\\n"\n'
        '    raise RuntimeError("mid-stream failure")\n',
    ),
    "info/pipeline_wrapper.py": _wrapper(
        "import os\n",
        'def run_api(self) -> dict:\n    """The server pid, to read /proc/<pid>."""\n'
        '    return {"pid": os.getpid()}\n',
    ),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hardening")
    wrappers = write_tree(root / "wrappers", WRAPPERS)
    out = root / "out"
    build_ok(wrappers, out)
    return out


@dataclass
class Running:
    url: str
    client: httpx.Client
    pid: int
    markers: Path

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        assert parts.hostname == "127.0.0.1" and parts.port is not None
        return parts.hostname, parts.port


@contextlib.contextmanager
def running(out: Path, markers: Path, env: dict[str, str] | None = None) -> Iterator[Running]:
    markers.mkdir(parents=True, exist_ok=True)
    with (
        serve_generated(out, env) as url,
        httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S) as client,
    ):
        r = client.post("/info/run", json={})
        assert r.status_code == 200, r.text
        yield Running(url, client, int(r.json()["result"]["pid"]), markers)


@pytest.fixture(scope="module")
def server(service: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running(service, tmp_path_factory.mktemp("markers")) as srv:
        yield srv


# ------------------------------------------------------------------------------- disconnects


def _raw_post(host_port: tuple[str, int], path: str, body: dict[str, Any]) -> socket.socket:
    payload = json.dumps(body).encode()
    sock = socket.create_connection(host_port, timeout=HTTP_TIMEOUT_S)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    sock.sendall(head + payload)
    return sock


def _read_until(sock: socket.socket, needle: bytes, max_reads: int = 1000) -> bytes:
    data = b""
    for _ in range(max_reads):
        if needle in data:
            break
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("pipeline", ["stream_sync", "stream_async"])
def test_client_disconnect_mid_stream_closes_the_generator(pipeline: str, server: Running) -> None:
    marker = server.markers / f"{pipeline}-disconnect"
    body = {"marker": os.fspath(marker), "n": 100_000, "delay": 0.005}
    sock = _raw_post(server.host_port, f"/{pipeline}/run", body)
    try:
        received = _read_until(sock, b"chunk-3\n")
    finally:
        sock.close()
    assert received.startswith(b"HTTP/1.1 200"), received[:300]
    assert b"chunk-3\n" in received, received[-300:]
    assert wait_for(marker.exists), f"{pipeline}: generator not closed after the client left"
    assert marker.read_text() == "closed early"
    # the server is still healthy
    assert server.client.get("/status").status_code == 200


# ------------------------------------------------------------------------------- leaks

LEAK_WARMUP = 100
LEAK_REQUESTS = 1000
LEAK_CONCURRENCY = 4
FD_TOLERANCE = 8
THREAD_TOLERANCE = 4


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line")


def _stream_batch(url: str, count: int, worker: int) -> list[str]:
    """``count`` streamed requests on one connection at a time; every 10th is abandoned."""
    problems: list[str] = []
    client = httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S)
    try:
        for i in range(count):
            pipeline = "stream_sync" if (i + worker) % 2 else "stream_async"
            with client.stream("POST", f"/{pipeline}/run", json={"n": 20}) as r:
                if r.status_code != 200:
                    problems.append(f"{pipeline}: {r.status_code}")
                    continue
                if i % 10 == 9:  # abandon mid-stream: the connection is closed
                    next(r.iter_raw(), None)
                    continue
                body = r.read()
                if body.count(b"chunk-") != 20:
                    problems.append(f"{pipeline}: truncated body {body[-40:]!r}")
            if i % 50 == 49:  # and reconnect regularly
                client.close()
                client = httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S)
    finally:
        client.close()
    return problems


def _run_streams(url: str, total: int) -> list[str]:
    per_worker = total // LEAK_CONCURRENCY
    with ThreadPoolExecutor(LEAK_CONCURRENCY) as pool:
        futures = [pool.submit(_stream_batch, url, per_worker, w) for w in range(LEAK_CONCURRENCY)]
        return [p for f in futures for p in f.result(timeout=600)]


def test_no_fd_or_thread_leak_across_1000_streamed_requests(service: Path, tmp_path: Path) -> None:
    with running(service, tmp_path / "markers") as srv:
        assert not _run_streams(srv.url, LEAK_WARMUP)
        fds_before, threads_before = _fds(srv.pid), _threads(srv.pid)
        problems = _run_streams(srv.url, LEAK_REQUESTS)
        assert not problems, problems[:20]
        settled = wait_for(
            lambda: (
                _fds(srv.pid) <= fds_before + FD_TOLERANCE
                and _threads(srv.pid) <= threads_before + THREAD_TOLERANCE
            ),
            timeout_s=10,
        )
        fds_after, threads_after = _fds(srv.pid), _threads(srv.pid)
        assert settled, (
            f"after {LEAK_REQUESTS} streamed requests: fds {fds_before} -> {fds_after}, "
            f"threads {threads_before} -> {threads_after}"
        )
        assert srv.client.get("/status").status_code == 200


# ------------------------------------------------------------------------------- event loop


def test_slow_sync_run_api_does_not_block_the_event_loop(server: Running) -> None:
    """Two sync run_api calls block their threads; /status and an async route still answer."""
    names = [f"slow-{i}" for i in range(2)]
    started = {n: server.markers / f"{n}.started" for n in names}
    release = server.markers / "slow.release"
    results: dict[str, httpx.Response] = {}

    def call(name: str) -> None:
        with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT_S + 10) as c:
            results[name] = c.post(
                "/slow/run",
                json={"started": os.fspath(started[name]), "release": os.fspath(release)},
            )

    threads = [threading.Thread(target=call, args=(n,), daemon=True) for n in names]
    for t in threads:
        t.start()
    try:
        assert wait_for(lambda: all(p.exists() for p in started.values())), (
            "both slow calls should be inside run_api at once (thread pool)"
        )
        status = server.client.get("/status")
        quick = server.client.post("/quick_async/run", json={"x": 41})
        # ordering: both answered while every slow call is still blocked in its thread
        still_blocked = [n for n in names if n not in results]
        assert status.status_code == 200, status.text
        assert quick.status_code == 200 and quick.json() == {"result": 42}, quick.text
        assert still_blocked == names, f"slow calls finished before release: {results}"
    finally:
        release.write_text("go")
        for t in threads:
            t.join(timeout=HTTP_TIMEOUT_S + 15)
    assert all(results[n].json() == {"result": {"released": True}} for n in names), results


# ------------------------------------------------------------------------------- uploads

MB = 1024 * 1024
LIMIT = 2 * MB


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS: line")


def _zeros(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    for _ in range(total // chunk):
        yield b"\0" * chunk


def test_large_upload_is_spooled_to_disk(server: Running) -> None:
    size = 20 * MB
    rss_before = _rss_kib(server.pid)
    r = server.client.post(
        "/upload/run",
        files=[("files", ("big.bin", b"\0" * size, "application/octet-stream"))],
        data={"note": "n"},
    )
    assert r.status_code == 200, r.text[:500]
    (described,) = r.json()["result"]["files"]
    assert described == {
        "name": "big.bin",
        "size": size,
        "type": "SpooledTemporaryFile",
        "rolled": True,  # past Starlette's 1 MiB spool: on disk, not in memory
    }
    growth_kib = _rss_kib(server.pid) - rss_before
    assert growth_kib < size // 1024 // 2, f"server RSS grew by {growth_kib} KiB for 20 MiB"


def test_small_upload_stays_in_memory_spool(server: Running) -> None:
    r = server.client.post("/upload/run", files=[("files", ("small.txt", b"hello", "text/plain"))])
    assert r.status_code == 200, r.text
    assert r.json()["result"]["files"] == [
        {"name": "small.txt", "size": 5, "type": "SpooledTemporaryFile", "rolled": False}
    ]


@pytest.fixture(scope="module")
def limited(service: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    env = {"HAYHOOKS_GEN_MAX_BODY_BYTES": str(LIMIT)}
    with running(service, tmp_path_factory.mktemp("limited"), env) as srv:
        yield srv


def _assert_413(r: httpx.Response) -> None:
    assert r.status_code == 413, f"{r.status_code}: {r.text[:300]}"
    assert r.json() == {"detail": "Request body too large"}


def test_upload_over_limit_with_content_length_is_413(limited: Running) -> None:
    files = [("files", ("big.bin", b"\0" * (LIMIT + MB), "application/octet-stream"))]
    _assert_413(limited.client.post("/upload/run", files=files))
    assert limited.client.get("/status").status_code == 200


def test_json_body_over_limit_is_413(limited: Running) -> None:
    _assert_413(limited.client.post("/echo/run", json={"text": "x" * (LIMIT + 10)}))


def _chunked_multipart(total: int) -> Iterator[bytes]:
    boundary = b"hhgboundary"
    yield (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="files"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    yield from _zeros(total)
    yield b"\r\n--" + boundary + b"--\r\n"


def test_upload_over_limit_chunked_is_413(limited: Running) -> None:
    """No Content-Length: the limit is counted while the body streams in."""
    headers = {"content-type": "multipart/form-data; boundary=hhgboundary"}
    try:
        r = limited.client.post(
            "/upload/run", content=_chunked_multipart(LIMIT + MB), headers=headers
        )
    except httpx.WriteError as exc:  # the server answered and closed before we finished
        pytest.fail(f"server closed the connection without a readable 413: {exc!r}")
    assert r.request.headers.get("transfer-encoding") == "chunked"
    _assert_413(r)
    assert limited.client.get("/status").status_code == 200


def test_upload_under_limit_is_accepted(limited: Running) -> None:
    headers = {"content-type": "multipart/form-data; boundary=hhgboundary"}
    r = limited.client.post("/upload/run", content=_chunked_multipart(MB), headers=headers)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["result"]["files"][0]["size"] == MB


def test_no_limit_by_default(server: Running) -> None:
    r = server.client.post("/echo/run", json={"text": "x" * (LIMIT + 10)})
    assert r.status_code == 200 and r.json() == {"result": {"length": LIMIT + 10}}


# ------------------------------------------------------------------------------- tracebacks


@pytest.fixture(scope="module")
def with_tracebacks(service: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    env = {"HAYHOOKS_SHOW_TRACEBACKS": "true"}
    with running(service, tmp_path_factory.mktemp("tb"), env) as srv:
        yield srv


ERROR_REQUESTS = [
    ("/fail/run", {"message": "secret-boom"}, 500, "Pipeline execution failed: secret-boom"),
    ("/fail_async/run", {"message": "k"}, 500, "Pipeline execution failed: 'k'"),
    ("/echo/run", {"text": 1}, 422, None),
    ("/echo/run", {}, 422, None),
]


def test_error_bodies_have_no_traceback_by_default(server: Running) -> None:
    for path, body, status, detail in ERROR_REQUESTS:
        r = server.client.post(path, json=body)
        assert r.status_code == status, (path, r.text)
        assert "Traceback" not in r.text and 'File "' not in r.text, (path, r.text)
        if detail is not None:
            assert r.json() == {"detail": detail}, r.text
    bad_json = server.client.post(
        "/echo/run", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 422 and "Traceback" not in bad_json.text
    # a generator failing after its first chunk: the stream is cut, nothing leaks into it
    received: list[bytes] = []
    with server.client.stream("POST", "/fail_stream/run", json={}) as r:
        assert r.status_code == 200
        try:
            for chunk in r.iter_raw():
                received.append(chunk)
        except httpx.RemoteProtocolError:  # incomplete chunked body: the expected cut
            pass
    body = b"".join(received)
    assert body.startswith(b"first\n"), body
    assert b"Traceback" not in body and b"mid-stream failure" not in body, body


def test_error_bodies_have_a_traceback_when_enabled(with_tracebacks: Running) -> None:
    r = with_tracebacks.client.post("/fail/run", json={"message": "secret-boom"})
    assert r.status_code == 500
    detail = r.json()["detail"]
    assert detail.startswith("Pipeline execution failed: secret-boom\nTraceback"), detail
    assert "ValueError: secret-boom" in detail
