from hayhooks import BasePipelineWrapper

from .helper import SUFFIX


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, q: str) -> str:
        """Echo with a suffix."""
        return q + SUFFIX
