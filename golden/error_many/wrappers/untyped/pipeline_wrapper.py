from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text, times: int = 1) -> str:
        """The parameter text has no annotation."""
        return text * times
