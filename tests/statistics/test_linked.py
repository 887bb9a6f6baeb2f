"""Suppression consistent across the tables of a release, and the release audit.

The case found by the security probe (issue 14, defect 11): Eurostat's victims by
citizenship hide the "Other EU countries" row (4 persons) and, to protect it, the
"Reporting country" row total; GLOTIP's victims by citizenship print the node's own
country's total. Then Other EU = all victims − reporting country − non-EU = 4.
"""

from datetime import date

import pytest

from opennrm.accounts.models import Role
from opennrm.cases import services
from opennrm.statistics import engine, linked, releases
from opennrm.statistics.tables import SECONDARY, SUPPRESSED
from tests.factories import make_agency, make_user, person_data

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
SETS = ["eurostat", "glotip"]
CITIZENSHIP = {"eurostat": "victims_by_citizenship_and_sex",
               "glotip": "detected_victims_by_citizenship_and_sex"}


@pytest.fixture
def citizenship_case(db, settings):
    """42 adult victims of sexual exploitation in 2025: 12 of the reporting country (MD),
    4 of another EU country (RO), 20 + 6 of two non-EU countries (UA, BY); half women,
    half men. Eurostat: 12 / 4 / 26 by citizenship; GLOTIP: UA 20, MD 12, BY 6, RO 4."""
    settings.OPENNRM_COUNTRY = "MD"
    worker = make_user(Role.CASEWORKER, make_agency("linked-ngo", "ngo"))
    number = 0
    for citizenship, persons in (("MD", 12), ("RO", 4), ("UA", 20), ("BY", 6)):
        for n in range(persons):
            number += 1
            services.register_case(worker, person_data(
                given_name=f"Person{number}", family_name="Linked",
                birth_date=date(1990, 1, 1 + n % 28), gender=("female", "male")[n % 2],
                citizenships=[citizenship], exploitation_forms=["sexual_exploitation"],
                first_contact_on=date(2025, 3, 1 + n % 28), labour_sector="",
                exploitation_countries=["RU"]))
    return make_user(Role.ANALYST, make_agency("linked-coordination", "central_government"))


def _table(results, set_key, table_key):
    result = next(r for r in results if r.key == set_key)
    return next(t for t in result.tables if t.key == table_key)


def _row_total(table, code):
    return table.row_totals[table.rows.index(code)]


def test_protecting_each_table_alone_gives_other_eu_away(citizenship_case):
    exact = engine.compute_all(SETS, *YEAR)
    eurostat = _table(exact, "eurostat", CITIZENSHIP["eurostat"])
    assert _row_total(eurostat, "other_eu").value == 4
    alone = [releases._controlled_alone(result, releases.Controls()) for result in exact]
    eurostat = _table(alone, "eurostat", CITIZENSHIP["eurostat"])
    glotip = _table(alone, "glotip", CITIZENSHIP["glotip"])
    # The defect: Eurostat hides the reporting country's row total, GLOTIP prints it.
    assert _row_total(eurostat, "other_eu").flag == SUPPRESSED
    assert _row_total(eurostat, "national").flag == SECONDARY
    assert _row_total(glotip, "MD").value == 12
    # The audit works the hidden count out exactly, and refuses.
    intervals = linked.audit(linked.build(alone, exact), threshold=5)
    other_eu = next(i for i in intervals
                    if i.name == f"eurostat / {CITIZENSHIP['eurostat']} / "
                                 "Other EU countries × Total")
    assert (other_eu.lower, other_eu.upper) == pytest.approx((4, 4))
    assert not other_eu.ok
    with pytest.raises(releases.ReleaseError, match="between 4 and 4"):
        releases.check_audit(alone, exact, releases.Controls())


def test_consistent_suppression_repairs_the_release_and_passes_the_audit(citizenship_case):
    exact = engine.compute_all(SETS, *YEAR)
    published, protection = releases.protect_together(exact, releases.Controls())
    eurostat = _table(published, "eurostat", CITIZENSHIP["eurostat"])
    glotip = _table(published, "glotip", CITIZENSHIP["glotip"])
    # What Eurostat hides, GLOTIP hides too: the reporting country's total, and its cells.
    assert _row_total(eurostat, "national").value is None
    assert _row_total(glotip, "MD").value is None
    assert protection.made_consistent + protection.repaired > 0
    # Every hidden small count lies in an interval at least as wide as the threshold.
    assert protection.intervals
    for interval in protection.intervals:
        assert interval.ok, interval.describe()
    other_eu = next(i for i in protection.intervals
                    if i.name == f"eurostat / {CITIZENSHIP['eurostat']} / "
                                 "Other EU countries × Total")
    assert other_eu.width >= 5
    releases.check_audit(published, exact, releases.Controls())  # passes


def test_a_release_records_its_audit_and_stays_consistent_with_the_other_set(
        citizenship_case):
    analyst = citizenship_case
    first = releases.publish_release(analyst, "eurostat", *YEAR, releases.Controls())
    second = releases.publish_release(analyst, "glotip", *YEAR, releases.Controls())
    audit = first.inputs["audit"]
    assert audit["small_counts_checked"] > 0
    assert audit["narrowest_interval"] is None or audit["narrowest_interval"] >= 5
    assert set(first.inputs["linked_table_sets"]) >= set(SETS)
    eurostat = _table([releases.release_result(first)], "eurostat", CITIZENSHIP["eurostat"])
    glotip = _table([releases.release_result(second)], "glotip", CITIZENSHIP["glotip"])
    assert _row_total(eurostat, "national").value is None
    assert _row_total(glotip, "MD").value is None
    assert releases.verify_release(first).ok
    # The API answers of both sets are as consistent as the releases.
    api_glotip = releases.preview(analyst, "glotip", *YEAR)
    assert _row_total(_table([api_glotip], "glotip", CITIZENSHIP["glotip"]), "MD").value is None


def test_the_audit_counts_rounded_counts_as_intervals(citizenship_case, lenient_policy):
    exact = engine.compute_all(SETS, *YEAR)
    published, protection = releases.protect_together(
        exact, releases.Controls(threshold=5, rounding=5))
    for interval in protection.intervals:
        assert interval.ok, interval.describe()
    glotip = _table(published, "glotip", CITIZENSHIP["glotip"])
    assert _row_total(glotip, "UA").value == 20


def test_keys_name_the_same_count_across_table_sets(citizenship_case):
    exact = engine.compute_all(SETS, *YEAR)
    eurostat = _table(exact, "eurostat", CITIZENSHIP["eurostat"])
    eurostat_keys = linked.table_keys("eurostat", eurostat)
    glotip = _table(exact, "glotip", CITIZENSHIP["glotip"])
    glotip_keys = linked.table_keys("glotip", glotip)
    totals = len(eurostat.columns)  # the column of row totals
    national = eurostat_keys[(eurostat.rows.index("national"), totals)]
    assert glotip_keys[(glotip.rows.index("MD"), len(glotip.columns))] == national
    # The same women of the reporting country, in both sets.
    assert (eurostat_keys[(eurostat.rows.index("national"), eurostat.columns.index("female"))]
            == glotip_keys[(glotip.rows.index("MD"), glotip.columns.index("female"))])
    # The overall totals of both tables are one count; other EU is not RO alone.
    assert (eurostat_keys[(len(eurostat.rows), totals)]
            == glotip_keys[(len(glotip.rows), len(glotip.columns))])
    assert (eurostat_keys[(eurostat.rows.index("other_eu"), totals)]
            != glotip_keys[(glotip.rows.index("RO"), len(glotip.columns))])
