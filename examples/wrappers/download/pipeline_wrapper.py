from pathlib import Path

from fastapi.responses import FileResponse

from hayhooks import BasePipelineWrapper

HELLO_FILE = Path(__file__).parent / "hello.txt"


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self) -> FileResponse:
        """Download the bundled hello.txt file."""
        return FileResponse(HELLO_FILE, media_type="text/plain", filename="hello.txt")
