from typing import *

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, x: Optional[int] = None) -> str:
        """Optional comes from a star import, which cannot be resolved statically."""
        return str(x)
