from .a import Mid


class PipelineWrapper(Mid):
    """Every method is inherited, through a module that only re-exports the base."""

    def setup(self) -> None:
        self.pipeline = None
