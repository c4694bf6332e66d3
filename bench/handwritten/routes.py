"""Routes, models, error mapping and lifespan of the hand-written apps, written by hand.

Each route is what a careful engineer would write knowing its wrapper: the request model's
fields are passed by name, a sync ``run_api`` runs in the thread pool, the generator function
is called directly (calling it runs none of its body), and nothing is introspected per request.

The wrapper classes come from a service built from ``bench/wrappers`` (their Hayhooks imports
are rewritten there, so importing them does not import Hayhooks): run from the built service
folder, with ``bench/`` as uvicorn's ``--app-dir``.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from app.pipelines.echo.pipeline_wrapper import PipelineWrapper as EchoWrapper
from app.pipelines.file.pipeline_wrapper import PipelineWrapper as FileWrapper
from app.pipelines.stream.pipeline_wrapper import CHUNKS
from app.pipelines.stream.pipeline_wrapper import PipelineWrapper as StreamWrapper
from app.pipelines.upload.pipeline_wrapper import PipelineWrapper as UploadWrapper
from fastapi import APIRouter, FastAPI, File, HTTPException, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

logger = logging.getLogger("handwritten")

SHOW_TRACEBACKS = os.environ.get("HAYHOOKS_SHOW_TRACEBACKS", "").strip().lower() in {
    "1",
    "true",
    "t",
    "yes",
    "y",
    "on",
}

echo = EchoWrapper()
file = FileWrapper()
stream = StreamWrapper()
upload = UploadWrapper()
WRAPPERS = {"echo": echo, "file": file, "stream": stream, "upload": upload}

router = APIRouter()


def pipeline_failed(exc: Exception) -> HTTPException:
    """Hayhooks' mapping of a wrapper failure: 500, ``Pipeline execution failed: ...``."""
    detail = f"Pipeline execution failed: {exc!s}"
    if SHOW_TRACEBACKS:
        detail += f"\n{traceback.format_exc()}"
    logger.error("Pipeline execution error: %s", exc, exc_info=exc)
    return HTTPException(status_code=500, detail=detail)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    for name, wrapper in WRAPPERS.items():
        try:
            await run_in_threadpool(wrapper.setup)
        except Exception as exc:
            raise RuntimeError(f"setup() of pipeline '{name}' failed: {exc}") from exc
    yield


# --- models ------------------------------------------------------------------------------


class EchoRequest(BaseModel):
    query: str = Field(description="The query to echo.")
    top_k: int = Field(
        default=5, description="How many results would be returned; negative fails (error mapping)."
    )


class EchoResponse(BaseModel):
    result: dict


class FileRequest(BaseModel):
    pass


class StreamRequest(BaseModel):
    count: int = Field(default=CHUNKS, description="How many chunks to stream.")


class UploadResponse(BaseModel):
    result: dict


# --- routes ------------------------------------------------------------------------------


@router.get("/status", tags=["status"])
async def status_all() -> dict[str, Any]:
    return {"status": "Up!", "pipelines": list(WRAPPERS)}


@router.post("/echo/run", tags=["pipelines"], response_model=EchoResponse)
async def echo_run(req: EchoRequest) -> EchoResponse:
    try:
        result = await run_in_threadpool(echo.run_api, query=req.query, top_k=req.top_k)
    except HTTPException:
        raise
    except Exception as exc:
        raise pipeline_failed(exc) from exc
    return EchoResponse(result=result)


@router.post("/file/run", tags=["pipelines"], response_model=None, response_class=FileResponse)
async def file_run(req: FileRequest) -> FileResponse:
    try:
        return await run_in_threadpool(file.run_api)
    except HTTPException:
        raise
    except Exception as exc:
        raise pipeline_failed(exc) from exc


@router.post(
    "/stream/run", tags=["pipelines"], response_model=None, response_class=StreamingResponse
)
async def stream_run(req: StreamRequest) -> StreamingResponse:
    try:
        chunks = stream.run_api(count=req.count)  # a generator function: no body runs here
    except HTTPException:
        raise
    except Exception as exc:
        raise pipeline_failed(exc) from exc
    return StreamingResponse(chunks, media_type="text/plain")


@router.post("/upload/run", tags=["pipelines"], response_model=UploadResponse)
async def upload_run(files: Annotated[list[UploadFile], File()]) -> UploadResponse:
    try:
        result = await run_in_threadpool(upload.run_api, files=files)
    except HTTPException:
        raise
    except Exception as exc:
        raise pipeline_failed(exc) from exc
    return UploadResponse(result=result)
