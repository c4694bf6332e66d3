from hayhooks import BasePipelineWrapper

from .helpers import tokenise


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, q: str) -> list:
        """Split a text into words."""
        return tokenise(q)
