import json

from django.http import HttpRequest
from ninja.parser import Parser


class JsonParser(Parser):
    """JSON request bodies that are valid Unicode text.

    JSON may carry a lone surrogate (`"\\ud800"`), which Python parses but cannot encode,
    so it would fail late, when the service encrypts or stores it. Refused here, it is a
    400 like any other body that cannot be read.
    """

    def parse_body(self, request: HttpRequest) -> dict:
        data = super().parse_body(request)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # UnicodeEncodeError if not
        return data
