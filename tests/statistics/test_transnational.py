"""Transnational referrals in the NRM monitoring tables: sent, received, accepted, and
returns with the joint risk assessment, by partner country, computed from a few referral
rows of this node (no real nodes: the exchange itself is tested in tests/transnational)."""

import uuid
from datetime import UTC, date, datetime

import pytest

from opennrm.statistics import engine
from opennrm.statistics import frames as sql_frames
from opennrm.transnational.models import Partner, TransnationalReferral
from tests.statistics.test_engine import grid, table

pytestmark = pytest.mark.django_db

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def _partner(country: str) -> Partner:
    return Partner.objects.create(
        node_id=uuid.uuid4(), country=country, name=f"{country} NRM",
        endpoint=f"https://{country.lower()}.example", valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        card={}, keys={}, fingerprint="0" * 64)


def _referral(partner, direction, status, *, stage="first_assistance", decided=False,
              risk=False, child=False, on=datetime(2025, 5, 2, 10, tzinfo=UTC)):
    return TransnationalReferral.objects.create(
        direction=direction, partner=partner, global_case_id=uuid.uuid4(), stage=stage,
        mode="shared", status=status, created_at=on,
        decided_at=datetime(2025, 5, 3, tzinfo=UTC) if decided else None,
        preview={"stage": stage, "sex": "female", "age_band": "18-24", "is_child": child,
                 "risk_assessment_attached": risk})


@pytest.fixture
def referrals():
    ua, ro, pl = _partner("UA"), _partner("RO"), _partner("PL")
    _referral(ua, "out", "active", stage="return", decided=True, risk=True, child=True)
    _referral(ua, "out", "declined", decided=True)
    _referral(ua, "out", "offered")
    _referral(ro, "out", "withdrawn")  # consent withdrawn before the partner decided
    _referral(ro, "out", "erased", stage="return", decided=True)  # accepted, then erased
    _referral(ua, "in", "offered", stage="return", risk=True)
    _referral(pl, "in", "active", decided=True)
    _referral(ua, "out", "active", decided=True, on=datetime(2024, 12, 31, 23, tzinfo=UTC))
    _referral(pl, "in", "offered", on=datetime(2026, 1, 1, 0, tzinfo=UTC))


def test_the_frame_holds_no_case_and_only_the_period(referrals):
    frame = sql_frames.transnational_frame(*YEAR)
    assert frame.height == 7
    assert set(frame.columns) == {"referral_id", "case_id", "direction", "partner_country", "stage",
                                  "mode", "outcome", "risk_assessed", "offered_on", "is_child"}
    assert sorted(frame["outcome"].to_list()) == ["accepted", "accepted", "accepted",
                                                   "declined", "waiting", "waiting",
                                                   "withdrawn"]


def test_referrals_sent_received_accepted_and_returns_by_partner_country(referrals):
    result = engine.compute("nrm", *YEAR)
    sent = grid(table(result, "transnational_referrals_sent"))
    assert sent["UA"] == {"accepted": 1, "declined": 1, "withdrawn": 0, "waiting": 1,
                          "total": 3}
    assert sent["RO"] == {"accepted": 1, "declined": 0, "withdrawn": 1, "waiting": 0,
                          "total": 2}
    assert sent["total"]["total"] == 5 and sent["total"]["accepted"] == 2
    received = grid(table(result, "transnational_referrals_received"))
    assert received["UA"]["waiting"] == 1 and received["PL"]["accepted"] == 1
    assert received["total"]["total"] == 2
    returns = grid(table(result, "transnational_returns_by_risk_assessment"))
    assert returns["UA"] == {"assessed": 2, "not_assessed": 0, "total": 2}
    assert returns["RO"] == {"assessed": 0, "not_assessed": 1, "total": 1}
    assert returns["total"]["total"] == 3


def test_no_transnational_referral_gives_known_zeros(db):
    result = engine.compute("nrm", *YEAR)
    assert table(result, "transnational_referrals_sent").total.value == 0
    assert table(result, "transnational_returns_by_risk_assessment").total.value == 0


def test_the_independent_pandas_recomputation_agrees(referrals, monkeypatch):
    """benchmarks/pandas_statistics.py (read whole, computed in pandas) gives the same
    transnational tables as the engine."""
    from pathlib import Path

    from django.db import connection

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import pandas_statistics

    connection.ensure_connection()
    theirs = pandas_statistics.compute_all(connection.connection, *YEAR)
    ours = engine.compute("nrm", *YEAR)
    for spec in ours.tables:
        if not spec.key.startswith("transnational_"):
            continue
        other = theirs[f"nrm.{spec.key}"]
        assert other["rows"] == spec.rows and other["columns"] == spec.columns, spec.key
        assert other["cells"] == [[cell.value for cell in row] for row in spec.cells], spec.key
        assert other["row_totals"] == [cell.value for cell in spec.row_totals], spec.key
        assert other["total"] == spec.total.value, spec.key
