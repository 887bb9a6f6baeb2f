"""/api/statistics and /api/releases: disclosure-controlled tables and published releases.

For analysts and the national coordinator only. Nothing here carries an identity: the
tables come out of `statistics.releases.controlled`, after disclosure control. Handlers
translate HTTP to calls of `statistics.releases`; the rules live there. The schemas are
in `statistics_schemas.py`.
"""

from datetime import date

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Path, Query, Router
from ninja.responses import Status

from opennrm.api.problems import problem_response, problems
from opennrm.api.statistics_schemas import (
    BudgetOut,
    ExportQuery,
    ExtractQuery,
    PeriodQuery,
    ReleaseDetailOut,
    ReleaseIn,
    ReleaseOut,
    SyntheticExtractIn,
    TableExportQuery,
    TableQuery,
    TableSetInfo,
    TableSetKey,
    TableSetOut,
    VerificationOut,
)
from opennrm.statistics import engine, policy, releases
from opennrm.statistics.access import ensure_can_view_statistics
from opennrm.statistics.models import Release
from opennrm.statistics.periods import PeriodError, format_period, parse_period
from opennrm.statistics.tables import TableSetResult

CHANNEL = "api"

router = Router(tags=["statistics"])


def _period(text: str) -> tuple[date, date]:
    try:
        return parse_period(text)
    except PeriodError as error:
        raise _Invalid(str(error), "period") from error


class _Invalid(Exception):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _invalid(error: _Invalid) -> HttpResponse:
    return problem_response(422, str(error), [{"field": error.field, "message": str(error)}])


def _refused(error: releases.ReleaseError) -> HttpResponse:
    """A refused control or release: 422, naming the control when the node's policy is
    what refuses it."""
    cause = error.__cause__
    if isinstance(cause, policy.PolicyError):
        return problem_response(422, str(error), [{"field": cause.field,
                                                   "message": str(error)}])
    return problem_response(422, str(error))


def _release_out(release: Release) -> dict:
    return {
        "id": release.pk, "table_set": release.table_set,
        "title": releases.release_title(release),
        "period_start": release.period_start, "period_end": release.period_end,
        "published_at": release.published_at, "published_by": release.published_by.username,
        "controls": release.controls, "epsilon_spent": release.epsilon_spent,
        "inputs": release.inputs,
    }


def _download(request: HttpRequest, result: TableSetResult, file_format: str, language: str,
              *, object_type: str, object_ref: str) -> HttpResponse:
    """The file, its export audited by the statistics service."""
    from django.conf import settings

    from opennrm.core import codelists
    from opennrm.reports import formats

    name = f"opennrm-{result.key}-{format_period(result.period_start, result.period_end)}"
    country = codelists.label("countries", settings.OPENNRM_COUNTRY, language)
    body = releases.export_tables(
        request.auth, [result], file_format, title=result.title, country_name=country,
        language=language, object_type=object_type, object_ref=object_ref, channel=CHANNEL)
    content_type = formats.CONTENT_TYPES[file_format]
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


