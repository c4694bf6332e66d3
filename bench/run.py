#!/usr/bin/env python3
"""hayhooks-gen benchmark suite (issue 5): one command, see bench/README.md.

    python bench/run.py                 # full suite, default rounds
    python bench/run.py --rounds 6      # more alternating rounds
    python bench/run.py --quick         # smoke run: 1 round, short loads, small generator sizes

It builds a service from ``bench/wrappers`` into a temporary folder and measures, alternating
servers round by round (A B C D E, then rotated), each under uvicorn with one worker on
127.0.0.1:

- ``generated``: the built service (``app.main:app``);
- ``hayhooks``: Hayhooks 2.1.0 serving a byte-identical copy of ``bench/wrappers`` in durable
  mode, tracing and monitoring disabled;
- ``hayhooks_tracing``: the same with tracing left at its default (enabled);
- ``handwritten``: ``bench/handwritten/app.py`` (same surface as the generated service);
- ``bare``: ``bench/handwritten/bare.py`` (no middleware).

Per server and round: cold start (process spawn to first 200 on ``/status``), VmRSS after
start and after load, JSON req/s and p50/p99 latency at concurrency 16, FileResponse MiB/s,
stream time to first byte and chunks/s, multipart uploads/s. Load comes from a separate
process (``wrk`` when installed, else ``bench/client.py load``). Responses are compared
across servers in the same run. Then generator speed (``build``/``check`` on 10, 100 and
1,000 generated wrappers, against a floor), and cold start with 100 trivial pipelines. The
cold starts are also set against the FastAPI floor (``handwritten/floor.py``) and against
Hayhooks started with its own command, ``hayhooks run``.

Results: a table of ratios printed and saved as JSON (and Markdown) under ``bench/results/``.
Every loop is bounded in count and time; every child process is killed at the end, even on
error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WRAPPERS = BENCH / "wrappers"
CLIENT = BENCH / "client.py"
RESULTS = BENCH / "results"
HOST = "127.0.0.1"
PY = sys.executable

START_TIMEOUT_S = 60.0
MANY_START_TIMEOUT_S = 180.0  # Hayhooks deploying --many pipelines
STOP_TIMEOUT_S = 5.0
POLL_S = 0.005
SETTLE_S = 0.5
BUILD_TIMEOUT_S = 600.0

SERVERS = ("generated", "hayhooks", "hayhooks_tracing", "handwritten", "bare")
LABELS = {
    "generated": "generated service",
    "hayhooks": "Hayhooks 2.1.0 (durable, tracing off)",
    "hayhooks_tracing": "Hayhooks 2.1.0 (durable, tracing on: default)",
    "handwritten": "hand-written (same middleware)",
    "bare": "hand-written, bare (no middleware)",
}

# metric -> (unit, higher_is_better, description)
METRICS: dict[str, tuple[str, bool, str]] = {
    "cold_start_s": ("s", False, "cold start: spawn to first 200 on /status"),
    "rss_start_mib": ("MiB", False, "resident memory after start"),
    "rss_load_mib": ("MiB", False, "resident memory after load"),
    "json_rps": ("req/s", True, "JSON echo requests/s, concurrency 16"),
    "json_p50_ms": ("ms", False, "JSON echo p50 latency, concurrency 16"),
    "json_p99_ms": ("ms", False, "JSON echo p99 latency, concurrency 16"),
    "file_mibs": ("MiB/s", True, "8 MiB FileResponse throughput"),
    "stream_ttfb_ms": ("ms", False, "stream: time to first body byte (median of 13 streams)"),
    "stream_chunks_s": ("chunks/s", True, "stream: 10,000 chunks, chunks/s"),
    "upload_rps": ("uploads/s", True, "1 MiB multipart uploads/s"),
}
STREAM_CHUNKS = 10_000
TTFB_CHUNKS = 100  # short streams for time to first byte
TTFB_STREAMS_PER_SLICE = 5

# (numerator, denominator) pairs of the ratio table
PAIRS = (
    ("generated", "handwritten"),
    ("generated", "hayhooks"),
    ("generated", "hayhooks_tracing"),
    ("handwritten", "hayhooks"),
    ("handwritten", "bare"),
)

# Targets from issue 5: (pair, metric, op, bound)
TARGETS: list[tuple[tuple[str, str], str, str, float]] = [
    (("generated", "handwritten"), "json_rps", ">=", 0.95),
    (("generated", "handwritten"), "json_p99_ms", "<=", 1.1),
    (("generated", "handwritten"), "file_mibs", ">=", 0.95),
    (("generated", "handwritten"), "stream_chunks_s", ">=", 0.95),
    (("generated", "handwritten"), "cold_start_s", "<=", 1.1),
    (("generated", "handwritten"), "rss_start_mib", "<=", 1.1),
    (("generated", "handwritten"), "rss_load_mib", "<=", 1.1),
    (("generated", "hayhooks"), "cold_start_s", "<=", 0.35),
    (("generated", "hayhooks"), "rss_start_mib", "<=", 0.5),
    (("generated", "hayhooks"), "rss_load_mib", "<=", 0.5),
    (("generated", "hayhooks"), "json_rps", ">=", 2.5),
    (("generated", "hayhooks"), "upload_rps", ">=", 1.25),
    (("generated", "hayhooks"), "stream_chunks_s", ">=", 1.2),
    (("generated", "hayhooks"), "stream_chunks_s", ">=", 3.0),  # "beyond both"
    (("generated", "hayhooks"), "stream_ttfb_ms", "<=", 1.0),  # "time to first byte no worse"
]

FLOOR_CODE = """\
import pathlib, sys
import typer, jinja2, libcst, docstring_parser
for p in sorted(pathlib.Path(sys.argv[1]).glob("*/pipeline_wrapper.py")):
    libcst.parse_module(p.read_bytes())
"""

TRIVIAL_WRAPPER = '''\
from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str, n: int = {n}) -> dict:
        """Echo a text, trivial pipeline number {n}.

        Args:
            text: The text to echo.
            n: A number.
        """
        return {{"text": text, "n": n}}
'''


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------- child processes

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def spawn(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start a child in its own process group, remembered until it is reaped."""
    proc: subprocess.Popen[bytes] = subprocess.Popen(
        list(cmd), stdin=subprocess.DEVNULL, start_new_session=True, **kwargs
    )
    _CHILDREN[proc.pid] = proc
    return proc


def reap(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the child's process group (its id is the child's pid), then kill it."""
    try:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT_S)
        else:
            # the leader exited; anything left in its group is ours too
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        _CHILDREN.pop(proc.pid, None)


def reap_all() -> None:
    for proc in list(_CHILDREN.values()):
        with contextlib.suppress(Exception):
            reap(proc)


def run_bounded(
    cmd: Sequence[str], timeout: float, **kwargs: Any
) -> subprocess.CompletedProcess[bytes]:
    """subprocess.run with a timeout, through the same registry (killed on any exit)."""
    proc = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        reap(proc)
        raise
    finally:
        if proc.poll() is not None:
            _CHILDREN.pop(proc.pid, None)
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def _on_signal(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --------------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HAYHOOKS_")}
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


def vm_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MiB."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0
    return out


def status_ok(port: int, timeout: float = 1.0) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/status")
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        r = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30, check=False
        )
        return r.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    versions: dict[str, str] = {}
    from importlib import metadata

    for dist in (
        "hayhooks",
        "hayhooks-gen",
        "fastapi",
        "starlette",
        "uvicorn",
        "pydantic",
        "uvloop",
        "httptools",
        "python-multipart",
        "libcst",
        "ruff",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    wrk = shutil.which("wrk")
    if wrk:
        r = subprocess.run(
            [wrk, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
        first = (r.stdout or r.stderr).split("\n", 1)[0].split()
        versions["wrk"] = first[1] if len(first) > 1 else "?"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": mem_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


# ------------------------------------------------------------------------------ servers


@dataclass
class ServerSpec:
    key: str
    cmd: list[str]  # without --port
    cwd: Path
    env: dict[str, str]


@dataclass
class Running:
    spec: ServerSpec
    proc: subprocess.Popen[bytes]
    port: int
    cold_start_s: float

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def uvicorn_cmd(
    target: str, *, factory: bool = False, extra: Sequence[str] = (), python: str = PY
) -> list[str]:
    cmd = [python, "-m", "uvicorn", target, "--host", HOST, "--workers", "1"]
    if factory:
        cmd.append("--factory")
    return [*cmd, *extra]


def hayhooks_cmd(extra: Sequence[str], python: str) -> list[str]:
    """Hayhooks 2.1.0's app factory under uvicorn, with ``python``."""
    return uvicorn_cmd("hayhooks.server.app:create_app", factory=True, extra=extra, python=python)


