import hashlib
import os
import tempfile
from pathlib import Path

from fastapi.responses import FileResponse

from hayhooks import BasePipelineWrapper

FILE_SIZE = 8 * 1024 * 1024
FILE_NAME = "bench-8mib.bin"


def _ensure_file() -> Path:
    """Write the 8 MiB file deterministically into a temp dir (never into git).

    Content is a repeated SHA-256 chain, identical on every machine and every run.
    """
    directory = Path(os.environ.get("BENCH_DATA_DIR") or tempfile.gettempdir())
    path = directory / FILE_NAME
    if path.is_file() and path.stat().st_size == FILE_SIZE:
        return path
    block = b""
    digest = b"hayhooks-gen bench"
    while len(block) < 64 * 1024:
        digest = hashlib.sha256(digest).digest()
        block += digest
    data = (block * (FILE_SIZE // len(block) + 1))[:FILE_SIZE]
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{FILE_NAME}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None
        self.path = _ensure_file()

    def run_api(self) -> FileResponse:
        """Download an 8 MiB binary file."""
        return FileResponse(self.path, media_type="application/octet-stream", filename=FILE_NAME)