FILE_RESPONSES = {200: {"description": "The file", "content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        {"schema": {"type": "string", "format": "binary"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


# --- routes ------------------------------------------------------------------------------

@router.get("/statistics", response={200: list[TableSetInfo], **problems(401, 403)},
            operation_id="listTableSets", summary="The table sets this node computes")
def list_table_sets(request: HttpRequest):
    ensure_can_view_statistics(request.auth)
    return [{"key": key, "title": title,
             "tables": [t["key"] for t in engine.load_definition(key)["tables"]]}
            for key, title in engine.table_set_choices()]


@router.get("/statistics/{table_set}",
            response={200: TableSetOut, **problems(401, 403, 404, 422)},
            operation_id="getTableSet",
            summary="The tables of a table set for a period, disclosure-controlled")
def get_table_set(request: HttpRequest, table_set: TableSetKey, query: Query[TableQuery]):
    ensure_can_view_statistics(request.auth)
    try:
        start, end = _period(query.period)
        controls = releases.policy_controls(query.threshold, query.rounding)
        result = releases.preview(request.auth, table_set, start, end, controls)
    except _Invalid as error:
        return _invalid(error)
    except releases.ReleaseError as error:
        return _refused(error)
    return result.to_dict()


@router.get("/statistics/{table_set}/export",
            response={200: None, **problems(401, 403, 404, 422)},
            operation_id="exportTableSet",
            summary="Download a table set as CSV, XLSX or a PDF report",
            openapi_extra={"responses": FILE_RESPONSES})
def export_table_set(request: HttpRequest, table_set: TableSetKey,
                     query: Query[TableExportQuery]):
    ensure_can_view_statistics(request.auth)
    try:
        start, end = _period(query.period)
        result = releases.preview(request.auth, table_set, start, end)
    except _Invalid as error:
        return _invalid(error)
    except releases.ReleaseError as error:
        return _refused(error)
    return _download(request, result, query.format, query.language,
                     object_type="statistics", object_ref=f"{table_set} {query.period}")


@router.get("/statistics/{table_set}/budget",
            response={200: BudgetOut, **problems(401, 403, 422)},
            operation_id="getPrivacyBudget",
            summary="Differential-privacy budget spent on a table set for a period")
def get_budget(request: HttpRequest, table_set: TableSetKey, query: Query[PeriodQuery]):
    ensure_can_view_statistics(request.auth)
    try:
        start, end = _period(query.period)
    except _Invalid as error:
        return _invalid(error)
    return {"table_set": table_set, "period_start": start, "period_end": end,
            "epsilon_spent": releases.epsilon_spent(table_set, start, end),
            "epsilon_cap": releases.privacy_budget_cap()}


CSV_RESPONSE = {200: {"description": "CSV, one row per person",
                      "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _extract_response(result, name: str) -> HttpResponse:
    from opennrm.statistics.extracts import render_extract_csv

    response = HttpResponse(render_extract_csv(result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@router.get("/statistics-extracts/ctdc",
            response={200: None, **problems(401, 403, 422)}, operation_id="getCtdcExtract",
            summary="A k-anonymous, CTDC-compatible case-level extract (no identity field)",
            openapi_extra={"responses": CSV_RESPONSE})
def ctdc_extract(request: HttpRequest, query: Query[ExtractQuery]):
    try:
        start, end = _period(query.period)
        k = policy.current_policy().minimum_k if query.k is None else query.k
        result = releases.research_extract(request.auth, start, end, k, channel=CHANNEL)
    except _Invalid as error:
        return _invalid(error)
    except releases.ReleaseError as error:
        return _refused(error)
    return _extract_response(result, f"opennrm-ctdc-{format_period(start, end)}-k{k}")


@router.post("/statistics-extracts/ctdc-synthetic",
             response={200: None, **problems(400, 401, 403, 422)},
             operation_id="makeSyntheticExtract",
             summary="A differentially private synthetic extract (spends privacy budget)",
             openapi_extra={"responses": CSV_RESPONSE})
def synthetic_extract(request: HttpRequest, body: SyntheticExtractIn):
    try:
        start, end = _period(body.period)
        result = releases.synthetic_extract(request.auth, start, end, body.epsilon,
                                            channel=CHANNEL)
    except _Invalid as error:
        return _invalid(error)
    except releases.ReleaseError as error:
        return _refused(error)
    return _extract_response(result, f"opennrm-ctdc-synthetic-{format_period(start, end)}")


@router.get("/releases", response={200: list[ReleaseOut], **problems(401, 403)},
            operation_id="listReleases", summary="Published releases, newest first")
def list_releases(request: HttpRequest):
    ensure_can_view_statistics(request.auth)
    return [_release_out(r) for r in
            Release.objects.select_related("published_by").defer("input_snapshot")[:200]]


@router.post("/releases", response={201: ReleaseDetailOut, **problems(400, 401, 403, 422)},
             operation_id="publishRelease",
             summary="Publish a release: disclosure-controlled, immutable, reproducible")
def publish(request: HttpRequest, release: ReleaseIn):
    try:
        start, end = _period(release.period)
        controls = releases.policy_controls(release.threshold, release.rounding,
                                            release.epsilon)
        published = releases.publish_release(request.auth, release.table_set, start, end,
                                             controls, channel=CHANNEL)
    except _Invalid as error:
        return _invalid(error)
    except releases.ReleaseError as error:
        return _refused(error)
    return Status(201, {**_release_out(published),
                        "result": releases.as_published(published.result)})


def _get_release(user, release_id: int) -> Release:
    ensure_can_view_statistics(user)
    try:
        return Release.objects.select_related("published_by").get(pk=release_id)
    except Release.DoesNotExist as error:
        raise Http404("There is no such release.") from error


ReleaseId = Path[int, {"ge": 1, "le": 2**63 - 1}]


@router.get("/releases/{release_id}",
            response={200: ReleaseDetailOut, **problems(401, 403, 404, 422)},
            operation_id="getRelease", summary="A release as published")
def get_release(request: HttpRequest, release_id: ReleaseId):
    release = _get_release(request.auth, release_id)
    return {**_release_out(release), "result": releases.as_published(release.result)}


@router.get("/releases/{release_id}/verification",
            response={200: VerificationOut, **problems(401, 403, 404, 422)},
            operation_id="verifyRelease",
            summary="Recompute a release from its recorded inputs and compare")
def verify(request: HttpRequest, release_id: ReleaseId):
    release = _get_release(request.auth, release_id)
    check = releases.verify_release(release)
    return {"inputs_match": check.inputs_match, "tables_match": check.tables_match,
            "published_match": check.published_match, "ok": check.ok}


@router.get("/releases/{release_id}/export",
            response={200: None, **problems(401, 403, 404, 422)},
            operation_id="exportRelease", summary="Download a release as CSV, XLSX or PDF",
            openapi_extra={"responses": FILE_RESPONSES})
def export_release(request: HttpRequest, release_id: ReleaseId, query: Query[ExportQuery]):
    release = _get_release(request.auth, release_id)
    return _download(request, releases.release_result(release), query.format, query.language,
                     object_type="statistics_release", object_ref=str(release.pk))
