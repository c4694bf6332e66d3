from fastapi import UploadFile

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, files: list[UploadFile] | None = None, **meta: str) -> dict:
        """Count the files; meta is a required form field."""
        return {"files": [f.filename for f in files or []], "meta": meta}
