"""The benchmark's reference: a hand-written, explicit FastAPI app for the four bench wrappers.

It serves what the generated service serves for ``bench/wrappers`` (``POST /echo/run``,
``/file/run``, ``/stream/run``, ``/upload/run``, and ``GET /status``) with the same behaviour
and the same middleware: CORS configured with Hayhooks' defaults, an ``x-request-id`` header
on every response, the idle memory release (taken from the built service's runtime rather
than written twice), and the same error mapping (``HTTPException`` passes through, anything
else is 500 ``{"detail": "Pipeline execution failed: ..."}``). Routes are in ``routes.py``,
written the idiomatic way: one ``APIRouter`` included in the app, ``run_in_threadpool``.

Run it from a service built from ``bench/wrappers`` (the wrapper classes come from there)::

    cd OUT && python -m uvicorn handwritten.app:app --app-dir /path/to/bench --port 8000
"""

from __future__ import annotations

import uuid

from app.runtime import IdleMemoryRelease
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handwritten.routes import lifespan, router


class RequestIdMiddleware:
    """``x-request-id`` (8 hex digits, new for every request) on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:8].encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)


app = FastAPI(title="Hayhooks (hand-written)", lifespan=lifespan)
app.add_middleware(RequestIdMiddleware)
# Hayhooks' defaults: all origins, methods and headers; no credentials; max_age 600.
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_methods=["*"],
    allow_headers=["*"],
    allow_credentials=False,
    expose_headers=[],
    max_age=600,
)
app.add_middleware(IdleMemoryRelease)  # outermost, as in the generated service
app.include_router(router)
