"""What a failed sign-in leaves behind (defect 10): the typed username only when it names
a user; otherwise a keyed hash, so a password typed into the username field is not kept in
clear, neither in the audit trail nor in django-axes' tables."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import override_settings

from opennrm.audit.models import AuditEntry
from tests.factories import PASSWORD

LOGIN = "/login/"
TYPED_PASSWORD = "Correct horse battery staple 42"


def sign_in(client, username, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password, "code": ""})


def stored_text() -> str:
    """Every column of every row a failed sign-in may write, as one text."""
    rows = []
    for model in (AuditEntry, AccessAttempt, AccessFailureLog, AccessLog):
        rows += [str(row) for row in model.objects.values_list()]
    return "\n".join(rows)


@override_settings(AXES_ENABLE_ACCESS_FAILURE_LOG=True)
def test_a_password_typed_as_the_username_is_not_kept_in_clear(client, caseworker):
    assert sign_in(client, TYPED_PASSWORD, password="").status_code == 200
    assert sign_in(client, TYPED_PASSWORD, password="anything").status_code == 200
    entry = AuditEntry.objects.filter(action="login_failed").first()
    assert entry is not None and entry.object_ref.startswith("unknown:")
    assert AccessAttempt.objects.exists()
    text = stored_text()
    assert TYPED_PASSWORD not in text
    assert TYPED_PASSWORD.lower() not in text.lower()


def test_the_same_unknown_name_gives_the_same_hash_and_another_a_different_one(client, db):
    sign_in(client, "nobody-1", password="x")
    sign_in(client, "nobody-1", password="y")
    sign_in(client, "nobody-2", password="z")
    refs = list(AuditEntry.objects.filter(action="login_failed").order_by("sequence")
                .values_list("object_ref", flat=True))
    assert refs[0] == refs[1] != refs[2]
    assert all(ref.startswith("unknown:") and "nobody" not in ref for ref in refs)


def test_an_existing_username_is_recorded_as_it_is(client, caseworker):
    sign_in(client, "caseworker", password="wrong")
    assert AuditEntry.objects.get(action="login_failed").object_ref == "caseworker"
    assert AccessAttempt.objects.get().username == "caseworker"


def test_unknown_names_are_still_locked_out(client, db):
    for _ in range(4):
        assert sign_in(client, "nobody", password="wrong").status_code == 200
    assert sign_in(client, "nobody", password="wrong").status_code == 429
    assert TYPED_PASSWORD not in stored_text()
