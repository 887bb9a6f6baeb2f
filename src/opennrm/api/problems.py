"""Error answers of the API as RFC 9457 problem details (`application/problem+json`).

Every error a client can cause names the field it belongs to, in the words the service
layer uses. Nothing else leaves the server: an unexpected error is logged and answered
with a bare 500, never with its message.
"""

import json
import logging
from http import HTTPStatus

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as ServiceValidationError
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from opennrm.cases import access
from opennrm.core.middleware import body_limit

MEDIA_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)


class FieldError(Schema):
    field: str | None = None
    message: str


class Problem(Schema):
    """RFC 9457 problem details, with one entry in `errors` per wrong field."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


def problems(*statuses: int) -> dict[int, type[Problem]]:
    """Declare the error answers an operation can give (for `response=`)."""
    return dict.fromkeys(statuses, Problem)


def problem_response(status: int, detail: str,
                     errors: list[dict] | None = None) -> HttpResponse:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
            "detail": detail, "errors": errors or []}
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                        content_type=MEDIA_TYPE)


def with_field_names(error: ServiceValidationError, names: dict[str, str]):
    """The service's validation error with its fields renamed to the API's field names."""
    return ServiceValidationError({
        names.get(field, field): messages for field, messages in error.message_dict.items()
    })


def _service_errors(error: ServiceValidationError) -> list[dict]:
    if not hasattr(error, "error_dict"):
        return [{"field": None, "message": message} for message in error.messages]
    return [
        {"field": None if field == NON_FIELD_ERRORS else field, "message": message}
        for field, messages in error.message_dict.items() for message in messages
    ]


def _request_field(location: tuple) -> str | None:
    source, *path = location
    if source == "body":
        path = path[1:]  # the first step names the handler's body parameter, not a field
    return ".".join(str(step) for step in path) or None


def invalid_input(request: HttpRequest, error: ServiceValidationError) -> HttpResponse:
    return problem_response(422, "The request has errors; see the message for each field.",
                            _service_errors(error))


def invalid_request(request: HttpRequest, error: RequestValidationError) -> HttpResponse:
    errors = [{"field": _request_field(tuple(e["loc"])), "message": e["msg"]}
              for e in error.errors]
    return problem_response(422, "The request has errors; see the message for each field.",
                            errors)


def case_not_found(request: HttpRequest, error: access.CaseNotFound) -> HttpResponse:
    # The same answer whether the case does not exist or belongs to another agency.
    return problem_response(404, "There is no case with this number that you may see.")


def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return problem_response(404, str(error) or "Not found.")


def access_denied(request: HttpRequest, error: access.CaseAccessDenied) -> HttpResponse:
    return problem_response(403, str(error) or "You may not do this.")


def permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return problem_response(403, str(error) or "You may not do this.")


def not_authenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = problem_response(
        401, "Send a valid API token (Authorization: Bearer <token>) or sign in."
    )
    response["WWW-Authenticate"] = 'Bearer realm="OpenNRM"'
    return response


def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return problem_response(error.status_code, str(error))


def body_too_large(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    # Django raises it when a body without Content-Length (or a form's fields) grows past
    # the limit while being read; a declared length is refused earlier, by the middleware.
    return problem_response(
        413, f"The request body is too large (at most {body_limit(request)} bytes).")


def unreadable_body(request: HttpRequest, error: Exception) -> HttpResponse:
    # Malformed multipart (no boundary, cut short), too many fields or files, a body the
    # client stopped sending: the request cannot be read, which is the client's error.
    return problem_response(400, "The request body cannot be read: " + {
        MultiPartParserError: "malformed multipart/form-data.",
        UnreadablePostError: "the body was cut short.",
    }.get(type(error), "it is malformed or has too many parts."))


def server_error(request: HttpRequest, error: Exception) -> HttpResponse:
    logger.exception("Unexpected error answering %s %s", request.method, request.path)
    return problem_response(500, "Something went wrong on the server. It has been logged.")


HANDLERS = {
    ServiceValidationError: invalid_input,
    RequestValidationError: invalid_request,
    access.CaseNotFound: case_not_found,
    Http404: not_found,
    access.CaseAccessDenied: access_denied,
    PermissionDenied: permission_denied,
    AuthenticationError: not_authenticated,
    HttpError: http_error,
    RequestDataTooBig: body_too_large,
    MultiPartParserError: unreadable_body,
    UnreadablePostError: unreadable_body,
    SuspiciousOperation: unreadable_body,
    BadRequest: unreadable_body,
    Exception: server_error,
}
