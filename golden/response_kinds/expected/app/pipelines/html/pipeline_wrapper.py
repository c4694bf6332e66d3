from fastapi.responses import HTMLResponse

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, title: str = "Hello") -> HTMLResponse:
        """Render a tiny HTML page."""
        return HTMLResponse(f"<h1>{title}</h1>")
