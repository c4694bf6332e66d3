from ...runtime import BasePipelineWrapper

DEFAULT_K = 1
NAMES = ["a", "b"]


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(
        self,
        k: int = DEFAULT_K,
        pair: tuple[int, str] = (1, "a"),
        one: tuple[int, ...] = (1,),
        empty: tuple[int, ...] = (),
        upper: list[str] = [name.upper() for name in NAMES],
        parts: list[str] = "x,y".split(","),
    ) -> dict:
        """Defaults Python evaluated when the method was defined."""
        return {"k": k, "pair": pair, "one": one, "empty": empty, "upper": upper, "parts": parts}


# Rebound after the method was defined: its default stays 1.
DEFAULT_K = 2