def hayhooks_cli_cmd(python: str) -> list[str]:
    """``hayhooks run``, the start command Hayhooks documents: its console script, next to
    ``python``. It imports the CLI (typer) before the server, then runs one uvicorn worker."""
    return [str(Path(python).parent / "hayhooks"), "run", "--host", HOST]


@contextlib.contextmanager
def serve(
    spec: ServerSpec, logdir: Path, tag: str, timeout: float = START_TIMEOUT_S
) -> Iterator[Running]:
    """Spawn the server, wait (bounded) for the first 200 on /status, yield, then reap it."""
    port = free_port()
    log_path = logdir / f"{spec.key}-{tag}.log"
    with log_path.open("wb") as log_file:
        t0 = time.perf_counter()
        proc = spawn(
            [*spec.cmd, "--port", str(port)],
            cwd=spec.cwd,
            env=spec.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = t0 + timeout
        ready = False
        for _ in range(int(timeout / POLL_S) + 1):
            if proc.poll() is not None:
                break
            if status_ok(port):
                ready = True
                break
            if time.perf_counter() >= deadline:
                break
            time.sleep(POLL_S)
        cold = time.perf_counter() - t0
        if not ready:
            tail = log_path.read_bytes()[-3000:].decode("utf-8", "replace")
            raise RuntimeError(f"{spec.key} did not answer /status (exit={proc.poll()}):\n{tail}")
        yield Running(spec, proc, port, cold)
    finally:
        reap(proc)


# The option the generated service's start command documents (its README, its Dockerfile's
# CMD): no generated route is a WebSocket, so uvicorn loads no WebSocket library. The
# hand-written apps and the floor are started the same way, so their ratios compare code;
# Hayhooks as it starts (uvicorn's defaults), and `generated_ws_auto` (cold starts only) shows
# the service under uvicorn's defaults too.
SERVICE_UVICORN = ("--ws", "none")

HANDWRITTEN_APPS = {
    "handwritten": "handwritten.app:app",
    "bare": "handwritten.bare:app",
    "floor": "handwritten.floor:app",  # one /status route: no wrappers, no middleware
}


def server_specs(
    svc: Path,
    hh_wrappers: Path,
    tmp: Path,
    data_dir: Path,
    extra_uvicorn: Sequence[str],
    service_python: str = PY,
    hayhooks_python: str = PY,
) -> dict[str, ServerSpec]:
    """The generated and hand-written apps run with ``service_python``, Hayhooks with
    ``hayhooks_python`` (both this interpreter, unless ``--service-venv`` / ``--hayhooks-venv``)."""
    base = {"BENCH_DATA_DIR": str(data_dir)}
    hh_env = {
        **base,
        "HAYHOOKS_PIPELINES_DIR": str(hh_wrappers),
        "HAYHOOKS_DURABLE_MODE": "true",
        "HAYHOOKS_MONITORING_ENABLED": "false",
        "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
    }
    hh_cwd = tmp / "hayhooks-cwd"
    hh_cwd.mkdir(exist_ok=True)
    hw_env = clean_env({**base, "PYTHONPATH": str(svc)})

    def bench_app(key: str, module: str) -> ServerSpec:
        """An app of ``bench/handwritten``, in the built service's folder and interpreter."""
        extra = ["--app-dir", str(BENCH), *SERVICE_UVICORN, *extra_uvicorn]
        return ServerSpec(key, uvicorn_cmd(module, extra=extra, python=service_python), svc, hw_env)

    return {
        "generated": ServerSpec(
            "generated",
            uvicorn_cmd(
                "app.main:app", extra=[*SERVICE_UVICORN, *extra_uvicorn], python=service_python
            ),
            svc,
            clean_env(base),
        ),
        # cold starts only (cold_start_floor): the service under uvicorn's defaults
        "generated_ws_auto": ServerSpec(
            "generated_ws_auto",
            uvicorn_cmd("app.main:app", extra=extra_uvicorn, python=service_python),
            svc,
            clean_env(base),
        ),
        "hayhooks": ServerSpec(
            "hayhooks",
            hayhooks_cmd(extra_uvicorn, hayhooks_python),
            hh_cwd,
            clean_env({**hh_env, "HAYHOOKS_TRACING_ENABLED": "false"}),
        ),
        "hayhooks_tracing": ServerSpec(
            "hayhooks_tracing",
            hayhooks_cmd(extra_uvicorn, hayhooks_python),
            hh_cwd,
            clean_env(hh_env),
        ),
        # cold starts only (cold_start_floor): Hayhooks started as its docs say
        "hayhooks_cli": ServerSpec(
            "hayhooks_cli",
            hayhooks_cli_cmd(hayhooks_python),
            hh_cwd,
            clean_env({**hh_env, "HAYHOOKS_TRACING_ENABLED": "false"}),
        ),
        # handwritten/app.py, bare.py, and floor.py (cold start only, cold_start_floor)
        **{key: bench_app(key, module) for key, module in HANDWRITTEN_APPS.items()},
    }


# ------------------------------------------------------------------------------- load


WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_mean_us":%f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean))
end
"""


def write_wrk_scripts(lua_dir: Path) -> dict[str, Path]:
    from client import BOUNDARY, ECHO_BODY

    lua_dir.mkdir(parents=True, exist_ok=True)
    scripts = {
        "json": (
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = '{json.dumps(ECHO_BODY)}'\n"
        ),
        "file": 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        "wrk.body = '{}'\n",
        "many": 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        'wrk.body = \'{"text": "what is hayhooks?"}\'\n',
        "upload": (
            f'local boundary = "{BOUNDARY}"\n'
            'local payload = string.rep("0123456789abcdef", 65536)\n'
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary\n'
            'wrk.body = "--" .. boundary .. "\\r\\n" ..\n'
            '  "Content-Disposition: form-data; name=\\"files\\"; " ..\n'
            '  "filename=\\"upload.bin\\"\\r\\n" ..\n'
            '  "Content-Type: application/octet-stream\\r\\n\\r\\n" .. payload ..\n'
            '  "\\r\\n--" .. boundary .. "--\\r\\n"\n'
        ),
    }
    paths = {}
    for name, body in scripts.items():
        path = lua_dir / f"{name}.lua"
        path.write_text(body + WRK_DONE)
        paths[name] = path
    return paths


PATHS = {"json": "/echo/run", "file": "/file/run", "upload": "/upload/run"}


@dataclass
class Loader:
    wrk: str | None
    lua: dict[str, Path]

    def run(
        self, url: str, scenario: str, concurrency: int, duration: float, path: str | None = None
    ) -> dict[str, float]:
        """One bounded load run from a separate process; rates, latency and error counts.

        ``path`` overrides the scenario's route (the body stays the scenario's)."""
        if self.wrk:
            cmd = [
                self.wrk,
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(duration))}s",
                "--timeout",
                "10s",
                "-s",
                str(self.lua[scenario]),
                url + (path or PATHS[scenario]),
            ]
            r = run_bounded(cmd, timeout=duration + 60)
            text = r.stdout.decode("utf-8", "replace")
            line = next((ln for ln in text.splitlines() if ln.startswith("WRKJSON ")), None)
            if r.returncode != 0 or line is None:
                raise RuntimeError(
                    f"wrk failed ({r.returncode}): {text[-2000:]} {r.stderr[-2000:]!r}"
                )
            d = json.loads(line[len("WRKJSON ") :])
            secs = d["duration_us"] / 1e6
            errors = d["connect"] + d["read"] + d["write"] + d["status"] + d["timeout"]
            return {
                "requests": d["requests"],
                "secs": secs,
                "bytes": d["bytes"],
                "rps": d["requests"] / secs,
                "mibs": d["bytes"] / secs / 2**20,
                "p50_ms": d["lat_p50_us"] / 1e3,
                "p99_ms": d["lat_p99_us"] / 1e3,
                "errors": errors,
                "status_errors": d["status"],
            }
        cmd = [
            PY,
            str(CLIENT),
            "load",
            "--url",
            url,
            "--scenario",
            scenario,
            "-c",
            str(concurrency),
            "-d",
            str(duration),
        ]
        if path:
            cmd += ["--path", path]
        r = run_bounded(cmd, timeout=duration + 60)
        if r.returncode != 0:
            raise RuntimeError(f"client load failed: {r.stderr[-2000:]!r}")
        d = json.loads(r.stdout)
        secs = d["duration_s"]
        return {
            "requests": d["requests"],
            "secs": secs,
            "bytes": d["bytes"],
            "rps": d["requests"] / secs,
            "mibs": d["bytes"] / secs / 2**20,
            "p50_ms": d["lat_p50_s"] * 1e3,
            "p99_ms": d["lat_p99_s"] * 1e3,
            "errors": d["errors_status"] + d["errors_other"],
            "status_errors": d["errors_status"],
        }


def client_json(args: Sequence[str], timeout: float) -> dict[str, Any]:
    r = run_bounded([PY, str(CLIENT), *args], timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(
            f"client {args[0]} failed: {r.stderr.decode('utf-8', 'replace')[-2000:]}"
        )
    return dict(json.loads(r.stdout))


# ----------------------------------------------------------------------------- config


@dataclass
class Config:
    rounds: int = 3
    servers: tuple[str, ...] = SERVERS
    json_s: float = 2.0
    file_s: float = 2.0
    upload_s: float = 2.0
    warmup_s: float = 1.0
    slices: int = 3
    streams: int = 3
    ttfb_slices: int = 2
    quiet_wait: float = 20.0
    quiet_pct: float = 25.0
    json_c: int = 16
    file_c: int = 4
    upload_c: int = 16
    gen_sizes: tuple[int, ...] = (10, 100, 1000)
    gen_reps: int = 3
    many: int = 100
    many_reps: int = 3
    cold_starts: int = 3  # extra alternating cold starts per server and round
    max_minutes: float = 30.0
    skip_generator: bool = False
    skip_many: bool = False
    skip_floor: bool = False
    extra_uvicorn: tuple[str, ...] = ()
    started: float = field(default_factory=time.monotonic)

    def out_of_time(self) -> bool:
        return time.monotonic() - self.started > self.max_minutes * 60


# ------------------------------------------------------------------------ server rounds


class CpuMeter:
    """CPU used by other processes than ours (the bench, its servers and load generators).

    Other work on the machine (for example a test suite) distorts every figure; the bench
    cannot stop it, so it records it: ``foreign_cpu_pct`` is the share of the machine's CPU
    (all cores) used by processes other than the bench's own during a measurement.
    """

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.start = self._read()

    @staticmethod
    def _system() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    def _ours(self) -> int:
        ticks = 0
        for pid in self.pids:
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(stat[11]) + int(stat[12])  # utime, stime
        hz = os.sysconf("SC_CLK_TCK")
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            ru = resource.getrusage(who)
            ticks += round((ru.ru_utime + ru.ru_stime) * hz)
        return ticks

    def _read(self) -> tuple[int, int, int]:
        busy, total = self._system()
        return busy, total, self._ours()

    def stop(self) -> tuple[int, int]:
        """(foreign ticks, total ticks) since construction."""
        busy, total, ours = self._read()
        foreign = max(0, (busy - self.start[0]) - (ours - self.start[2]))
        return foreign, max(1, total - self.start[1])


def wait_quiet(max_s: float, threshold_pct: float) -> float:
    """Wait (bounded by ``max_s``) until other processes use < threshold of the machine."""
    foreign_pct = 0.0
    deadline = time.monotonic() + max_s
    for _ in range(int(max_s) + 1):
        meter = CpuMeter([])
        time.sleep(1.0)
        f, t = meter.stop()
        foreign_pct = 100.0 * f / t
        if foreign_pct < threshold_pct or time.monotonic() >= deadline:
            break
    return foreign_pct


@dataclass
class Slices:
    """Raw per-slice results of one server in one round."""

    load: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    streams: list[dict[str, Any]] = field(default_factory=list)
    short_streams: list[dict[str, Any]] = field(default_factory=list)
    foreign: list[tuple[int, int]] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    rss_steps: dict[str, float | None] = field(default_factory=dict)


LOAD_SCENARIOS = ("json", "file", "upload")


def _measure_slice(run: Running, scenario: str, cfg: Config, loader: Loader, acc: Slices) -> None:
    meter = CpuMeter([run.proc.pid])
    if scenario == "stream":
        s = client_json(["stream", "--url", run.url, "--count", "1", "--warmup", "0"], timeout=120)
        acc.streams.extend(s["runs"])
        acc.errors["stream"] = acc.errors.get("stream", 0) + int(s["errors"])
    elif scenario == "ttfb":
        s = client_json(
            [
                "stream",
                "--url",
                run.url,
                "--count",
                str(TTFB_STREAMS_PER_SLICE),
                "--warmup",
                "0",
                "--body",
                json.dumps({"count": TTFB_CHUNKS}),
                "--expect",
                str(TTFB_CHUNKS),
            ],
            timeout=120,
        )
        acc.short_streams.extend(s["runs"])
        acc.errors["ttfb"] = acc.errors.get("ttfb", 0) + int(s["errors"])
    else:
        conc, secs = {
            "json": (cfg.json_c, cfg.json_s),
            "file": (cfg.file_c, cfg.file_s),
            "upload": (cfg.upload_c, cfg.upload_s),
        }[scenario]
        res = loader.run(run.url, scenario, conc, secs)
        acc.load.setdefault(scenario, []).append(res)
        acc.errors[scenario] = acc.errors.get(scenario, 0) + int(res["errors"])
    acc.foreign.append(meter.stop())


def _aggregate(
    cold: float, rss_start: float | None, acc: Slices, vm: dict[str, float]
) -> dict[str, Any]:
    def rate(scn: str, key: str) -> float | None:
        xs = acc.load.get(scn, [])
        secs = sum(x["secs"] for x in xs)
        return sum(x[key] for x in xs) / secs if secs else None

    json_slices = acc.load.get("json", [])
    ok_streams = [x for x in acc.streams if x["status"] == 200 and x["lines"] == STREAM_CHUNKS]
    ok_short = [x for x in acc.short_streams if x["status"] == 200 and x["lines"] == TTFB_CHUNKS]
    ttfb = [x["ttfb_s"] * 1e3 for x in ok_short + ok_streams if x["ttfb_s"] is not None]
    foreign = sum(f for f, _ in acc.foreign)
    total = sum(t for _, t in acc.foreign)
    return {
        "cold_start_s": cold,
        "rss_start_mib": rss_start,
        "json_rps": rate("json", "requests"),
        "json_p50_ms": median([x["p50_ms"] for x in json_slices]) if json_slices else None,
        "json_p99_ms": median([x["p99_ms"] for x in json_slices]) if json_slices else None,
        "file_mibs": (rate("file", "bytes") or 0.0) / 2**20 or None,
        "stream_ttfb_ms": median(ttfb) if ttfb else None,
        "stream_chunks_s": median([x["chunks_per_s"] for x in ok_streams]) if ok_streams else None,
        "upload_rps": rate("upload", "requests"),
        "rss_load_mib": vm.get("VmRSS"),
        "hwm_mib": vm.get("VmHWM"),
        "foreign_cpu_pct": 100.0 * foreign / total if total else None,
        "errors": acc.errors,
        "rss_after_mib": acc.rss_steps,
        "paired": {
            "json_rps": [x["rps"] for x in json_slices],
            "json_p50_ms": [x["p50_ms"] for x in json_slices],
            "json_p99_ms": [x["p99_ms"] for x in json_slices],
            "file_mibs": [x["mibs"] for x in acc.load.get("file", [])],
            "upload_rps": [x["rps"] for x in acc.load.get("upload", [])],
            "stream_chunks_s": [
                x["chunks_per_s"] if x in ok_streams else None for x in acc.streams
            ],
            "stream_ttfb_ms": [
                x["ttfb_s"] * 1e3 if x in ok_short + ok_streams and x["ttfb_s"] else None
                for x in acc.short_streams + acc.streams
            ],
        },
        "slices": {
            "load": acc.load,
            "streams": [
                {k: v for k, v in x.items() if k != "sha256"}
                for x in acc.streams + acc.short_streams
            ],
        },
    }


CORS_HEADERS = ("x_request_id", "access_control_allow_origin")


def compare_probes(probes: dict[str, dict[str, Any]]) -> list[str]:
    """Differences against the generated service: status, content type, body (all servers);
    x-request-id and CORS headers (all but ``bare``, which must have neither)."""
    ref_key = "generated" if "generated" in probes else next(iter(probes))
    ref = probes[ref_key]
    problems = []
    for key, probe in probes.items():
        for case, expected in ref.items():
            got = probe.get(case)
            if got is None:
                problems.append(f"{key}: {case}: missing")
                continue
            if key == "bare":
                if case == "cors_preflight":
                    continue  # no CORS middleware: a preflight is a 405, by design
                if got["x_request_id"] or got["access_control_allow_origin"]:
                    problems.append(f"{key}: {case}: bare app sent middleware headers")
            fields = ["status", "content_type", "content_disposition", "body"]
            if key != "bare":
                fields += list(CORS_HEADERS)
            for f in fields:
                if key == "bare" and f in CORS_HEADERS:
                    continue
                if got[f] != expected[f]:
                    problems.append(f"{key}: {case}: {f}: {got[f]!r} != {ref_key} {expected[f]!r}")
    return problems


def server_rounds(
    cfg: Config,
    specs: dict[str, ServerSpec],
    loader: Loader,
    logdir: Path,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any], list[str]]:
    """Rounds of: start every server (cold start, memory), then each scenario in slices,
    alternating servers slice by slice (A B C D E, then E D C B A), so that slow drifts and
    other load on the machine hit every server alike; then memory after load."""
    servers = [s for s in SERVERS if s in cfg.servers]
    # warm-up pass: compile bytecode caches, write the 8 MiB file, check correctness
    log("warm-up and correctness pass: " + ", ".join(servers))
    probes: dict[str, dict[str, Any]] = {}
    for key in servers:
        with serve(specs[key], logdir, "warmup") as run:
            probes[key] = client_json(["probe", "--url", run.url], timeout=120)
    problems = compare_probes(probes)
    for p in problems:
        log(f"CORRECTNESS: {p}")
    samples: dict[str, list[dict[str, Any]]] = {k: [] for k in servers}
    scenario_slices = {
        "json": cfg.slices,
        "file": cfg.slices,
        "stream": cfg.streams,
        "ttfb": cfg.ttfb_slices,
        "upload": cfg.slices,
    }
    for r in range(cfg.rounds):
        if cfg.out_of_time():
            log(f"time budget ({cfg.max_minutes} min) reached; stopping after {r} round(s)")
            break
        order = servers[r % len(servers) :] + servers[: r % len(servers)]
        if cfg.quiet_wait > 0:
            pct = wait_quiet(cfg.quiet_wait, cfg.quiet_pct)
            if pct >= cfg.quiet_pct:
                log(f"machine busy: other processes use {pct:.0f}% of the CPU; measuring anyway")
        log(f"round {r + 1}/{cfg.rounds}: " + " ".join(order))
        with contextlib.ExitStack() as stack:
            runs: dict[str, Running] = {}
            rss: dict[str, float | None] = {}
            for key in order:
                runs[key] = stack.enter_context(serve(specs[key], logdir, f"r{r}"))
                time.sleep(SETTLE_S)
                rss[key] = vm_status(runs[key].proc.pid).get("VmRSS")
            acc = {key: Slices() for key in order}
            for scenario in ("json", "file", "stream", "ttfb", "upload"):
                for key in order:  # warm-up, unmeasured
                    if scenario == "ttfb":
                        continue  # the streams before it warmed the same route
                    if scenario == "stream":
                        client_json(
                            ["stream", "--url", runs[key].url, "--count", "1", "--warmup", "0"],
                            timeout=120,
                        )
                    elif cfg.warmup_s > 0:
                        conc = {"json": cfg.json_c, "file": cfg.file_c, "upload": cfg.upload_c}
                        loader.run(runs[key].url, scenario, conc[scenario], cfg.warmup_s)
                for i in range(scenario_slices[scenario]):
                    for key in order if i % 2 == 0 else order[::-1]:
                        _measure_slice(runs[key], scenario, cfg, loader, acc[key])
                for key in order:  # memory growth, scenario by scenario (JSON output only)
                    acc[key].rss_steps[scenario] = vm_status(runs[key].proc.pid).get("VmRSS")
            time.sleep(SETTLE_S)  # memory after load, read as after start: once settled
            for key in order:
                sample = _aggregate(
                    runs[key].cold_start_s, rss[key], acc[key], vm_status(runs[key].proc.pid)
                )
                samples[key].append(sample)
                bad = {k: v for k, v in sample["errors"].items() if v}
                if bad:
                    problems.append(f"{key}: round {r + 1}: failed requests under load: {bad}")
                log(
                    f"  {key:17s} cold {sample['cold_start_s']:.2f}s rss "
                    f"{_fmt(sample['rss_start_mib'], 0)}/{_fmt(sample['rss_load_mib'], 0)}MiB "
                    f"json {_fmt(sample['json_rps'], 0)}/s p99 {_fmt(sample['json_p99_ms'], 1)}ms "
                    f"file {_fmt(sample['file_mibs'], 0)}MiB/s "
                    f"stream {_fmt(sample['stream_chunks_s'], 0)}/s "
                    f"ttfb {_fmt(sample['stream_ttfb_ms'], 1)}ms "
                    f"upload {_fmt(sample['upload_rps'], 0)}/s "
                    f"(other load {_fmt(sample['foreign_cpu_pct'], 0)}%)"
                )
        _more_cold_starts(cfg, specs, order, logdir, r, {k: samples[k][-1] for k in order})
    return samples, probes, problems


def alternating_starts(
    cfg: Config,
    specs: dict[str, ServerSpec],
    order: Sequence[str],
    count: int,
    logdir: Path,
    tag: str,
    timeout: float = START_TIMEOUT_S,
) -> dict[str, list[float]]:
    """``count`` cold starts of each server in ``order``, the order reversed every other
    time (A B C, C B A, ...); stops early when the time budget is spent."""
    starts: dict[str, list[float]] = {key: [] for key in order}
    for j in range(count):
        if cfg.out_of_time():
            log(f"time budget reached; cold starts ({tag}) stop early")
            break
        for key in order if j % 2 == 0 else order[::-1]:
            with serve(specs[key], logdir, f"{tag}{j}", timeout) as running:
                starts[key].append(running.cold_start_s)
    return starts


def _more_cold_starts(
    cfg: Config,
    specs: dict[str, ServerSpec],
    order: list[str],
    logdir: Path,
    r: int,
    latest: dict[str, dict[str, Any]],
) -> None:
    """``cfg.cold_starts`` more starts per server, alternating servers, after the round's
    servers are stopped: one start per round is too few to pair (start-up is the noisiest
    figure). Each sample's cold start becomes the median of its round's starts; the starts
    are paired in order for the ratios."""
    more = alternating_starts(cfg, specs, order[::-1], cfg.cold_starts, logdir, f"r{r}-cold")
    for key in order:
        starts = [latest[key]["cold_start_s"], *more[key]]
        latest[key]["paired"]["cold_start_s"] = starts
        latest[key]["cold_start_s"] = median(starts)


FLOOR_SERVERS = ("generated", "generated_ws_auto", "hayhooks", "hayhooks_cli", "floor")


def cold_start_floor(cfg: Config, specs: dict[str, ServerSpec], logdir: Path) -> dict[str, Any]:
    """Alternating cold starts of the generated service (as documented, and under uvicorn's
    defaults), Hayhooks, Hayhooks started with ``hayhooks run`` and the FastAPI floor
    (``handwritten/floor.py``): how far the generated
    service is from the least any FastAPI app under uvicorn can start in, and what Hayhooks'
    own start command adds to its server's start-up, measured in the same run."""
    total = max(3, cfg.rounds * (1 + cfg.cold_starts))
    starts = alternating_starts(cfg, specs, FLOOR_SERVERS, total, logdir, "floor")
    log(
        "  cold start medians: "
        + ", ".join(f"{k} {median(v):.3f}s" for k, v in starts.items() if v)
    )
    return {"cold_start_s": starts}


