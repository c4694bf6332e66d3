from .csv import CSVResponse

__all__ = ["CSVResponse"]
