from typing import Any

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, query: str, top_k: int = 3, **kwargs: Any) -> dict:
        """Answer a query.

        Args:
            query: the question
            top_k: how many answers
            **kwargs: extra options (Hayhooks does not match this entry: the field is 'kwargs')
        """
        return {"query": query, "top_k": top_k, "received": kwargs}
