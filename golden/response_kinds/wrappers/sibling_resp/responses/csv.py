from fastapi.responses import PlainTextResponse


class CSVResponse(PlainTextResponse):
    media_type = "text/csv"
