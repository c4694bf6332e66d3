from pathlib import Path

from ...runtime import BasePipelineWrapper

from .helper import Greeting, greet
from .sub.util import shout

WORDS_FILE = Path(__file__).parent / "data" / "words.txt"


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, name: str = "world", loud: bool = False) -> Greeting:
        """Greet someone in every language listed in data/words.txt."""
        words = WORDS_FILE.read_text(encoding="utf-8").split()
        greeting = greet(name, words)
        if loud:
            greeting.text = shout(greeting.text)
        return greeting
