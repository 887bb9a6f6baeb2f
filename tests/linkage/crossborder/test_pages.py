"""The coordinator's pages of linkage across nodes and the case page's "also known in"
section (who sees what)."""

import uuid
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from opennrm.linkage.crossborder import services
from opennrm.linkage.crossborder.models import LinkageRound, PresenceAbroad, RoundState
from opennrm.linkage.crossborder.views import presence_context
from opennrm.transnational import identity
from opennrm.transnational.models import Partner
from tests.factories import make_agency, make_case, make_user

pytestmark = pytest.mark.django_db
SECRET = "a secret the partners agreed by telephone"


@pytest.fixture(autouse=True)
def md(db, settings):
    settings.OPENNRM_TRM_DELIVER_ON_COMMIT = False
    return identity.init_node(None, "MD", "Moldova NRM", "https://md.example")


@pytest.fixture
def ua():
    return Partner.objects.create(
        node_id=uuid.uuid4(), country="UA", name="UA NRM", endpoint="https://ua.example",
        valid_until=timezone.now(), card={}, keys={}, fingerprint="0" * 64)


def test_an_administrator_records_an_agreement_and_sees_only_its_fingerprint(
        client, administrator, ua):
    client.force_login(administrator)
    answer = client.post("/linkage/across-borders/agreements/new", {
        "name": "MD-UA", "partners": [ua.pk], "secret": SECRET, "confirm_secret": SECRET})
    assert answer.status_code == 302
    page = client.get(answer["Location"]).content.decode()
    assert services.format_fingerprint(services.secret_fingerprint(SECRET)) in page
    assert SECRET not in page


def test_a_mistyped_secret_is_shown_next_to_its_field(client, administrator, ua):
    client.force_login(administrator)
    page = client.post("/linkage/across-borders/agreements/new", {
        "name": "MD-UA", "partners": [ua.pk], "secret": SECRET,
        "confirm_secret": SECRET + "x"}).content.decode()
    assert "The two secrets differ." in page


@pytest.mark.parametrize("path", ["/linkage/across-borders/",
                                  "/linkage/across-borders/agreements/new",
                                  "/linkage/across-borders/rounds/new"])
def test_a_caseworker_is_refused(client, caseworker, path):
    client.force_login(caseworker)
    assert client.get(path).status_code == 403


def test_a_round_not_allowed_with_the_partner_is_refused_on_the_form(
        client, national_coordinator, ua):
    agreement = services.create_agreement(None, "MD-UA", [ua], SECRET)
    client.force_login(national_coordinator)
    page = client.post("/linkage/across-borders/rounds/new", {
        "agreement": agreement.pk, "deadline_days": 7, "host_takes_part": "on"}).content.decode()
    assert "not allowed with UA" in page
    assert not LinkageRound.objects.exists()


def linked_round() -> LinkageRound:
    return LinkageRound.objects.create(
        round_id=uuid.uuid4(), role="participant", agreement_name="MD-UA",
        parameters={}, deadline=timezone.now() + timedelta(days=1), state=RoundState.LINKED,
        parties_key="x", opened_at=timezone.now(), linked_at=timezone.now())


def test_the_case_page_section_shows_the_countries_to_the_roles_allowed(
        caseworker, national_coordinator, supervisor, ngo, settings):
    case = make_case(caseworker)
    PresenceAbroad.objects.create(person=case.person, country="UA", round=linked_round(),
                                  group_id="g1")
    for user, shown in ((national_coordinator, True), (supervisor, True), (caseworker, False)):
        context = presence_context(user, case, frozenset())
        html = render_to_string("crossborder/case_presence.html", {**context, "case": case})
        assert ("Also known in Ukraine" in html) is shown, user.role
    settings.OPENNRM_CROSS_BORDER_PRESENCE_ROLES = ["caseworker"]
    assert presence_context(caseworker, case, frozenset())["presence_abroad"]
    assert not presence_context(supervisor, case, frozenset())["presence_abroad"]


def test_a_round_page_shows_counts_only(client, national_coordinator, caseworker):
    linkage_round = linked_round()
    case = make_case(caseworker)
    other = make_case(make_user("caseworker", make_agency("other-ngo", "ngo")))
    for person in (case.person, other.person):
        PresenceAbroad.objects.create(person=person, country="UA", round=linkage_round,
                                      group_id=f"g{person.pk}")
    client.force_login(national_coordinator)
    page = client.get(f"/linkage/across-borders/rounds/{linkage_round.round_id}/").content.decode()
    assert "<td>UA</td><td>2</td>" in page
    assert case.person.family_name not in page
