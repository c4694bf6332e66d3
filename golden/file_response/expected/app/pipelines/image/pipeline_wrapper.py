from pathlib import Path

from fastapi.responses import FileResponse

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, name: str = "logo") -> FileResponse:
        """Return the bundled logo image."""
        return FileResponse(
            Path(__file__).parent / "logo.png",
            media_type="image/png",
            filename="logo.png",
            headers={"x-wrapper": "1"},
        )
