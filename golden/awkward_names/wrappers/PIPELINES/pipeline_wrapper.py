from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str = "x") -> str:
        """Echo the text with the pipeline name."""
        return "PIPELINES:" + text
