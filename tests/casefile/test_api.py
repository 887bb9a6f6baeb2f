"""GET /api/cases/{case_number}/journal and /attachments: read only, audited, 404 for another
agency."""

from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from tests.casefile.conftest import JOURNAL_TEXT
from tests.helpers import ApiClient, assert_problem


def test_it_lists_the_journal_with_its_text(caseworker, case, entry):
    response = ApiClient(caseworker).get(f"/api/cases/{case.case_number}/journal")
    assert response.status_code == 200
    (item,) = response.json()
    assert item["text"] == JOURNAL_TEXT and item["kind"] == "visit"
    assert item["happened_on"] == "2026-03-04" and item["recorded_by"] == "caseworker"
    read = AuditEntry.objects.get(object_type="journal_entry", action="read")
    assert read.channel == "api"


def test_it_lists_attachments_without_their_files(caseworker, case, photo):
    response = ApiClient(caseworker).get(f"/api/cases/{case.case_number}/attachments")
    (item,) = response.json()
    assert item["content_type"] == "image/png" and item["metadata_removed"] is True
    assert item["file_name"] == "elena-popescu-bruises.png" and item["size"] == photo.size
    assert "file" not in item
    assert AuditEntry.objects.get(object_type="attachment", action="read").fields == [
        "description", "file_name"]


def test_without_the_identity_rule_the_texts_are_null(monkeypatch, caseworker, case, entry,
                                                      photo):
    monkeypatch.setattr(access, "can_see_identity", lambda user: False)
    api = ApiClient(caseworker)
    (item,) = api.get(f"/api/cases/{case.case_number}/journal").json()
    assert item["text"] is None
    (item,) = api.get(f"/api/cases/{case.case_number}/attachments").json()
    assert item["file_name"] is None and item["description"] is None
    assert not AuditEntry.objects.filter(action="read").exists()


def test_it_validates_ownership(police_officer, case, entry, photo):
    api = ApiClient(police_officer)
    for part in ("journal", "attachments"):
        assert_problem(api.get(f"/api/cases/{case.case_number}/{part}"), 404)
    assert not AuditEntry.objects.filter(action="read").exists()
