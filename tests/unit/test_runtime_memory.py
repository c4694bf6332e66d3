"""The generated runtime's idle memory release (``IdleMemoryRelease``), driven directly.

The runtime is the one a golden service ships; its resident-size reader and its heap
release are replaced by fakes so the decisions (when to release, when not) are checked
without depending on what the allocator does. The real release runs once at the end.
"""

from __future__ import annotations

import asyncio
import sys
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI

from support.golden_app import ImportFn

MiB = 2**20


@pytest.fixture
def runtime(golden_import: ImportFn) -> ModuleType:
    return golden_import("app.runtime")


class Heap:
    """A fake process: resident size in bytes, and a count of releases."""

    def __init__(self, runtime: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
        self.resident = 50 * MiB
        self.releases = 0
        monkeypatch.setattr(runtime, "_resident_bytes", lambda: self.resident)
        monkeypatch.setattr(runtime, "_release_heap", self.release)

    def release(self) -> int:
        self.releases += 1
        self.resident = 51 * MiB
        return self.resident


async def _endpoint(scope: Any, receive: Any, send: Any) -> None:
    await scope["gate"].wait()


async def _request(middleware: Any, gate: asyncio.Event, kind: str = "http") -> None:
    await middleware({"type": kind, "gate": gate}, None, None)


async def _one_request(middleware: Any, kind: str = "http") -> None:
    done = asyncio.Event()
    done.set()
    await _request(middleware, done, kind)


async def _settle(seconds: float = 0.2) -> None:
    """Long enough for a release that should not happen to have happened."""
    await asyncio.sleep(seconds)


async def _until(done: Any, timeout_s: float = 10.0) -> bool:
    """Poll ``done()`` (bounded): a release runs in a worker thread, later on a busy machine."""
    for _ in range(int(timeout_s / 0.01)):
        if done():
            return True
        await asyncio.sleep(0.01)
    return bool(done())


def test_releases_once_after_a_burst_and_never_while_busy(
    runtime: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    heap = Heap(runtime, monkeypatch)

    async def scenario() -> None:
        middleware = runtime.IdleMemoryRelease(_endpoint, delay=0.05)
        gate = asyncio.Event()
        burst = [asyncio.create_task(_request(middleware, gate)) for _ in range(3)]
        await asyncio.sleep(0)
        heap.resident = 80 * MiB  # the burst grew the heap
        await _settle()
        assert heap.releases == 0, "released while requests were in flight"
        gate.set()
        await asyncio.gather(*burst)
        assert await _until(lambda: heap.releases == 1 and not middleware.releasing)
        assert middleware.baseline == 51 * MiB
        # more requests that do not grow the process: nothing to give back
        await _one_request(middleware)
        await _settle()
        assert heap.releases == 1
        heap.resident = 60 * MiB
        await _one_request(middleware)
        assert await _until(lambda: heap.releases == 2)

    asyncio.run(scenario())


def test_a_new_request_before_the_delay_postpones_the_release(
    runtime: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    heap = Heap(runtime, monkeypatch)

    async def scenario() -> None:
        middleware = runtime.IdleMemoryRelease(_endpoint, delay=0.5)
        heap.resident = 90 * MiB
        timers = []
        for _ in range(5):  # back to back: each one restarts the idle delay
            await _one_request(middleware)
            timers.append(middleware.timer)
        assert len(set(map(id, timers))) == 5
        assert all(t.cancelled() for t in timers[:-1]) and not timers[-1].cancelled()
        assert heap.releases == 0
        assert await _until(lambda: heap.releases == 1)

    asyncio.run(scenario())


def test_lifespan_and_websocket_scopes_are_not_counted(
    runtime: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    heap = Heap(runtime, monkeypatch)

    async def scenario() -> None:
        middleware = runtime.IdleMemoryRelease(_endpoint, delay=0.01)
        heap.resident = 90 * MiB
        await _one_request(middleware, kind="lifespan")
        await _settle()
        assert heap.releases == 0 and middleware.timer is None

    asyncio.run(scenario())


def test_without_malloc_trim_it_stops_trying(
    runtime: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    heap = Heap(runtime, monkeypatch)
    monkeypatch.setattr(runtime, "_release_heap", lambda: None)  # e.g. musl

    async def scenario() -> None:
        middleware = runtime.IdleMemoryRelease(_endpoint, delay=0.01)
        heap.resident = 90 * MiB
        await _one_request(middleware)
        assert await _until(lambda: middleware.enabled is False)
        await _one_request(middleware)
        await _settle()
        assert middleware.timer is None

    asyncio.run(scenario())


def test_it_is_installed_outermost_unless_turned_off(
    runtime: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FastAPI()
    runtime.add_middleware(app)
    assert app.user_middleware[0].cls is runtime.IdleMemoryRelease
    monkeypatch.setenv("HAYHOOKS_GEN_RELEASE_MEMORY", "false")
    app = FastAPI()
    runtime.add_middleware(app)
    assert runtime.IdleMemoryRelease not in [m.cls for m in app.user_middleware]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, calls glibc")
def test_the_real_release_runs_and_reports_the_resident_size(runtime: ModuleType) -> None:
    before = runtime._resident_bytes()
    after = runtime._release_heap()
    assert isinstance(before, int) and before > 0
    assert isinstance(after, int) and after > 0
