from openai.types import CompletionUsage

from hayhooks import BasePipelineWrapper


class NotedUsage(CompletionUsage):
    note: str = ""


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, note: str) -> NotedUsage:
        """A model of this folder deriving from an installed package's model."""
        return NotedUsage(prompt_tokens=1, completion_tokens=1, total_tokens=2, note=note)
