from ...runtime import BasePipelineWrapper


class DocumentedBase(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, query: str) -> str:
        """Answer a query, as documented in the base.

        Args:
            query: What to answer.

        Returns:
            The answer.
        """
        return "base:" + query
