from ...runtime import log
from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str) -> str:
        """Log and echo a text."""
        log.info("deep received {} characters", len(text))
        return text
