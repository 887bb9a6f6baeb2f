"""The REST API, mounted at /api/ (OpenAPI 3.1 at /api/openapi.json, docs at /api/docs)."""

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Router

from opennrm.api import (
    casefile,
    cases,
    consents,
    persons,
    problems,
    protection,
    reference,
    referrals,
    screening,
    services,
    statistics,
)
from opennrm.api.auth import ApiTokenAuth, SessionAuth
from opennrm.api.parser import JsonParser
from opennrm.api.renderer import OrjsonRenderer


class OpenNrmApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """Ninja's schema, with errors declared as `application/problem+json`."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, response in operation["responses"].items():
                    if int(status) >= 400 and "content" in response:
                        response["content"] = {
                            problems.MEDIA_TYPE: response["content"].popitem()[1]
                        }
        return schema


api = OpenNrmApi(
    title="OpenNRM API",
    version="1",
    description="Cases of the National Referral Mechanism. Authenticate with a personal "
                "API token: `Authorization: Bearer <token>` (`opennrm tokens create`).",
    auth=[ApiTokenAuth(), SessionAuth()],
    parser=JsonParser(),
    renderer=OrjsonRenderer(),
    urls_namespace="api",
)
for exception, handler in problems.HANDLERS.items():
    api.add_exception_handler(exception, handler)

api.add_router("/cases", cases.router)
api.add_router("/cases", consents.router)
api.add_router("/persons", persons.router)
api.add_router("/cases", casefile.router)
api.add_router("", reference.router)
api.add_router("", screening.router)
api.add_router("", services.router)
api.add_router("", referrals.router)
api.add_router("", protection.router)
api.add_router("", statistics.router)

# Last, so it only answers paths no route matched: with a problem, not Django's HTML page.
unknown = Router()


@unknown.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}",
                       auth=None, include_in_schema=False)
def unknown_path(request: HttpRequest, rest: str):
    raise Http404("There is no such address in the API.")


api.add_router("", unknown)
