from .settings import SUFFIX

LOUD = SUFFIX * 3
