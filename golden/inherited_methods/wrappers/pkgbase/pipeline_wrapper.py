from . import common


class PipelineWrapper(common.Base):
    def setup(self) -> None:
        self.pipeline = None
