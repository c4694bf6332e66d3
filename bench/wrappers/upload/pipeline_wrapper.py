from fastapi import UploadFile

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, files: list[UploadFile]) -> dict:
        """Return the name and size of every uploaded file."""
        return {"files": [{"name": f.filename, "size": f.size} for f in files]}
