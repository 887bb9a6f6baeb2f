"""Hand-made published table sets, as disclosure control leaves them: suppressed cells hold
no value, only a flag."""

from datetime import date

import pytest

from opennrm.statistics.tables import SECONDARY, SUPPRESSED, Cell, Table, TableSetResult


def cells(*rows):
    """A grid of cells from numbers; "S" is a primary-suppressed cell, "X" a secondary one."""
    def cell(value):
        if value == "S":
            return Cell(None, SUPPRESSED)
        if value == "X":
            return Cell(None, SECONDARY)
        return Cell(value)
    return [[cell(v) for v in row] for row in rows]


def victims_by_sex_and_age() -> Table:
    """Eurostat-like: men under 12 are fewer than 5 (suppressed); three more cells are
    suppressed so that it cannot be worked out from the totals."""
    return Table(
        key="victims_by_sex_and_age",
        title="Registered victims by sex and age group",
        unit="persons",
        row_dimension="Sex",
        column_dimension="Age group",
        rows=["female", "male"],
        row_labels=["Female", "Male"],
        columns=["0-11", "12-17", "18+"],
        column_labels=["Less than 12 years", "12 to 17 years", "18 years or over"],
        cells=cells(["X", "X", 1085], ["S", "X", 407]),
        row_totals=[Cell(1105), Cell(417)],
        column_totals=[Cell(9), Cell(21), Cell(1492)],
        total=Cell(1522),
        notes=["A person is counted once, under the age at first contact."],
    )


def victims_by_form_and_sex() -> Table:
    """Not additive: a person exploited in several forms is counted under each."""
    return Table(
        key="victims_by_form_and_sex",
        title="Registered victims by form of exploitation and sex",
        unit="persons",
        row_dimension="Form of exploitation",
        column_dimension="Sex",
        rows=["sexual", "labour", "criminal", "other"],
        row_labels=["Sexual exploitation", "Labour exploitation",
                    "Forced criminal activities", "Other forms"],
        columns=["female", "male"],
        column_labels=["Female", "Male"],
        cells=cells([612, 38], [344, 301], [57, 66], [95, 24]),
        row_totals=[Cell(650), Cell(645), Cell(123), Cell(119)],
        column_totals=[Cell(1105), Cell(417)],
        total=Cell(1522),
        additive=False,
    )


def victims_by_citizenship() -> Table:
    """A single column: the table has no column dimension."""
    return Table(
        key="victims_by_citizenship",
        title="Registered victims by citizenship",
        unit="persons",
        row_dimension="Citizenship",
        rows=["national", "other_eu", "non_eu"],
        row_labels=["Reporting country", "Other EU countries", "Non-EU countries"],
        columns=["total"],
        column_labels=["Total"],
        cells=cells([1388], ["S"], [131]),
        row_totals=[Cell(1388), Cell(None, SUPPRESSED), Cell(131)],
        column_totals=[Cell(1522)],
        total=Cell(1522),
    )


def eurostat_result() -> TableSetResult:
    return TableSetResult(
        key="eurostat",
        title="Eurostat: trafficking in human beings",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        tables=[victims_by_sex_and_age(), victims_by_form_and_sex(), victims_by_citizenship()],
        controls={"threshold": 5, "secondary": True, "rounding": 0, "epsilon": None},
        small_cell_label="<5",
        notes=["Registered victims are presumed and formally identified victims first "
               "contacted in the period; each person counts once."],
    )


def days_to_referral() -> Table:
    """An indicator table: medians and 90th percentiles of days; the totals column holds
    how many persons each row rests on. Children rest on too few persons."""
    return Table(
        key="days_to_referral",
        title="Days from first contact to the first referral",
        unit="persons",
        kind="indicator",
        row_dimension="Age at first contact",
        rows=["children", "adults"],
        row_labels=["Children", "Adults"],
        columns=["median", "p90"],
        column_labels=["Median (days)", "90th percentile (days)"],
        cells=[[Cell(None, SUPPRESSED), Cell(None, SUPPRESSED)], [Cell(6.5), Cell(23.0)]],
        bases=[[3, 3], [212, 212]],
        row_totals=[Cell(None, SUPPRESSED), Cell(212)],
        column_totals=[Cell(6.0), Cell(22.5)],
        total=Cell(215),
        total_label="Persons",
    )


def share_identified() -> Table:
    """An indicator with a single row: no chart is drawn for it."""
    return Table(
        key="share_formally_identified",
        title="Share of presumed victims formally identified",
        unit="persons",
        kind="indicator",
        row_dimension="All victims",
        rows=["all"],
        row_labels=["All registered victims"],
        columns=["share"],
        column_labels=["Share (%)"],
        cells=[[Cell(61.3)]],
        bases=[[1522]],
        row_totals=[Cell(1522)],
        column_totals=[Cell(61.3)],
        total=Cell(1522),
    )


def nrm_result() -> TableSetResult:
    return TableSetResult(
        key="nrm",
        title="NRM monitoring indicators",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        tables=[days_to_referral(), share_identified()],
        controls={"threshold": 5, "rounding": 5, "epsilon": 0.5},
        small_cell_label="<5",
    )


@pytest.fixture
def eurostat():
    return eurostat_result()


@pytest.fixture
def nrm():
    return nrm_result()
