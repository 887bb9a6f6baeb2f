"""A national coordinator sends a release to partners (`regional.services.send_release`):
what leaves the node is read back from the outbox, the privacy budget per partner and period,
the release audit, who may send."""

import base64
import json
from dataclasses import replace

import pytest
from django.core.exceptions import PermissionDenied

from opennrm.accounts.models import Role
from opennrm.regional import services
from opennrm.regional.models import SentRelease
from opennrm.statistics import linked, releases
from opennrm.statistics.models import PrivacyBudgetSpend, Release
from opennrm.transnational.models import OutboxMessage
from tests.factories import make_agency, make_user
from tests.regional.conftest import COUNTRIES, YEAR, make_partner, seed


def sent_payloads() -> list[dict]:
    """The payloads as signed into the outbox (what the partner will decrypt)."""
    found = []
    for message in OutboxMessage.objects.filter(message_type=services.MESSAGE_TYPE):
        part = message.signed.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        found.append(claims["payload"])
    return found


def counts_in(payload: dict) -> list[int]:
    """Every count the payload publishes: table cells and totals of count tables, indicator
    tables' bases and totals, the national total, the duplicate counts."""
    values = [payload["persons"]["total"]]
    values += [count["value"] for count in payload["duplicates"]]
    for table in payload["result"]["tables"]:
        values += [cell["value"] for cell in [*table["row_totals"], table["total"]]]
        if table.get("kind", "count") == "count":
            values += [cell["value"] for row in table["cells"] for cell in row]
            values += [cell["value"] for cell in table["column_totals"]]
        for row in table.get("bases") or []:
            values += row
    return [value for value in values if value is not None]


def test_nothing_below_the_threshold_leaves_the_node(coordinator, ua, ro):
    people = seed("MD", persons=90)
    services.send_release(coordinator, [ua.partner, ro.partner], "nrm", *YEAR,
                          releases.policy_controls(threshold=6))
    payloads = sent_payloads()
    assert len(payloads) == 2
    for payload in payloads:
        counts = counts_in(payload)
        assert counts and all(value == 0 or value >= 6 for value in counts)
        assert all(table["bases"] is None for table in payload["result"]["tables"])
        # Some duplicate counts were small: they travel hidden and flagged, not as numbers.
        assert any(c["value"] is None and c["flag"] == "suppressed"
                   for c in payload["duplicates"])
        text = json.dumps(payload)
        assert "Test" not in text and "MD-RT-" not in text  # no name, no case number
        assert "person" not in json.dumps(payload["duplicates"])
    assert len(people) == 90


def test_the_duplicate_counts_are_those_of_the_generated_persons(coordinator, ua):
    people = seed("MD", persons=400)
    services.send_release(coordinator, [ua.partner], "eurostat", *YEAR,
                          releases.policy_controls())
    payload = sent_payloads()[0]
    mine = [p for p in people if "MD" in p["countries"]]
    expected = {}
    for person in mine:
        others = "+".join(sorted(set(person["countries"]) - {"MD"}))
        if others:
            expected[others] = expected.get(others, 0) + 1
    # Counts from 1 to 4 travel hidden (the node's threshold is 5).
    assert {"+".join(c["countries"]): c["value"] for c in payload["duplicates"]} == {
        key: (value if value >= 5 else None) for key, value in expected.items()}
    assert any(value >= 5 for value in expected.values())
    assert payload["persons"]["total"] == len(mine)
    assert payload["country"] == "MD" and payload["definitions_version"]
    assert set(COUNTRIES) >= {c for count in payload["duplicates"] for c in count["countries"]}


