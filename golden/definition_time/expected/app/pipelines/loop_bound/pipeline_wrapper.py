from ...runtime import BasePipelineWrapper

OFFSET = 1
# A loop binds STEP before the class: 3 when run_api is defined.
for STEP in (2, 3):
    pass


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, offset: int = OFFSET, step: int = STEP) -> dict:
        """Defaults bound by loops."""
        return {"offset": offset, "step": step}


# Rebound by a loop after the method was defined: its default stays 1.
for OFFSET in (7, 8):
    pass
