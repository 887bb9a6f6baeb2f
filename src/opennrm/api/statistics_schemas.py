"""The request and response schemas of the statistics routes (`api/statistics.py`)."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from opennrm.api.schemas import Request
from opennrm.statistics import engine

# The table sets found in statistics/definitions/ (and OPENNRM_TABLE_SET_DIRS) at start-up.
TableSetKey = Literal[engine.table_set_keys()]
PERIOD_HELP = "A year (2025), a quarter (2025-Q3), a month (2025-03) or two dates " \
              "(2025-01-01..2025-06-30)."


class CellOut(Schema):
    value: int | float | None = Field(description="null when suppressed")
    flag: str = Field(description="'', 'suppressed', 'secondary', 'rounded' or 'noisy'")


class CategoryOut(Schema):
    code: str
    label: str


class TableOut(Schema):
    key: str
    title: str
    unit: str = Field(description="persons, cases, referrals or decisions")
    kind: str = Field(description="count or indicator")
    additive: bool = Field(description="false when only the overall total may be summed")
    row_dimension: str
    column_dimension: str
    rows: list[CategoryOut]
    columns: list[CategoryOut]
    cells: list[list[CellOut]]
    row_totals: list[CellOut]
    column_totals: list[CellOut]
    total: CellOut
    total_label: str
    notes: list[str]


class TableSetOut(Schema):
    key: str
    title: str
    period_start: date
    period_end: date
    controls: dict
    small_cell_label: str
    notes: list[str]
    tables: list[TableOut]


class PeriodQuery(Request):
    period: str = Field(description=PERIOD_HELP, max_length=40)


POLICY_NOTE = ("Default: the node's disclosure policy; a value laxer than the policy is "
               "refused (422).")


class TableQuery(PeriodQuery):
    threshold: int | None = Field(None, ge=1, le=1000,
                                  description="Smallest count published. " + POLICY_NOTE)
    rounding: int | None = Field(None, ge=0, le=1000,
                                 description="Round counts to this base (0: no). "
                                             + POLICY_NOTE)


class ExportQuery(Request):
    format: Literal["csv", "xlsx", "pdf"] = "csv"
    language: Literal["en", "ro", "uk", "ru"] = "en"


class TableExportQuery(PeriodQuery, ExportQuery):
    pass


class ExtractQuery(PeriodQuery):
    k: int | None = Field(None, ge=2, le=1000,
                          description="Smallest group of persons alike on the "
                                      "quasi-identifiers. " + POLICY_NOTE)


class SyntheticExtractIn(Request):
    period: str = Field(description=PERIOD_HELP, max_length=40)
    epsilon: float = Field(gt=0, le=100, description="Differential privacy ε spent")


class TableSetInfo(Schema):
    key: str
    title: str
    tables: list[str]


class ReleaseIn(Request):
    table_set: TableSetKey
    period: str = Field(description=PERIOD_HELP, max_length=40)
    threshold: int | None = Field(None, ge=1, le=1000,
                                  description="Smallest count published. " + POLICY_NOTE)
    rounding: int | None = Field(None, ge=0, le=1000,
                                 description="Round counts to this base (0: no). "
                                             + POLICY_NOTE)
    epsilon: float | None = Field(None, gt=0, le=100,
                                  description="Differential privacy ε spent by the release")


class ReleaseOut(Schema):
    id: int
    table_set: str
    title: str
    period_start: date
    period_end: date
    published_at: datetime
    published_by: str
    controls: dict
    epsilon_spent: float | None
    inputs: dict


class ReleaseDetailOut(ReleaseOut):
    result: TableSetOut


class VerificationOut(Schema):
    inputs_match: bool
    tables_match: bool
    published_match: bool | None
    ok: bool


class BudgetOut(Schema):
    table_set: str
    period_start: date
    period_end: date
    epsilon_spent: float
    epsilon_cap: float
