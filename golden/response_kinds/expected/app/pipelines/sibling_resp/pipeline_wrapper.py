from ...runtime import BasePipelineWrapper

from .responses import CSVResponse


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self) -> CSVResponse:
        """Return CSV through a Response subclass of another module, re-exported by a package."""
        return CSVResponse("x,y\n3,4\n")
