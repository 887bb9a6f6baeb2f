"""/api/agencies and /api/codelists: the reference data clients need to fill in a case."""

from django.http import Http404, HttpRequest
from ninja import Router

from opennrm.accounts.models import Agency
from opennrm.api.problems import problems
from opennrm.api.schemas import AgencyOut, CodeList
from opennrm.core import codelists

router = Router(tags=["reference data"])


@router.get("/agencies", response={200: list[AgencyOut], **problems(401)},
            operation_id="listAgencies", summary="List the agencies taking part in the NRM")
def list_agencies(request: HttpRequest):
    return list(Agency.objects.values("code", "name", "agency_type", "country", "is_active"))


@router.get("/codelists", response={200: list[str], **problems(401)},
            operation_id="listCodeLists", summary="List the names of the code lists")
def list_code_lists(request: HttpRequest):
    return codelists.available()


@router.get("/codelists/{name}", response={200: CodeList, **problems(401, 404)},
            operation_id="readCodeList", summary="Read a code list with its version")
def read_code_list(request: HttpRequest, name: str):
    # Only names of known lists reach `load`, which builds a file path from the name.
    if name not in codelists.available():
        raise Http404("There is no code list with this name.")
    return codelists.load(name)
