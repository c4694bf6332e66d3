from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, a: int) -> str:
        """Sync variant, shadowed by run_api_async."""
        return "sync"

    async def run_api_async(self, b: str = "x") -> str:
        """Async variant, which wins.

        Args:
            b: An ignored string.
        """
        return "async"
