from fastapi.responses import RedirectResponse

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self) -> RedirectResponse:
        """Redirect to the status page."""
        return RedirectResponse("/status", status_code=307)