def test_a_release_beyond_a_partners_budget_is_refused_with_the_figures(coordinator, ua, ro,
                                                                        settings):
    settings.OPENNRM_DP_BUDGET = 2.0
    settings.OPENNRM_REGIONAL_DP_BUDGET = 1.0
    seed("MD", persons=200)
    services.send_release(coordinator, [ua.partner], "eurostat", *YEAR,
                          releases.policy_controls(epsilon=0.6))
    spends = PrivacyBudgetSpend.objects.filter(dataset=services.partner_dataset(ua.partner,
                                                                                "eurostat"))
    assert [s.epsilon for s in spends] == [0.6]
    assert sent_payloads()[0]["privacy_budget"]["spent_on_partner"] == pytest.approx(0.6)
    before = (Release.objects.count(), OutboxMessage.objects.count(),
              PrivacyBudgetSpend.objects.count())
    with pytest.raises(services.RegionalError) as refused:
        services.send_release(coordinator, [ro.partner, ua.partner], "eurostat",
                              YEAR[0], YEAR[0].replace(month=3, day=31),
                              releases.policy_controls(epsilon=0.6))
    message = str(refused.value)
    assert "UA NRM" in message and "0.6 already spent" in message
    assert "1.2" in message and "cap of 1" in message
    # Refused whole: not even Romania, whose budget had room, got it.
    assert (Release.objects.count(), OutboxMessage.objects.count(),
            PrivacyBudgetSpend.objects.count()) == before
    # Romania alone may still receive it.
    services.send_release(coordinator, [ro.partner], "eurostat", *YEAR,
                          releases.policy_controls(epsilon=0.6))


def test_the_national_budget_counts_the_duplicates_too(coordinator, ua, settings):
    settings.OPENNRM_DP_BUDGET = 1.0
    seed("MD", persons=200)
    services.send_release(coordinator, [ua.partner], "eurostat", *YEAR,
                          releases.policy_controls(epsilon=0.8))
    national = PrivacyBudgetSpend.objects.filter(dataset="eurostat")
    assert sorted(s.epsilon for s in national) == pytest.approx([0.4, 0.4])
    with pytest.raises(services.RegionalError, match="national privacy budget"):
        services.send_release(coordinator, [ua.partner], "eurostat", *YEAR,
                              releases.policy_controls(epsilon=0.4))


def test_the_release_audit_runs_on_every_outgoing_release(coordinator, ua, monkeypatch):
    seed("MD", persons=120)
    calls = []
    audit = linked.audit

    def counting(*args, **kwargs):
        calls.append(1)
        return audit(*args, **kwargs)

    monkeypatch.setattr(linked, "audit", counting)
    services.send_release(coordinator, [ua.partner], "eurostat", *YEAR,
                          releases.policy_controls())
    # At publication and again on the release as it is about to leave.
    assert len(calls) >= 2

    # Now the audit of the outgoing release finds a hidden count pinned down (as it would if
    # the data had changed under the release): nothing is sent.
    def pinned(*args, **kwargs):
        return [replace(interval, upper=interval.lower) for interval in audit(*args, **kwargs)]

    verify = releases.verify_release

    def verify_under_a_refusing_audit(release):
        monkeypatch.setattr(linked, "audit", pinned)
        return verify(release)

    monkeypatch.setattr(linked, "audit", audit)
    monkeypatch.setattr(releases, "verify_release", verify_under_a_refusing_audit)
    sent_before = OutboxMessage.objects.count()
    with pytest.raises(services.RegionalError, match="release audit"):
        services.send_release(coordinator, [ua.partner], "eurostat", *YEAR,
                              releases.policy_controls())
    assert OutboxMessage.objects.count() == sent_before


def test_a_partner_not_allowed_the_type_is_refused(coordinator, tmp_path):
    other = make_partner("BG", tmp_path, types=("ping", "pong"))
    with pytest.raises(services.RegionalError, match="not allowed"):
        services.send_release(coordinator, [other.partner], "eurostat", *YEAR,
                              releases.policy_controls())
    assert not SentRelease.objects.exists()


@pytest.mark.parametrize("role", [Role.ANALYST, Role.REGIONAL_ANALYST, Role.CASEWORKER])
def test_only_the_national_coordinator_sends(role, ua):
    user = make_user(role, make_agency(f"agency-{role}") if role == Role.CASEWORKER else None)
    with pytest.raises(PermissionDenied):
        services.send_release(user, [ua.partner], "eurostat", *YEAR,
                              releases.policy_controls())
    assert not OutboxMessage.objects.exists()
