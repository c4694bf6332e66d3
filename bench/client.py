"""Benchmark client, always run as a separate process from the server it measures.

    python bench/client.py probe  --url http://127.0.0.1:PORT
    python bench/client.py stream --url http://127.0.0.1:PORT --count 3
    python bench/client.py load   --url http://127.0.0.1:PORT --scenario json -c 16 -d 5

Each command prints one JSON object on stdout. ``probe`` sends fixed requests (success,
validation error, wrapper error, CORS preflight) and reports status, content type, body and
headers, for run.py to compare across servers. ``stream`` reads ``POST /stream/run`` over a
raw socket (no HTTP library per-chunk overhead) and reports time to first body byte and
chunks per second. ``load`` is the fallback load generator when ``wrk`` is not installed: a
bounded async client (httpx); it is slower than wrk, so its figures are client-bound.

Every loop is bounded in count and in time; only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import socket
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit

ECHO_BODY = {"query": "what is hayhooks?", "top_k": 3}
UPLOAD_SIZE = 1024 * 1024
BOUNDARY = "hhgbenchboundary7MA4YWxkTrZu0gW"
ORIGIN = "http://client.example"
STREAM_CHUNKS = 10_000
MAX_STREAM_BYTES = 64 * 1024 * 1024


def upload_payload() -> bytes:
    """1 MiB, deterministic (the same pattern wrk sends)."""
    return b"0123456789abcdef" * (UPLOAD_SIZE // 16)


def multipart_body() -> bytes:
    return (
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="files"; filename="upload.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + upload_payload()
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"refusing to contact {host}: the bench only talks to 127.0.0.1")
    return "127.0.0.1", int(parts.port or 80)


# --------------------------------------------------------------------------------- probe


def _summarise_body(content_type: str, body: bytes) -> Any:
    if content_type.startswith("application/json"):
        try:
            return json.loads(body)
        except ValueError:
            pass
    return {
        "sha256": hashlib.sha256(body).hexdigest(),
        "bytes": len(body),
        "lines": body.count(b"\n"),
    }


def _request(
    host: str, port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> dict[str, Any]:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read(MAX_STREAM_BYTES + 1)
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
    ctype = hdrs.get("content-type", "")
    return {
        "status": resp.status,
        "content_type": ctype,
        "content_disposition": hdrs.get("content-disposition"),
        "body": _summarise_body(ctype, data),
        "x_request_id": bool(hdrs.get("x-request-id")),
        "access_control_allow_origin": hdrs.get("access-control-allow-origin"),
    }


def probe(url: str) -> dict[str, Any]:
    host, port = _host_port(url)
    js = {"Content-Type": "application/json", "Origin": ORIGIN}
    cases: list[tuple[str, str, str, bytes | None, dict[str, str]]] = [
        ("echo", "POST", "/echo/run", json.dumps(ECHO_BODY).encode(), js),
        ("echo_422", "POST", "/echo/run", b"{}", js),
        ("echo_500", "POST", "/echo/run", b'{"query": "x", "top_k": -1}', js),
        ("file", "POST", "/file/run", b"{}", js),
        ("stream", "POST", "/stream/run", b"{}", js),
        ("stream_3", "POST", "/stream/run", b'{"count": 3}', js),
        (
            "upload",
            "POST",
            "/upload/run",
            multipart_body(),
            {"Content-Type": MULTIPART_TYPE, "Origin": ORIGIN},
        ),
        (
            "cors_preflight",
            "OPTIONS",
            "/echo/run",
            None,
            {
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        ),
    ]
    return {name: _request(host, port, m, p, b, h) for name, m, p, b, h in cases}


# -------------------------------------------------------------------------------- stream


def _dechunk(raw: bytes) -> bytes:
    out = bytearray()
    pos = 0
    for _ in range(10 * STREAM_CHUNKS + 10):  # bounded: one iteration per chunk
        eol = raw.index(b"\r\n", pos)
        size = int(raw[pos:eol].split(b";", 1)[0], 16)
        if size == 0:
            return bytes(out)
        out += raw[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2
    raise ValueError("too many chunks")


def one_stream(host: str, port: int, body: bytes, timeout: float) -> dict[str, Any]:
    request = (
        f"POST /stream/run HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    buf = bytearray()
    t_first: float | None = None
    header_end = -1
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.perf_counter()
        deadline = t0 + timeout
        sock.sendall(request)
        while time.perf_counter() < deadline and len(buf) <= MAX_STREAM_BYTES:
            data = sock.recv(262144)
            if not data:
                break
            buf += data
            if t_first is None:
                if header_end < 0:
                    header_end = buf.find(b"\r\n\r\n")
                if header_end >= 0 and len(buf) > header_end + 4:
                    t_first = time.perf_counter()
        t_end = time.perf_counter()
    head, _, raw = bytes(buf).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    chunked = b"transfer-encoding: chunked" in head.lower()
    payload = _dechunk(raw) if chunked else raw
    lines = payload.count(b"\n")
    total = t_end - t0
    return {
        "status": status,
        "ttfb_s": (t_first - t0) if t_first is not None else None,
        "total_s": total,
        "lines": lines,
        "bytes": len(payload),
        "chunks_per_s": lines / total if total > 0 else 0.0,
        "sha256": hashlib.sha256(payload).hexdigest(),
    }


def stream(
    url: str, count: int, warmup: int, timeout: float, body: bytes, expect: int
) -> dict[str, Any]:
    host, port = _host_port(url)
    for _ in range(warmup):
        one_stream(host, port, body, timeout)
    runs = [one_stream(host, port, body, timeout) for _ in range(count)]
    ok = [r for r in runs if r["status"] == 200 and r["lines"] == expect]
    result: dict[str, Any] = {"runs": runs, "errors": len(runs) - len(ok)}
    if ok:
        result["ttfb_s"] = statistics.median(r["ttfb_s"] for r in ok)
        result["chunks_per_s"] = statistics.median(r["chunks_per_s"] for r in ok)
        result["total_s"] = statistics.median(r["total_s"] for r in ok)
    return result


# ---------------------------------------------------------------------- fallback load (httpx)


async def _load(
    url: str,
    scenario: str,
    concurrency: int,
    duration: float,
    max_requests: int,
    path_override: str | None,
) -> dict[str, Any]:
    import httpx

    if scenario == "json":
        path, content, headers = (
            "/echo/run",
            json.dumps(ECHO_BODY).encode(),
            {"Content-Type": "application/json"},
        )
    elif scenario == "file":
        path, content, headers = "/file/run", b"{}", {"Content-Type": "application/json"}
    elif scenario == "upload":
        path, content, headers = "/upload/run", multipart_body(), {"Content-Type": MULTIPART_TYPE}
    elif scenario == "many":
        path, content, headers = (
            "/p0000/run",
            b'{"text": "what is hayhooks?"}',
            {"Content-Type": "application/json"},
        )
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    path = path_override or path
    latencies: list[float] = []
    counters = {"bytes": 0, "status": 0, "other": 0, "sent": 0}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            while time.perf_counter() < deadline and counters["sent"] < max_requests:
                counters["sent"] += 1
                t0 = time.perf_counter()
                try:
                    resp = await client.post(path, content=content, headers=headers)
                    counters["bytes"] += len(resp.content)
                    if resp.status_code >= 400:
                        counters["status"] += 1
                except httpx.HTTPError:
                    counters["other"] += 1
                    continue
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else 0.0
        )

    return {
        "requests": len(latencies),
        "duration_s": elapsed,
        "bytes": counters["bytes"],
        "errors_status": counters["status"],
        "errors_other": counters["other"],
        "lat_p50_s": pct(50),
        "lat_p99_s": pct(99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--url", required=True)
    s = sub.add_parser("stream")
    s.add_argument("--url", required=True)
    s.add_argument("--count", type=int, default=3)
    s.add_argument("--warmup", type=int, default=1)
    s.add_argument("--timeout", type=float, default=60.0)
    s.add_argument("--body", default="{}", help="JSON request body (default {}: 10,000 chunks)")
    s.add_argument("--expect", type=int, default=STREAM_CHUNKS, help="lines a complete stream has")
    lo = sub.add_parser("load")
    lo.add_argument("--url", required=True)
    lo.add_argument("--scenario", choices=["json", "file", "upload", "many"], required=True)
    lo.add_argument("--path", help="route to load instead of the scenario's")
    lo.add_argument("-c", "--concurrency", type=int, default=16)
    lo.add_argument("-d", "--duration", type=float, default=5.0)
    lo.add_argument("--max-requests", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if args.cmd == "probe":
        out = probe(args.url)
    elif args.cmd == "stream":
        out = stream(
            args.url,
            max(1, min(args.count, 100)),
            max(0, min(args.warmup, 10)),
            args.timeout,
            args.body.encode(),
            args.expect,
        )
    else:
        _host_port(args.url)
        out = asyncio.run(
            _load(
                args.url,
                args.scenario,
                args.concurrency,
                min(args.duration, 600.0),
                args.max_requests,
                args.path,
            )
        )
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
