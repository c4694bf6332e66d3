from .base import SharedBase


class PipelineWrapper(SharedBase):
    def setup(self) -> None:
        self.pipeline = None
