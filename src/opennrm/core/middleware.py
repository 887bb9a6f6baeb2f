import json
import time
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

API_PREFIX = "/api/"
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"


def refusal(request, status: int, detail: str) -> HttpResponse:
    """An answer to a request refused before any view ran: problem details on the API
    (api.problems' format), plain text on the web."""
    if request.path.startswith(API_PREFIX):
        body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                "detail": detail, "errors": []}
        return HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                            content_type="application/problem+json")
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


def body_limit(request) -> int:
    """The largest body `request` may have: OPENNRM_MAX_BODY_BYTES for a file upload,
    DATA_UPLOAD_MAX_MEMORY_SIZE for anything else (JSON, a form)."""
    if request.content_type == MULTIPART_TYPE:
        return settings.OPENNRM_MAX_BODY_BYTES
    return min(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.OPENNRM_MAX_BODY_BYTES)


class CappedStream:
    """A request body stream that raises RequestDataTooBig once more than `limit` bytes
    were read: the cap for a body sent without Content-Length (chunked)."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.read_bytes = stream, limit, 0

    def _count(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise RequestDataTooBig(_("The request body is too large."))
        return data

    def read(self, *args) -> bytes:
        return self._count(self.stream.read(*args))

    def readline(self, *args) -> bytes:
        return self._count(self.stream.readline(*args))

    def __iter__(self):
        return iter(self.readline, b"")

    def __getattr__(self, name: str):
        return getattr(self.stream, name)  # close() and the like


def too_large(request, limit: int) -> HttpResponse:
    return refusal(request, 413, _("The request body is larger than %(limit)d bytes.")
                   % {"limit": limit})


def is_utf8_form(body: bytes) -> bool:
    """True when every name and value of a URL-encoded form body is UTF-8 once
    percent-decoded (Django would decode bad bytes to U+FFFD and store them)."""
    try:
        for pair in body.replace(b";", b"&").split(b"&"):
            unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class RequestBodyMiddleware:
    """Refuse a request body that is too large, or a form that is not UTF-8, before anything
    parses it.

    * Content-Length over the limit (`body_limit`): 413, the body unread. Without
      Content-Length the stream is capped, and reading past the limit raises
      RequestDataTooBig (the API answers 413, the web 400).
    * A malformed Content-Length: 400.
    * A URL-encoded form whose text is not UTF-8: 400, like the API refuses such JSON.
      Multipart forms: a text field Django could not decode (U+FFFD) is refused the same.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self.check(request)
        return refused if refused is not None else self.get_response(request)

    def check(self, request) -> HttpResponse | None:
        limit = body_limit(request)
        length = request.META.get("CONTENT_LENGTH")
        if length:
            try:
                size = int(length)
            except ValueError:
                size = -1
            if size < 0:
                return refusal(request, 400, _("The Content-Length header is not a number."))
            if size > limit:
                return too_large(request, limit)
        elif hasattr(request, "_stream"):
            request._stream = CappedStream(request._stream, limit)
        if request.method == "POST" and not request.path.startswith(API_PREFIX):
            return self.check_form_encoding(request)
        return None

    @staticmethod
    def check_form_encoding(request) -> HttpResponse | None:
        message = _("The form was not sent as UTF-8 text. Reload the page and send it again.")
        try:
            if request.content_type == FORM_TYPE:
                if not is_utf8_form(request.body):
                    return refusal(request, 400, message)
            elif request.content_type == MULTIPART_TYPE:
                if any("\ufffd" in value for values in request.POST.lists()
                       for value in values[1]) or any("\ufffd" in key for key in request.POST):
                    return refusal(request, 400, message)
        except RequestDataTooBig:
            return too_large(request, body_limit(request))
        except (MultiPartParserError, SuspiciousOperation, UnreadablePostError, OSError):
            return refusal(request, 400, _("The form could not be read."))
        return None


class NoStoreMiddleware:
    """Keep pages of signed-in users out of browser and proxy caches.

    A shared computer's back button or disk cache must not show a person's case to the
    next user.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response


def session_renewal_seconds() -> int:
    """How often an active session's expiry is pushed forward (at most once a minute)."""
    return min(60, settings.SESSION_COOKIE_AGE // 10)


class SlidingSessionMiddleware:
    """Renew a signed-in user's session at most once a minute instead of on every request.

    The session still ends after SESSION_COOKIE_AGE without activity (give or take the
    renewal interval, which the browser's inactivity clock allows for), but a page view no
    longer costs a database write and commit.
    """

    KEY = "_renewed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(self.KEY, 0) >= session_renewal_seconds():
                request.session[self.KEY] = now  # marks the session modified: saved
        return self.get_response(request)