SERVICE_DISTS = (
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic-core",
    "uvicorn",
    "uvloop",
    "httptools",
    "python-multipart",
    "anyio",
)


# The HTTP stack every server gets: uvicorn picks uvloop and httptools when they are installed.
HTTP_STACK_DISTS = ("uvloop", "httptools")


def _make_venv(path: Path, requirements: Sequence[str], constraints: Sequence[str]) -> str:
    """A fresh venv at ``path`` with ``requirements`` installed under ``constraints``."""
    r = run_bounded([PY, "-m", "venv", str(path)], timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"venv failed: {r.stderr.decode()[-2000:]}")
    python = str(path / "bin" / "python")
    cmd = [python, "-m", "pip", "install", "--quiet", *requirements]
    if constraints:
        constraints_file = path / "constraints.txt"
        constraints_file.write_text("".join(f"{c}\n" for c in constraints), encoding="utf-8")
        cmd += ["--constraint", str(constraints_file)]
    r = run_bounded(cmd, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"pip install {requirements} failed: {r.stderr.decode()[-2000:]}")
    return python


def _pins(dists: Sequence[str]) -> list[str]:
    """``name==version`` of each of ``dists`` installed here (the ones missing are left out)."""
    from importlib import metadata

    pins = []
    for dist in dists:
        with contextlib.suppress(metadata.PackageNotFoundError):
            pins.append(f"{dist}=={metadata.version(dist)}")
    return pins


