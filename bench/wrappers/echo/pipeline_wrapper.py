from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, query: str, top_k: int = 5) -> dict:
        """Echo the query back.

        Args:
            query: The query to echo.
            top_k: How many results would be returned; negative fails (error mapping).
        """
        if top_k < 0:
            raise ValueError("top_k must be >= 0")
        return {"query": query, "top_k": top_k, "documents": [query] * min(top_k, 5)}
