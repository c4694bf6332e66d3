from fastapi import UploadFile

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, files: list[UploadFile], tags: list[str] = []) -> dict:
        """Require at least one upload and echo the tags."""
        return {"count": len(files), "names": [f.filename for f in files], "tags": tags}
