"""Referrals outside OpenNRM in the NRM monitoring tables: counted with the others by the
outcome the caseworker recorded, and "assistance delivered" as assistance of the service's
type; the independent pandas recomputation agrees."""

from datetime import UTC, date
from pathlib import Path

import pytest
from django.utils import timezone

from opennrm.referrals import services
from opennrm.statistics import engine
from opennrm.statistics import frames as sql_frames
from tests.factories import make_case
from tests.referrals.outside import make_legal_aid, record
from tests.statistics.test_engine import grid, table

TODAY = timezone.localdate()
YEAR = (date(TODAY.year, 1, 1), date(TODAY.year, 12, 31))
REFERRAL_TABLES = ("referrals_by_service_and_outcome", "persons_assisted_by_service",
                   "days_to_referral")


def utc_today() -> date:
    """The frames date a timestamp by its UTC day."""
    return timezone.now().astimezone(UTC).date()


@pytest.fixture
def referred(caseworker, case, consent, service, shelter_worker):
    """One referral in OpenNRM (accepted), and four to legal aid outside it: declined, no
    answer, assistance delivered, and one waiting."""
    sent = services.refer_case(caseworker, case, service, ["gender"])
    services.accept_referral(shelter_worker, sent)
    outcomes = {"Chișinău": "declined", "Bălți": "no_answer", "Cahul": "assistance_delivered",
                "Comrat": ""}
    for city, outcome in outcomes.items():
        referral = record(caseworker, case, make_legal_aid(f"Legal aid, {city}", city=city))
        if outcome:
            services.record_referral_outcome(caseworker, referral, outcome)
    return case


def test_the_referrals_frame_tells_internal_from_external(referred):
    frame = sql_frames.referrals_frame(*YEAR)
    assert frame.height == 5
    assert frame["external"].to_list().count(True) == 4
    assert sorted(frame.filter(frame["external"])["state"].to_list()) == [
        "cancelled", "completed", "declined", "sent"]


def test_the_monitoring_table_counts_them_by_outcome(referred):
    result = engine.compute("nrm", *YEAR)
    counts = grid(table(result, "referrals_by_service_and_outcome"))
    assert counts["legal_aid"] == {"accepted": 1, "declined": 1, "ended": 1, "waiting": 1,
                                   "total": 4}
    assert counts["shelter"]["accepted"] == 1
    assert counts["total"]["total"] == 5


def test_assistance_delivered_outside_opennrm_counts_as_assistance(referred):
    frame = sql_frames.assistance_frame(*YEAR)
    assert frame["service_type"].to_list() == ["legal_aid"]
    assert frame["delivered_on"].to_list() == [utc_today()]
    assisted = grid(table(engine.compute("nrm", *YEAR), "persons_assisted_by_service"))
    assert assisted["legal_aid"]["total"] == 1


def test_a_referral_outside_opennrm_is_a_first_referral(caseworker, consent, case):
    record(caseworker, case, make_legal_aid())
    other = make_case(caseworker, given_name="Olena")
    frame = sql_frames.cases_frame(date(2026, 1, 1), date(2026, 12, 31))
    firsts = dict(zip(frame["case_id"].to_list(), frame["first_referral_on"].to_list(),
                      strict=True))
    assert firsts[case.pk] == utc_today() and firsts[other.pk] is None


def test_the_independent_pandas_recomputation_agrees(referred, monkeypatch):
    """benchmarks/pandas_statistics.py (read whole, computed in pandas) gives the same
    referral tables as the engine."""
    from django.db import connection

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import pandas_statistics

    connection.ensure_connection()
    theirs = pandas_statistics.compute_all(connection.connection, *YEAR)
    ours = engine.compute("nrm", *YEAR)
    for spec in ours.tables:
        if spec.key not in REFERRAL_TABLES:
            continue
        other = theirs[f"nrm.{spec.key}"]
        assert other["rows"] == spec.rows and other["columns"] == spec.columns, spec.key
        assert other["cells"] == [[cell.value for cell in row] for row in spec.cells], spec.key
        assert other["total"] == spec.total.value, spec.key
