"""hayhooks-gen: generate an explicit FastAPI service from Hayhooks pipeline wrapper folders."""

__version__ = "0.1.0"
