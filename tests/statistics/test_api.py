"""/api/statistics and /api/releases: analysts only, disclosure-controlled, no identity."""

import pytest

from opennrm.audit.models import AuditEntry
from tests.helpers import ApiClient, assert_problem

IDENTITY_VALUES = ("Rusu", "Kovalenko", "Ionescu", "Volkov", "Munteanu", "+37369123456",
                   "AB1234567", "1990-01-05", "Ștefan cel Mare")


@pytest.fixture
def analyst_api(analyst_user):
    return ApiClient(analyst_user)


def test_an_analyst_reads_a_table_set(analyst_api):
    response = analyst_api.get("/api/statistics/eurostat", {"period": "2025"})
    assert response.status_code == 200
    body = response.json()
    victims = body["tables"][0]
    assert victims["key"] == "victims_by_sex_and_age"
    assert victims["unit"] == "persons"
    assert victims["total"] == {"value": 5, "flag": ""}
    assert body["controls"]["threshold"] == 5


@pytest.mark.parametrize("path", ["/api/statistics", "/api/statistics/eurostat",
                                  "/api/statistics/eurostat/export",
                                  "/api/statistics/eurostat/budget", "/api/releases"])
def test_a_caseworker_gets_403(dataset, path):
    response = ApiClient(dataset["ngo_worker"]).get(path, {"period": "2025"})
    assert_problem(response, 403)


def test_a_wrong_period_is_a_clear_422(analyst_api):
    problem = assert_problem(analyst_api.get("/api/statistics/eurostat",
                                             {"period": "2025-13"}), 422)
    assert "2025-13" in problem["detail"]
    assert problem["errors"][0]["field"] == "period"


def test_publish_read_and_verify_a_release(analyst_api):
    response = analyst_api.post("/api/releases", {"table_set": "nrm", "period": "2025"})
    assert response.status_code == 201, response.content
    release = response.json()
    assert release["result"]["key"] == "nrm"
    assert analyst_api.get(f"/api/releases/{release['id']}").json()["id"] == release["id"]
    check = analyst_api.get(f"/api/releases/{release['id']}/verification").json()
    assert check == {"inputs_match": True, "tables_match": True, "published_match": True,
                     "ok": True}
    assert [r["id"] for r in analyst_api.get("/api/releases").json()] == [release["id"]]
    assert AuditEntry.objects.filter(object_type="statistics_release",
                                     object_ref=str(release["id"])).exists()


def test_a_release_does_not_keep_the_bases_of_its_indicator_figures(analyst_api):
    """The bases of an indicator table (how many persons a median rests on) are exact
    counts, often below the threshold: they decide which figures are hidden, and are
    neither answered nor kept in the published release (the API's schema never showed
    them; a release stored with them before still verifies)."""
    from opennrm.statistics import releases
    from opennrm.statistics.models import Release

    release = analyst_api.post("/api/releases", {"table_set": "nrm", "period": "2025"}).json()
    indicators = [t for t in release["result"]["tables"] if t["kind"] == "indicator"]
    assert indicators and all(table.get("bases") is None for table in indicators)
    stored = Release.objects.get(pk=release["id"])
    assert all(table["bases"] is None for table in stored.result["tables"])
    # A release published before: its result kept the bases.
    with_bases = {**stored.result, "tables": [
        {**table, "bases": [[1] * len(table["columns"]) for _ in table["rows"]]}
        if table["kind"] == "indicator" else table for table in stored.result["tables"]]}
    Release.objects.filter(pk=stored.pk).update(result=with_bases)
    stored.refresh_from_db()
    assert all(table.bases is None for table in releases.release_result(stored).tables)
    check = analyst_api.get(f"/api/releases/{release['id']}/verification").json()
    assert check["published_match"] is True


def test_a_release_beyond_the_budget_is_refused(analyst_api, settings):
    settings.OPENNRM_DP_BUDGET = 1.0
    body = {"table_set": "eurostat", "period": "2025", "epsilon": 0.8}
    assert analyst_api.post("/api/releases", body).status_code == 201
    problem = assert_problem(analyst_api.post("/api/releases", body), 422)
    assert "budget" in problem["detail"]
    budget = analyst_api.get("/api/statistics/eurostat/budget", {"period": "2025"}).json()
    assert budget["epsilon_spent"] == pytest.approx(0.8)
    assert budget["epsilon_cap"] == 1.0


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "pdf"])
def test_no_statistics_answer_carries_an_identity(analyst_api, file_format):
    import io
    import subprocess
    import zipfile

    responses = [analyst_api.get(f"/api/statistics/{key}", {"period": "2025"})
                 for key in ("eurostat", "glotip", "sdg", "ctdc", "nrm")]
    exported = analyst_api.get("/api/statistics/ctdc/export",
                               {"period": "2025", "format": file_format})
    assert exported.status_code == 200
    texts = [r.content.decode() for r in responses]
    if file_format == "csv":
        texts.append(exported.content.decode("utf-8-sig"))
    elif file_format == "xlsx":
        with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
            texts += [archive.read(name).decode() for name in archive.namelist()
                      if name.endswith(".xml")]
    else:
        texts.append(subprocess.run(["pdftotext", "-", "-"], input=exported.content,
                                    capture_output=True, check=True).stdout.decode())
    for text in texts:
        for value in IDENTITY_VALUES:
            assert value not in text


def test_the_research_extract_is_k_anonymous_and_carries_no_identity(analyst_api,
                                                                       lenient_policy):
    import csv
    import io

    response = analyst_api.get("/api/statistics-extracts/ctdc", {"period": "2025", "k": 2})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    assert "yearOfRegistration" in reader.fieldnames
    rows = list(reader)
    # Five persons; each row's group of persons alike on the quasi-identifiers has >= 2.
    assert len(rows) <= 5
    for value in IDENTITY_VALUES:
        assert value not in text
    assert AuditEntry.objects.filter(object_type="research_extract").exists()


def test_the_synthetic_extract_spends_the_extract_budget(analyst_api, settings):
    settings.OPENNRM_DP_BUDGET = 1.0
    body = {"period": "2025", "epsilon": 0.7}
    first = analyst_api.post("/api/statistics-extracts/ctdc-synthetic", body)
    assert first.status_code == 200, first.content
    problem = assert_problem(analyst_api.post("/api/statistics-extracts/ctdc-synthetic", body),
                             422)
    assert "budget" in problem["detail"]
    # The table sets' budgets are untouched.
    budget = analyst_api.get("/api/statistics/eurostat/budget", {"period": "2025"}).json()
    assert budget["epsilon_spent"] == 0
