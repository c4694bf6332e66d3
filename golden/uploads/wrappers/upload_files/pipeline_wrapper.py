from fastapi import UploadFile

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, files: list[UploadFile] | None = None, note: str = "") -> dict:
        """Report the name and size of each uploaded file."""
        return {
            "note": note,
            "files": [{"name": f.filename, "size": len(f.file.read())} for f in files or []],
        }
