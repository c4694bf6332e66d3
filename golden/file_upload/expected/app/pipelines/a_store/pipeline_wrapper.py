import hashlib

from fastapi import HTTPException
from fastapi_openai_compat import FileObject

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None
        self.files: dict[str, dict] = {}

    def run_file_upload(
        self, filename: str | None, content_type: str | None, content: bytes, purpose: str
    ) -> dict:
        """Every upload lands here: a_store is the first pipeline implementing it."""
        if purpose == "http":
            raise HTTPException(status_code=413, detail="too big")
        if purpose == "boom":
            raise OSError("disk full")
        if purpose == "bad":
            return "not a file object"  # answered 500
        if purpose == "invalid":
            return {"id": "file-x"}  # misses required fields: answered 500
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = {
            "name": filename,
            "type": content_type,
            "sha256": hashlib.sha256(content).hexdigest(),
        }
        if purpose == "object":
            return FileObject(
                id=file_id, bytes=len(content), created_at=1700000000, filename=filename, purpose=purpose
            )
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": 1700000000,
            "filename": filename,
            "purpose": purpose,
            "status": "uploaded",
            "custom": content_type,
        }

    def run_api(self, file_id: str) -> dict:
        """What is stored under a file id."""
        return self.files.get(file_id, {})
