from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, query: str, top_k: int = 5, flag: bool | None = None) -> dict:
        """Echo the request parameters back.

        Args:
            query: The query text.
            top_k: How many results to return.

        Returns:
            The parameters as received.
        """
        return {"query": query, "top_k": top_k, "flag": flag}
