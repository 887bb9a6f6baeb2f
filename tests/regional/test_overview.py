"""The regional view (`regional.overview`): partners' releases received over the channel, side
by side with this node's, the regional total counting each generated person once, and a
release made with other definitions shown apart."""

import copy
import json

import pytest

from opennrm.regional import duplicates, services, testdata
from opennrm.regional.models import ReceivedRelease
from opennrm.regional.overview import build_overview, regional_overview
from opennrm.statistics import releases
from tests.regional.conftest import COUNTRIES, YEAR, seed, send_from

PERSONS = 300


def partner_payload(template: dict, country: str, people: list[dict], **changes) -> dict:
    """The release a partner would send of the same generated persons: its own total and
    duplicate counts (the tables copied from this node's, which the totals do not read)."""
    payload = copy.deepcopy(template)
    mine = {p["person"]: set(p["countries"]) - {country} for p in people
            if country in p["countries"]}
    counts = duplicates.counts_by_country_set(mine)
    payload.update(country=country, persons={**payload["persons"], "total": len(mine)},
                   duplicates=[c.to_dict() for c in duplicates.control_counts(
                       counts, threshold=payload["disclosure"]["threshold"])], **changes)
    return payload


@pytest.fixture
def network(coordinator, ua, ro):
    people = seed("MD", persons=PERSONS)
    sending = services.send_release(coordinator, [ua.partner, ro.partner], "eurostat", *YEAR,
                                    releases.policy_controls())
    return people, sending.sent[0].payload


def test_the_regional_total_counts_each_person_once(network, ua, ro, regional_analyst):
    people, own = network
    for partner in (ua, ro):
        answer = send_from(partner, partner_payload(own, partner.country, people))
        assert answer.http_status == 200, answer
    overview = regional_overview(regional_analyst, "eurostat", *YEAR)
    truth = testdata.truth(people, COUNTRIES)
    dedupe = overview.deduplication
    assert [c.country for c in overview.countries] == ["MD", "RO", "UA"]
    assert dedupe.national_totals == truth["national"]
    assert dedupe.sum_of_national_totals == truth["sum"]
    # Every set of countries holds 5 or more here: nothing is hidden, the total is exact.
    assert dedupe.could_not_be_removed == 0
    assert dedupe.regional_total == truth["regional"]
    assert dedupe.removed == truth["sum"] - truth["regional"]
    persons = overview.result.tables[0]
    assert persons.key == "regional_persons"
    assert persons.total.value == truth["regional"]
    # Side by side: the first Eurostat table by country, MD's column as MD published it.
    table = overview.result.tables[1]
    assert table.columns == ["MD", "RO", "UA"]
    assert table.column_totals[0].value == own["persons"]["total"]


def test_a_release_with_other_definitions_is_shown_apart_with_what_differs(network, ua, ro):
    people, own = network
    send_from(ua, partner_payload(own, "UA", people))
    older = partner_payload(own, "RO", people, definitions_version="2025.1")
    older["result"]["tables"] = older["result"]["tables"][1:]  # no table by sex and age
    older["result"]["tables"][0]["rows"][0]["code"] = "EU"  # another category
    send_from(ro, older)
    overview = build_overview("eurostat", *YEAR)
    assert [c.country for c in overview.countries] == ["MD", "UA"]
    assert [c.country for c in overview.apart] == ["RO"]
    differences = " ".join(overview.apart[0].differences)
    assert "2025.1" in differences and overview.definitions_version in differences
    assert "victims_by_sex_and_age" in differences
    assert "EU" in differences
    # Never added: the totals are MD's and UA's only.
    truth = testdata.truth(people, ["MD", "UA"])
    assert overview.deduplication.national_totals == truth["national"]
    assert overview.deduplication.regional_total == truth["regional"]
    assert all("RO" not in table.columns for table in overview.result.tables[1:])


def test_a_release_naming_another_country_than_its_sender_is_refused(network, ua):
    people, own = network
    answer = send_from(ua, partner_payload(own, "RO", people))
    assert answer.http_status >= 400 and "country_mismatch" in json.dumps(answer.body)
    assert not ReceivedRelease.objects.exists()


def test_a_payload_with_a_person_row_is_refused_by_the_schema(network, ua):
    people, own = network
    payload = partner_payload(own, "UA", people)
    payload["persons_list"] = [{"given_name": "Elena"}]
    answer = send_from(ua, payload)
    assert "invalid_payload" in json.dumps(answer.body)
    assert not ReceivedRelease.objects.exists()
