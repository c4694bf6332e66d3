#!/usr/bin/env python3
"""Where the time goes: py-spy profiles of a server under one bench load, or of the generator.

    pip install py-spy    # any environment; pass --py-spy PATH when it is not on PATH
    python bench/profile.py server --server generated --scenario json
    python bench/profile.py server --server hayhooks --scenario upload --seconds 8
    python bench/profile.py generator --wrappers 100 [--command check]
    python bench/profile.py startup --pipelines 100 [--runs 5]

``server`` builds the service from ``bench/wrappers`` (as run.py does), starts the chosen
server on 127.0.0.1, puts it under the scenario's load from a separate process (wrk or
``client.py``), and samples it with ``py-spy record --pid`` for ``--seconds``. ``generator``
runs ``hayhooks-gen build`` (or ``check``) under py-spy on N generated trivial wrappers.
``startup`` builds a service from N trivial wrappers (``bench/wrappers`` with
``--pipelines 0``) and samples what a cold start runs before uvicorn listens: importing uvicorn
and ``app.main``, then the app's lifespan start-up (every ``setup()``), ``--runs`` times.

Prints the top functions by inclusive and by self time, as percentages of the non-idle
samples, split by thread kind (event loop vs thread pool), and saves the raw collapsed stacks
(``--raw PATH``) for flame graphs. Bounded in time; every child is killed at the end.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench

FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def find_py_spy(explicit: str | None) -> str:
    candidates = [explicit, shutil.which("py-spy"), str(Path(sys.executable).parent / "py-spy")]
    for c in candidates:
        if c and Path(c).is_file():
            return c
    raise SystemExit("py-spy not found: `pip install py-spy` and pass --py-spy PATH")


def short_file(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/", "/app/", "/bench/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return Path(path).name if "/" in path else path


def frame_key(frame: str) -> str:
    m = FRAME_RE.match(frame.strip())
    if not m:
        return frame.strip()
    return f"{m['func']} ({short_file(m['file'])})"


def summarise(raw: Path, top: int, focus: list[str]) -> str:
    stacks: list[tuple[list[str], int]] = []
    for line in raw.read_text(errors="replace").splitlines():
        head, _, count = line.rpartition(" ")
        if not head or not count.isdigit():
            continue
        frames = [f for f in head.split(";") if f and not f.startswith(("process ", "thread "))]
        stacks.append(([frame_key(f) for f in frames], int(count)))
    total = sum(c for _, c in stacks)
    if not total:
        return "no samples"
    incl: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for frames, count in stacks:
        for f in set(frames):
            incl[f] += count
        if frames:
            self_[frames[-1]] += count
        joined = ";".join(frames)
        if "WorkerThread.run" in joined or (
            "_bootstrap_inner" in joined and "Runner.run" not in joined
        ):
            kinds["worker threads"] += count
        elif "Runner.run" in joined or "asyncio_run" in joined:
            kinds["event loop thread"] += count
        else:
            kinds["other"] += count
    out = [f"{total} non-idle samples"]
    out.append(
        "by thread kind: " + ", ".join(f"{k} {v / total:.0%}" for k, v in kinds.most_common())
    )
    out.append("")
    out.append(f"top {top} inclusive (function (file): % of samples):")
    for f, c in incl.most_common(top):
        out.append(f"  {c / total:6.1%}  {f}")
    out.append("")
    out.append(f"top {top} self:")
    for f, c in self_.most_common(top):
        out.append(f"  {c / total:6.1%}  {f}")
    if focus:
        out.append("")
        out.append("focus (inclusive, any frame containing):")
        for word in focus:
            c = sum(cnt for frames, cnt in stacks if any(word in fr for fr in frames))
            out.append(f"  {c / total:6.1%}  {word}")
    return "\n".join(out)


def profile_server(a: argparse.Namespace, py_spy: str, tmp: Path) -> Path:
    svc = tmp / "svc"
    _, rc, text = bench.timed(
        [bench.PY, "-m", "hayhooks_gen", "build", str(bench.WRAPPERS), "-o", str(svc)], tmp
    )
    if rc != 0:
        raise SystemExit(f"build failed:\n{text}")
    hh = tmp / "hayhooks-wrappers"
    shutil.copytree(bench.WRAPPERS, hh, ignore=shutil.ignore_patterns("__pycache__"))
    data = tmp / "data"
    data.mkdir()
    extra = ("--no-access-log",) if a.no_access_log else ()
    specs = bench.server_specs(svc, hh, tmp, data, extra)
    wrk = shutil.which("wrk")
    loader = bench.Loader(wrk, bench.write_wrk_scripts(tmp / "lua") if wrk else {})
    logdir = tmp / "logs"
    logdir.mkdir()
    raw = Path(a.raw) if a.raw else tmp / "profile.txt"
    with bench.serve(specs[a.server], logdir, "profile") as running:
        url = running.url
        if a.scenario == "stream":
            load_cmd = [
                bench.PY,
                str(bench.CLIENT),
                "stream",
                "--url",
                url,
                "--count",
                str(max(1, int(a.seconds * 10))),
                "--warmup",
                "1",
            ]
        elif wrk:
            load_cmd = [
                wrk,
                "-t1",
                f"-c{a.concurrency}",
                f"-d{int(a.seconds) + 3}s",
                "--timeout",
                "10s",
                "-s",
                str(loader.lua[a.scenario]),
                url + bench.PATHS[a.scenario],
            ]
        else:
            load_cmd = [
                bench.PY,
                str(bench.CLIENT),
                "load",
                "--url",
                url,
                "--scenario",
                a.scenario,
                "-c",
                str(a.concurrency),
                "-d",
                str(a.seconds + 3),
            ]
        loader.run(url, a.scenario if a.scenario != "stream" else "json", a.concurrency, 1.0)
        load = bench.spawn(
            load_cmd, stdout=bench.subprocess.DEVNULL, stderr=bench.subprocess.DEVNULL
        )
        try:
            time.sleep(1.0)
            r = bench.run_bounded(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(running.proc.pid),
                    "--duration",
                    str(int(a.seconds)),
                    "--rate",
                    str(a.rate),
                    "--format",
                    "raw",
                    "--threads",
                    "--gil",
                    "--full-filenames",
                    "-o",
                    str(raw),
                ],
                timeout=a.seconds + 60,
            )
            if r.returncode != 0:
                raise SystemExit(f"py-spy failed: {r.stderr.decode()[-2000:]}")
        finally:
            bench.reap(load)
    return raw


def profile_generator(a: argparse.Namespace, py_spy: str, tmp: Path) -> Path:
    w = bench.make_trivial_wrappers(tmp / "w", a.wrappers)
    out = tmp / "out"
    raw = Path(a.raw) if a.raw else tmp / "profile.txt"
    gen = [bench.PY, "-m", "hayhooks_gen"]
    if a.command == "check":
        bench.timed([*gen, "build", str(w), "-o", str(out)], tmp)
    else:
        bench.timed([*gen, "build", str(w), "-o", str(tmp / "warm")], tmp)  # warm caches
    record = [py_spy, "record", "--rate", str(a.rate), *(["--idle"] if a.wall else [])]
    record_command(record, raw, [*gen, a.command, str(w), "-o", str(out)], cwd=tmp)
    return raw


def record_command(
    record: list[str], raw: Path, command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> None:
    """``py-spy record`` (with its options) of one command, collapsed stacks into ``raw``."""
    r = bench.run_bounded(
        [*record, "--format", "raw", "--full-filenames", "-o", str(raw), "--", *command],
        timeout=600,
        cwd=cwd,
        env=env,
    )
    if r.returncode != 0:
        raise SystemExit(f"py-spy failed: {r.stderr.decode()[-2000:]}")


STARTUP_CODE = """\
import asyncio
import uvicorn
import app.main


