from fastapi.responses import PlainTextResponse

from hayhooks import BasePipelineWrapper


class CSVResponse(PlainTextResponse):
    media_type = "text/csv"


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self) -> CSVResponse:
        """Return CSV through a Response subclass defined in this module."""
        return CSVResponse("a,b\n1,2\n")
