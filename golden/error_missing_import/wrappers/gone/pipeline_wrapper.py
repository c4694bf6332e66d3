from hayhooks import BasePipelineWrapper

from .helper import LOUD


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, q: str) -> str:
        """Echo loudly."""
        return q + LOUD
