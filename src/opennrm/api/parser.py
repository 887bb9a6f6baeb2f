import json

from django.http import HttpRequest
from ninja.parser import Parser


class JsonParser(Parser):
    """JSON request bodies that are valid Unicode text.

    JSON may carry a lone surrogate (`"\\ud800"`), which Python parses but cannot encode,
    so it would fail late, when the service encrypts or stores it. Refused here, it is a
    400 like any other body that cannot be read.

    JSON is UTF-8 (RFC 8259 §8.1): `json.loads` would also take UTF-16 and UTF-32 bytes,
    and a byte-order mark; they are refused like invalid UTF-8, so every client sends the
    same text the web forms do.
    """

    def parse_body(self, request: HttpRequest) -> dict:
        text = request.body.decode("utf-8")  # UnicodeDecodeError (400) if not UTF-8
        if text.startswith("\ufeff"):
            raise ValueError("A JSON body must not start with a byte-order mark.")
        data = json.loads(text)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # UnicodeEncodeError if not
        return data