def make_service_venv(path: Path) -> str:
    """A venv with only what the generated service needs, pinned to this interpreter's versions."""
    return _make_venv(path, _pins(SERVICE_DISTS), ())


def make_hayhooks_venv(path: Path) -> str:
    """A venv with ``hayhooks==2.1.0`` and what it requires, plus the HTTP stack the other
    servers have, every distribution at the version this interpreter has: Hayhooks as a user
    installs it, none of the repository's test tooling. (Hayhooks requires ``fastapi[standard]``,
    so ``email_validator``, ``websockets`` and ``watchfiles`` are there too, and FastAPI and
    uvicorn import them at start-up.)"""
    from importlib import metadata

    pins = sorted(
        {
            f"{d.metadata['Name']}=={d.version}"
            for d in metadata.distributions()
            if d.metadata["Name"] and d.metadata["Name"].lower() != "hayhooks-gen"  # editable
        }
    )
    return _make_venv(
        path, [f"hayhooks=={metadata.version('hayhooks')}", *_pins(HTTP_STACK_DISTS)], pins
    )


# ------------------------------------------------------------------------ generator speed


def make_trivial_wrappers(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        d = root / f"p{i:04d}"
        d.mkdir(exist_ok=True)
        (d / "pipeline_wrapper.py").write_text(TRIVIAL_WRAPPER.format(n=i))
    return root


def timed(
    cmd: Sequence[str],
    cwd: Path,
    timeout: float = BUILD_TIMEOUT_S,
    extra_env: dict[str, str] | None = None,
) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    r = run_bounded(cmd, timeout=timeout, cwd=cwd, env=clean_env(extra_env))
    return time.perf_counter() - t0, r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")


def generator_speed(cfg: Config, tmp: Path) -> dict[str, Any]:
    """Floor, ``build`` and ``check`` per size, alternating.

    The generator's user cache (formatted sets, compiled templates) is the suite's own
    (``XDG_CACHE_HOME``), so that each step starts from a known state:
    ``build`` writes into a new folder with the formatted-output cache emptied, as for input
    never built before (compiled templates kept, like the interpreter's bytecode);
    ``check`` runs as on a developer's machine, every cache warm; ``check_cold`` with the
    whole cache emptied, as on a fresh CI machine. Each build gets a new folder rather than
    the same one emptied: on a virtual disk, files created where many were just deleted
    cost up to ten times more, which would time the disk instead of the generator.
    """
    gen = [PY, "-m", "hayhooks_gen"]
    inputs = {n: make_trivial_wrappers(tmp / f"gen-w{n}", n) for n in cfg.gen_sizes}
    cache = tmp / "gen-cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    steps_named = ("floor", "build", "check", "check_cold")
    times: dict[str, dict[int, list[float]]] = {k: {} for k in steps_named}
    problems: list[str] = []
    latest = {n: tmp / f"gen-o{n}-warmup" for n in cfg.gen_sizes}
    # one untimed build per size: warms the page cache, bytecode and template cache
    for n, w in inputs.items():
        timed([*gen, "build", str(w), "-o", str(latest[n])], tmp, extra_env=env)

    def build(n: int, rep: int) -> tuple[float, int, str]:
        shutil.rmtree(cache / "hayhooks-gen" / "ruff", ignore_errors=True)
        latest[n] = tmp / f"gen-o{n}-{rep}"
        return timed([*gen, "build", str(inputs[n]), "-o", str(latest[n])], tmp, extra_env=env)

    def check(n: int, cold: bool) -> tuple[float, int, str]:
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        return timed([*gen, "check", str(inputs[n]), "-o", str(latest[n])], tmp, extra_env=env)

    for rep in range(cfg.gen_reps):
        if cfg.out_of_time():
            log("time budget reached; generator speed stops early")
            break
        sizes = list(cfg.gen_sizes) if rep % 2 == 0 else list(reversed(cfg.gen_sizes))
        for n in sizes:
            steps: list[tuple[str, Callable[[], tuple[float, int, str]]]] = [
                ("floor", lambda n=n: timed([PY, "-c", FLOOR_CODE, str(inputs[n])], tmp)),
                ("build", lambda n=n, rep=rep: build(n, rep)),
                ("check", lambda n=n: check(n, cold=False)),
                ("check_cold", lambda n=n: check(n, cold=True)),
            ]
            if rep % 2:
                steps = [steps[1], steps[3], steps[2], steps[0]]
            for name, step in steps:
                secs, rc, text = step()
                if rc != 0:
                    problems.append(f"generator {name} n={n} exited {rc}: {text[-500:]}")
                times[name].setdefault(n, []).append(secs)
            log(
                f"  generator n={n}: "
                + " ".join(f"{k} {times[k][n][-1]:.2f}s" for k in steps_named)
            )
    return {
        "times_s": {k: {str(n): v for n, v in d.items()} for k, d in times.items()},
        "problems": problems,
    }


def many_pipelines(
    cfg: Config,
    tmp: Path,
    logdir: Path,
    extra_uvicorn: Sequence[str],
    loader: Loader,
    service_python: str = PY,
    hayhooks_python: str = PY,
) -> dict[str, Any]:
    wrappers = make_trivial_wrappers(tmp / f"many-w{cfg.many}", cfg.many)
    svc = tmp / f"many-svc{cfg.many}"
    _, rc, text = timed([PY, "-m", "hayhooks_gen", "build", str(wrappers), "-o", str(svc)], tmp)
    if rc != 0:
        raise RuntimeError(f"build of {cfg.many} pipelines failed: {text[-2000:]}")
    specs = {
        "generated": ServerSpec(
            "generated",
            uvicorn_cmd(
                "app.main:app", extra=[*SERVICE_UVICORN, *extra_uvicorn], python=service_python
            ),
            svc,
            clean_env(),
        ),
        "hayhooks": ServerSpec(
            "hayhooks",
            hayhooks_cmd(extra_uvicorn, hayhooks_python),
            tmp / "hayhooks-cwd",
            clean_env(
                {
                    "HAYHOOKS_PIPELINES_DIR": str(wrappers),
                    "HAYHOOKS_DURABLE_MODE": "true",
                    "HAYHOOKS_TRACING_ENABLED": "false",
                    "HAYHOOKS_MONITORING_ENABLED": "false",
                    "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
                }
            ),
        ),
    }
    out: dict[str, list[dict[str, float]]] = {k: [] for k in specs}
    for key, spec in specs.items():  # warm-up: bytecode caches
        with serve(spec, logdir, "many-warmup", timeout=MANY_START_TIMEOUT_S) as run:
            pipelines = _status_pipelines(run.port)
            if len(pipelines) != cfg.many:
                raise RuntimeError(f"{key} serves {len(pipelines)} pipelines, not {cfg.many}")
    for rep in range(cfg.many_reps):
        if cfg.out_of_time():
            log("time budget reached; many-pipelines stops early")
            break
        order = list(specs) if rep % 2 == 0 else list(reversed(specs))
        for key in order:
            with serve(specs[key], logdir, f"many-r{rep}", timeout=MANY_START_TIMEOUT_S) as run:
                time.sleep(SETTLE_S)
                out[key].append(
                    {
                        "cold_start_s": run.cold_start_s,
                        "rss_start_mib": vm_status(run.proc.pid).get("VmRSS", 0.0),
                    }
                )
            log(
                f"  {cfg.many} pipelines, {key}: cold {out[key][-1]['cold_start_s']:.2f}s "
                f"rss {out[key][-1]['rss_start_mib']:.0f}MiB"
            )
    # more alternating cold starts, as for the four wrappers: three pairs are too few for the
    # noisiest figure; the ratio pairs them in order
    more = alternating_starts(
        cfg,
        specs,
        list(specs)[::-1],
        cfg.many_reps * cfg.cold_starts,
        logdir,
        "many-cold",
        MANY_START_TIMEOUT_S,
    )
    starts = {k: [x["cold_start_s"] for x in out[k]] + more[k] for k in specs}
    # JSON req/s on the first and the last pipeline's route, servers alternating slice by slice
    # (the trivial wrappers take a required ``text``, which the echo body also carries as
    # ``query``; so the load uses the ``many`` script, with ``text``).
    routes = {"first": "/p0000/run", "last": f"/p{cfg.many - 1:04d}/run"}
    load: dict[str, dict[str, list[float]]] = {k: {r: [] for r in routes} for k in specs}
    if not cfg.out_of_time():
        with contextlib.ExitStack() as stack:
            runs = {
                k: stack.enter_context(
                    serve(specs[k], logdir, "many-load", timeout=MANY_START_TIMEOUT_S)
                )
                for k in specs
            }
            for k in specs:
                for path in routes.values():
                    loader.run(runs[k].url, "many", cfg.json_c, cfg.warmup_s or 1.0, path=path)
            for i in range(cfg.slices):
                order = list(specs) if i % 2 == 0 else list(reversed(specs))
                for k in order:
                    for name, path in routes.items():
                        res = loader.run(runs[k].url, "many", cfg.json_c, cfg.json_s, path=path)
                        if res["errors"]:
                            raise RuntimeError(f"{k} {path}: {res['errors']} failed requests")
                        load[k][name].append(res["rps"])
        for k in specs:
            log(
                f"  {cfg.many} pipelines, {k}: JSON req/s first route "
                f"{median(load[k]['first']):.0f}, last route {median(load[k]['last']):.0f}"
            )
    return {"pipelines": cfg.many, "samples": out, "cold_starts_s": starts, "json_rps": load}


def _status_pipelines(port: int) -> list[str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", "/status")
        return list(json.loads(conn.getresponse().read())["pipelines"])
    finally:
        conn.close()


# ------------------------------------------------------------------------------ report


def _fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _spread(values: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and count of a non-empty sample."""
    return {"median": median(values), "min": min(values), "max": max(values), "n": len(values)}


def _floor_summary(floor: dict[str, Any]) -> dict[str, Any]:
    starts = floor["cold_start_s"]
    out: dict[str, Any] = {
        "median_s": {k: median(v) for k, v in starts.items() if v},
        "n": min((len(v) for v in starts.values()), default=0),
        "ratios": {},
    }
    for a, b in (
        ("floor", "hayhooks"),
        ("generated", "hayhooks"),
        ("generated", "floor"),
        ("hayhooks_cli", "hayhooks"),
        ("generated", "hayhooks_cli"),
        ("generated_ws_auto", "hayhooks"),
        ("generated", "generated_ws_auto"),
    ):
        pairs = zip(starts.get(a, []), starts.get(b, []), strict=False)
        per = [va / vb for va, vb in pairs if va and vb]
        if per:
            out["ratios"][f"{a}/{b}"] = _spread(per)
    return out


def summarise(
    samples: dict[str, list[dict[str, Any]]],
    gen: dict[str, Any] | None,
    many: dict[str, Any] | None,
    floor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    absolute: dict[str, dict[str, Any]] = {}
    for key, runs in samples.items():
        absolute[key] = {}
        for m in [*METRICS, "hwm_mib", "foreign_cpu_pct"]:
            vals = [r[m] for r in runs if r.get(m) is not None]
            if vals:
                absolute[key][m] = _spread(vals)
    ratios: dict[str, dict[str, Any]] = {}
    for a, b in PAIRS:
        if a not in samples or b not in samples:
            continue
        pair = f"{a}/{b}"
        ratios[pair] = {}
        for m in METRICS:
            per_round = [
                ra[m] / rb[m]
                for ra, rb in zip(samples[a], samples[b], strict=False)
                if ra.get(m) and rb.get(m)
            ]
            # load and stream metrics: ratios of paired slices (same scenario, same round,
            # measured back to back), robust to load that other processes put on the machine
            paired = [
                va / vb
                for ra, rb in zip(samples[a], samples[b], strict=False)
                for va, vb in zip(
                    ra.get("paired", {}).get(m, []), rb.get("paired", {}).get(m, []), strict=False
                )
                if va and vb
            ]
            if per_round:
                values = paired or per_round
                ratios[pair][m] = {
                    **_spread(values),
                    "paired": bool(paired),
                    "per_round": per_round,
                }
    if many:
        s = many["samples"]
        for m in ("cold_start_s", "rss_start_mib"):
            col = {k: [x[m] for x in s[k] if x.get(m) is not None] for k in s}
            if m == "cold_start_s" and many.get("cold_starts_s"):  # older results lack them
                col = many["cold_starts_s"]
            per = [g / h for g, h in zip(col["generated"], col["hayhooks"], strict=False)]
            if per:
                ratios.setdefault("generated/hayhooks", {})[f"{m}@{many['pipelines']}"] = _spread(
                    per
                )
            for key in ("generated", "hayhooks"):
                vals = col[key]
                if vals:
                    absolute.setdefault(key, {})[f"{m}@{many['pipelines']}"] = _spread(vals)
    if many and many.get("json_rps"):
        n = many["pipelines"]
        jr = many["json_rps"]
        for route in ("first", "last"):
            m = f"json_rps@{n}_{route}"
            g, h = jr.get("generated", {}).get(route), jr.get("hayhooks", {}).get(route)
            for key, vals in (("generated", g), ("hayhooks", h)):
                if vals:
                    absolute.setdefault(key, {})[m] = _spread(vals)
            if g and h:
                per = [a / b for a, b in zip(g, h, strict=False)]
                ratios.setdefault("generated/hayhooks", {})[m] = _spread(per)
    generator: dict[str, Any] = {}
    if gen:
        t = gen["times_s"]
        med = {k: {int(n): median(v) for n, v in d.items() if v} for k, d in t.items()}
        generator["median_s"] = {k: {str(n): v for n, v in d.items()} for k, d in med.items()}
        generator["range_s"] = {
            k: {str(n): [min(v), max(v)] for n, v in d.items() if v} for k, d in t.items()
        }
        f, b, c = med.get("floor", {}), med.get("build", {}), med.get("check", {})
        cc = med.get("check_cold", {})
        g: dict[str, float] = {}
        for n in sorted(f):
            if n in c:
                g[f"check{n}/floor{n}"] = c[n] / f[n]
            if n in cc:
                g[f"check{n}_cold/floor{n}"] = cc[n] / f[n]
            if n in b:
                g[f"build{n}/floor{n}"] = b[n] / f[n]
        if 100 in b and 1000 in b:
            g["build1000/build100"] = b[1000] / b[100]
            g["marginal_build_ms_per_wrapper"] = (b[1000] - b[100]) / 900 * 1e3
        if 100 in c and 1000 in c:
            g["check1000/check100"] = c[1000] / c[100]
            g["marginal_check_ms_per_wrapper"] = (c[1000] - c[100]) / 900 * 1e3
        if 100 in f and 1000 in f:
            g["marginal_floor_ms_per_wrapper"] = (f[1000] - f[100]) / 900 * 1e3
        generator["ratios"] = g
    targets = []
    for (a, b), m, op, bound in TARGETS:
        r = ratios.get(f"{a}/{b}", {}).get(m)
        targets.append(
            _target(
                f"{a}/{b} {m}",
                r["median"] if r else None,
                op,
                bound,
                (r["min"], r["max"]) if r else None,
            )
        )
    if many:
        r = ratios.get("generated/hayhooks", {}).get(f"cold_start_s@{many['pipelines']}")
        targets.append(
            _target(
                f"generated/hayhooks cold_start_s@{many['pipelines']}",
                r["median"] if r else None,
                "<=",
                0.35,
                (r["min"], r["max"]) if r else None,
            )
        )
    if gen:
        g = generator["ratios"]
        for name, bound in (
            ("check10/floor10", 1.5),
            ("check10_cold/floor10", 1.5),
            ("build100/floor100", 2.0),
            ("build1000/build100", 11.0),
            ("marginal_build_ms_per_wrapper", 10.0),
        ):
            targets.append(_target(f"generator {name}", g.get(name), "<=", bound, None))
    return {
        "absolute": absolute,
        "ratios": ratios,
        "generator": generator,
        "floor": _floor_summary(floor) if floor else None,
        "targets": targets,
    }


def _target(
    name: str, value: float | None, op: str, bound: float, rng: tuple[float, float] | None
) -> dict[str, Any]:
    met = None if value is None else (value >= bound if op == ">=" else value <= bound)
    if value is None:
        miss = None
    elif op == ">=":
        miss = (bound - value) / bound
    else:
        miss = (value - bound) / bound
    return {
        "name": name,
        "value": value,
        "op": op,
        "bound": bound,
        "met": met,
        "range": list(rng) if rng else None,
        "shortfall": None if met else miss,
    }


def venv_description(meta: dict[str, Any]) -> str:
    service, hayhooks = bool(meta.get("service_venv")), bool(meta.get("hayhooks_venv"))
    if not (service or hayhooks):
        return "one venv for all servers"
    if service and hayhooks:
        return "service venv and Hayhooks venv: each server in a venv of its own dependencies"
    return "service venv" if service else "Hayhooks venv (the other servers in this one)"


def markdown(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    lines: list[str] = []
    mach = meta["machine"]
    lines.append(
        f"Machine: {mach['nproc']} CPUs ({mach['cpu_model']}), {mach['ram_gib']} GiB RAM, "
        f"Python {mach['python']}; " + ", ".join(f"{k} {v}" for k, v in mach["versions"].items())
    )
    lines.append(
        f"Run: {meta['date']}, git {meta['git']['commit'][:10]}"
        f"{' (dirty)' if meta['git']['dirty'] else ''}, rounds={meta['config']['rounds']}, "
        f"loader={meta['loader']}, "
        f"{venv_description(meta)}, "
        f"wall {meta['wall_s'] / 60:.1f} min"
    )
    lines.append("")
    pairs = [p for p in summary["ratios"] if summary["ratios"][p]]
    metrics = list(METRICS)
    extra = sorted({m for p in pairs for m in summary["ratios"][p] if m not in METRICS})
    lines.append(
        "Ratios A/B: median (min-max) over pairs: for load and stream metrics a pair is one "
        "slice of A and one of B of the same scenario and round, measured back to back; for cold "
        "start, the k-th start of A and of B in a round (1 + --cold-starts per round); for "
        "memory, one pair per round:"
    )
    lines.append("")
    lines.append("| metric | " + " | ".join(pairs) + " |")
    lines.append("|---|" + "---|" * len(pairs))
    for m in metrics + extra:
        unit, hib, _ = METRICS.get(m.split("@", 1)[0], ("", False, ""))
        cells = []
        for p in pairs:
            r = summary["ratios"][p].get(m)
            cells.append("" if r is None else f"{r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f})")
        arrow = "higher is better" if hib else "lower is better"
        lines.append(f"| {m} ({unit}; {arrow}) | " + " | ".join(cells) + " |")
    lines.append("")
    servers = list(summary["absolute"])
    lines.append("Absolute medians (min-max):")
    lines.append("")
    lines.append("| metric | " + " | ".join(servers) + " |")
    lines.append("|---|" + "---|" * len(servers))
    allm = metrics + sorted(
        {m for s in servers for m in summary["absolute"][s] if m not in METRICS}
    )
    for m in allm:
        cells = []
        for s in servers:
            v = summary["absolute"][s].get(m)
            d = 0 if (v and v["median"] >= 100) else 2
            cells.append(
                "" if v is None else f"{v['median']:.{d}f} ({v['min']:.{d}f}-{v['max']:.{d}f})"
            )
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    g = summary.get("generator")
    if g:
        lines.append("")
        lines.append("Generator speed, median seconds (min-max):")
        lines.append("")
        sizes = sorted({int(n) for d in g["median_s"].values() for n in d})
        lines.append("| step | " + " | ".join(f"n={n}" for n in sizes) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        for step in ("floor", "build", "check", "check_cold"):
            cells = []
            for n in sizes:
                v = g["median_s"].get(step, {}).get(str(n))
                rg = g["range_s"].get(step, {}).get(str(n))
                cells.append(
                    "" if v is None or rg is None else f"{v:.2f} ({rg[0]:.2f}-{rg[1]:.2f})"
                )
            lines.append(f"| {step} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("| generator ratio | value |")
        lines.append("|---|---|")
        for k, v in g["ratios"].items():
            lines.append(f"| {k} | {v:.2f} |")
    fl = summary.get("floor")
    if fl and fl["ratios"]:
        lines.append("")
        lines.append(
            "Cold start against the FastAPI floor (one /status route, nothing else) and "
            f"Hayhooks started with `hayhooks run`, "
            f"{fl['n']} alternating starts each; medians "
            + ", ".join(f"{k} {v:.3f} s" for k, v in fl["median_s"].items())
            + ":"
        )
        lines.append("")
        lines.append("| ratio | median (min-max) |")
        lines.append("|---|---|")
        for k, r in fl["ratios"].items():
            lines.append(f"| {k} | {r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f}) |")
    lines.append("")
    lines.append("Targets (issue 5):")
    lines.append("")
    lines.append("| target | measured | bound | met |")
    lines.append("|---|---|---|---|")
    for t in summary["targets"]:
        rng = f" ({t['range'][0]:.2f}-{t['range'][1]:.2f})" if t["range"] else ""
        if t["met"] is None:
            verdict = "not measured"
        elif t["met"]:
            verdict = "yes"
        else:
            verdict = f"NO, misses by {t['shortfall'] * 100:.{0 if t['shortfall'] >= 0.1 else 1}f}%"
        lines.append(
            f"| {t['name']} | {_fmt(t['value'])}{rng} | {t['op']} {t['bound']} | {verdict} |"
        )
    if meta.get("problems"):
        lines.append("")
        lines.append("Problems:")
        lines.extend(f"- {p}" for p in meta["problems"])
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> tuple[Config, argparse.Namespace]:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds per server (default 3)"
    )
    p.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated subset of " + ",".join(SERVERS),
    )
    p.add_argument(
        "--slices",
        type=int,
        default=3,
        help="load slices per scenario, server and round, alternating servers (3)",
    )
    p.add_argument("--json-seconds", type=float, default=2.0, help="one JSON slice (2)")
    p.add_argument("--file-seconds", type=float, default=2.0, help="one FileResponse slice (2)")
    p.add_argument("--upload-seconds", type=float, default=2.0, help="one upload slice (2)")
    p.add_argument("--warmup-seconds", type=float, default=1.0)
    p.add_argument("--streams", type=int, default=3, help="measured streams per server and round")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=20.0,
        help="before each round, wait up to this long for other load to drop (20)",
    )
    p.add_argument(
        "--quiet-pct",
        type=float,
        default=25.0,
        help="'quiet' means other processes use less than this %% of the CPU (25)",
    )
    p.add_argument("--gen-sizes", default="10,100,1000")
    p.add_argument("--gen-reps", type=int, default=None, help="default: --rounds")
    p.add_argument(
        "--many", type=int, default=100, help="pipelines in the many-pipelines cold start"
    )
    p.add_argument("--many-reps", type=int, default=None, help="default: --rounds")
    p.add_argument("--skip-generator", action="store_true")
    p.add_argument("--skip-many", action="store_true")
    p.add_argument(
        "--skip-floor",
        action="store_true",
        help="skip the cold starts against the FastAPI floor (handwritten/floor.py)",
    )
    p.add_argument(
        "--no-access-log",
        action="store_true",
        help="pass --no-access-log to every uvicorn (default: uvicorn's defaults)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=30.0,
        help="stop starting new rounds after this long (default 30)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 round, 2 s loads, 1 stream, generator sizes 10,100",
    )
    p.add_argument("--loader", choices=["auto", "wrk", "client"], default="auto")
    p.add_argument("--keep-temp", action="store_true", help="keep the temporary folder (logs)")
    p.add_argument(
        "--service-venv",
        action="store_true",
        help="run the generated and hand-written apps in a fresh venv holding only the "
        "generated service's dependencies (same versions as this interpreter's; "
        "needs pip access to a package index), as they would be deployed",
    )
    p.add_argument(
        "--hayhooks-venv",
        action="store_true",
        help="run Hayhooks in a fresh venv holding only hayhooks==2.1.0, what it requires, and "
        "uvloop and httptools (versions as this interpreter's), as a user installs it",
    )
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument(
        "--cold-starts",
        type=int,
        default=3,
        help="extra alternating cold starts per server and round (default 3)",
    )
    p.add_argument(
        "--report",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: recompute and print the tables of a saved results file",
    )
    a = p.parse_args(argv)
    cfg = Config(
        rounds=max(1, min(a.rounds, 50)),
        servers=tuple(s for s in a.servers.split(",") if s),
        json_s=a.json_seconds,
        file_s=a.file_seconds,
        upload_s=a.upload_seconds,
        warmup_s=a.warmup_seconds,
        streams=max(1, min(a.streams, 50)),
        slices=max(1, min(a.slices, 50)),
        quiet_wait=max(0.0, min(a.quiet_wait, 600.0)),
        quiet_pct=a.quiet_pct,
        gen_sizes=tuple(int(x) for x in a.gen_sizes.split(",") if x),
        many=a.many,
        cold_starts=max(0, min(a.cold_starts, 20)),
        skip_generator=a.skip_generator,
        skip_many=a.skip_many,
        skip_floor=a.skip_floor,
        max_minutes=a.max_minutes,
        extra_uvicorn=("--no-access-log",) if a.no_access_log else (),
    )
    cfg.gen_reps = max(1, min(a.gen_reps or cfg.rounds, 50))
    cfg.many_reps = max(1, min(a.many_reps or cfg.rounds, 50))
    if a.quick:
        cfg.rounds = 1
        cfg.json_s = cfg.file_s = cfg.upload_s = 1.0
        cfg.warmup_s = 0.5
        cfg.slices = 1
        cfg.streams = 1
        cfg.quiet_wait = 0.0
        cfg.gen_sizes = (10, 100)
        cfg.gen_reps = cfg.many_reps = 1
        cfg.cold_starts = 0
        cfg.many = min(cfg.many, 20)
    unknown = set(cfg.servers) - set(SERVERS)
    if unknown:
        p.error(f"unknown servers: {sorted(unknown)}")
    return cfg, a


def report_file(path: Path) -> int:
    payload = json.loads(path.read_text())
    summary = summarise(
        payload["samples"],
        payload.get("generator_raw"),
        payload.get("many_raw"),
        payload.get("floor_raw"),
    )
    print(markdown(summary, payload["meta"]), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    cfg, args = parse_args(argv)
    if args.report:
        return report_file(args.report)
    sys.path.insert(0, str(BENCH))
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    atexit.register(reap_all)
    wall0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="hhg-bench-"))
    problems: list[str] = []
    samples: dict[str, list[dict[str, Any]]] = {}
    probes: dict[str, Any] = {}
    gen = many = floor = None
    wrk = shutil.which("wrk") if args.loader in ("auto", "wrk") else None
    if args.loader == "wrk" and not wrk:
        log("wrk not found (Debian: apt-get install -y wrk)")
        return 2
    loader = Loader(wrk, write_wrk_scripts(tmp / "lua") if wrk else {})
    log(f"temp folder {tmp}; load generator: {'wrk' if wrk else 'bench/client.py load (httpx)'}")
    exit_code = 0
    try:
        logdir = tmp / "logs"
        logdir.mkdir()
        data_dir = tmp / "data"
        data_dir.mkdir()
        svc = tmp / "svc"
        secs, rc, text = timed(
            [PY, "-m", "hayhooks_gen", "build", str(WRAPPERS), "-o", str(svc)], tmp
        )
        if rc != 0:
            raise RuntimeError(f"hayhooks-gen build bench/wrappers failed ({rc}):\n{text}")
        log(f"built service from bench/wrappers in {secs:.2f}s")
        hh_wrappers = tmp / "hayhooks-wrappers"
        shutil.copytree(WRAPPERS, hh_wrappers, ignore=shutil.ignore_patterns("__pycache__"))
        service_python = PY
        if args.service_venv:
            service_python = make_service_venv(tmp / "service-venv")
            log(f"generated and hand-written apps run in their own venv: {service_python}")
        hayhooks_python = PY
        if args.hayhooks_venv:
            hayhooks_python = make_hayhooks_venv(tmp / "hayhooks-venv")
            log(f"Hayhooks runs in its own venv: {hayhooks_python}")
        specs = server_specs(
            svc, hh_wrappers, tmp, data_dir, cfg.extra_uvicorn, service_python, hayhooks_python
        )
        samples, probes, probs = server_rounds(cfg, specs, loader, logdir)
        problems += probs
        if (
            not cfg.skip_floor
            and {"generated", "hayhooks"} <= set(samples)
            and not cfg.out_of_time()
        ):
            log("cold start: generated, hayhooks, `hayhooks run` and the floor, alternating")
            floor = cold_start_floor(cfg, specs, logdir)
        if not cfg.skip_generator and not cfg.out_of_time():
            log("generator speed: sizes " + ",".join(map(str, cfg.gen_sizes)))
            gen = generator_speed(cfg, tmp)
            problems += gen["problems"]
        if not cfg.skip_many and not cfg.out_of_time():
            log(f"cold start with {cfg.many} pipelines")
            many = many_pipelines(
                cfg, tmp, logdir, cfg.extra_uvicorn, loader, service_python, hayhooks_python
            )
    except KeyboardInterrupt as exc:
        problems.append(f"interrupted: {exc}")
        exit_code = 130
    except Exception as exc:  # report what was measured, then fail
        problems.append(f"error: {type(exc).__name__}: {exc}")
        exit_code = 1
    finally:
        reap_all()
    if problems and exit_code == 0:
        exit_code = 1
    summary = summarise(samples, gen, many, floor)
    meta = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "git": git_state(),
        "loader": "wrk" if wrk else "client",
        "config": {k: v for k, v in vars(cfg).items() if k != "started"},
        "service_venv": bool(args.service_venv),
        "hayhooks_venv": bool(args.hayhooks_venv),
        "wall_s": time.monotonic() - wall0,
        "problems": problems,
        "servers": {k: LABELS[k] for k in samples},
    }
    report = markdown(summary, meta)
    print(report)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    payload = {
        "meta": meta,
        "summary": summary,
        "samples": samples,
        "probes": probes,
        "generator_raw": gen,
        "many_raw": many,
        "floor_raw": floor,
    }
    for name in (f"{stamp}.json", "latest.json"):
        (args.results / name).write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (args.results / "latest.md").write_text(report)
    log(f"saved {args.results / (stamp + '.json')} and latest.json / latest.md")
    if args.keep_temp:
        log(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