async def start() -> None:
    async with app.main.app.router.lifespan_context(app.main.app):
        pass


asyncio.run(start())
"""


def profile_startup(a: argparse.Namespace, py_spy: str, tmp: Path) -> Path:
    wrappers = bench.WRAPPERS
    if a.pipelines:
        wrappers = bench.make_trivial_wrappers(tmp / "w", a.pipelines)
    svc = tmp / "svc"
    _, rc, text = bench.timed(
        [bench.PY, "-m", "hayhooks_gen", "build", str(wrappers), "-o", str(svc)], tmp
    )
    if rc != 0:
        raise SystemExit(f"build failed:\n{text}")
    env = bench.clean_env({"BENCH_DATA_DIR": str(tmp / "data")})
    bench.run_bounded([bench.PY, "-c", STARTUP_CODE], timeout=120, cwd=svc, env=env)  # bytecode
    raw = Path(a.raw) if a.raw else tmp / "profile.txt"
    lines: list[str] = []
    for run in range(a.runs):
        part = tmp / f"startup-{run}.txt"
        record = [py_spy, "record", "--rate", str(a.rate)]
        record_command(record, part, [bench.PY, "-c", STARTUP_CODE], cwd=svc, env=env)
        lines += part.read_text(errors="replace").splitlines()
    raw.write_text("\n".join(lines) + "\n")
    return raw


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--py-spy", help="path to py-spy (default: PATH, then next to python)")
    p.add_argument("--rate", type=int, default=250, help="samples per second")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--raw", help="where to save the collapsed stacks (default: temp)")
    p.add_argument("--focus", default="", help="comma-separated substrings to total")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("--server", choices=bench.SERVERS, default="generated")
    s.add_argument("--scenario", choices=["json", "file", "upload", "stream"], default="json")
    s.add_argument("--seconds", type=float, default=8.0)
    s.add_argument("-c", "--concurrency", type=int, default=16)
    s.add_argument("--no-access-log", action="store_true")
    g = sub.add_parser("generator")
    g.add_argument("--wrappers", type=int, default=100)
    g.add_argument("--command", choices=["build", "check"], default="build")
    g.add_argument(
        "--wall",
        action="store_true",
        help="wall-clock profile: include time spent waiting (ruff, fsync, disk)",
    )
    st = sub.add_parser("startup")
    st.add_argument("--pipelines", type=int, default=100, help="0: bench/wrappers")
    st.add_argument("--runs", type=int, default=5)
    a = p.parse_args(argv)
    a.runs = max(1, min(getattr(a, "runs", 1), 20))
    a.seconds = min(getattr(a, "seconds", 8.0), 120.0)
    py_spy = find_py_spy(a.py_spy)
    tmp = Path(tempfile.mkdtemp(prefix="hhg-profile-"))
    try:
        profilers = {
            "server": profile_server,
            "generator": profile_generator,
            "startup": profile_startup,
        }
        raw = profilers[a.cmd](a, py_spy, tmp)
        print(summarise(raw, a.top, [f for f in a.focus.split(",") if f]))
        if a.raw:
            print(f"\nraw collapsed stacks: {raw}")
    finally:
        bench.reap_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
