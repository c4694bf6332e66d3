from ....runtime import BasePipelineWrapper


class Base(BasePipelineWrapper):
    async def run_api_async(self, n: int) -> dict:
        """Double."""
        return {"n": 2 * n}
