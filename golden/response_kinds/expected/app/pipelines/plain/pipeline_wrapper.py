from starlette.responses import PlainTextResponse

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str = "hello") -> PlainTextResponse:
        """Return plain text."""
        return PlainTextResponse(text)
