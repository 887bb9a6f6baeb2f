"""The shape of a computed statistical table: defined beside the report formats that render
it (`opennrm.reports.tables`, so that reports imports nothing of statistics), and named here
for the statistics modules that compute it."""

from opennrm.reports.tables import (
    NOISY,
    ROUNDED,
    SECONDARY,
    SUPPRESSED,
    UNITS,
    Cell,
    Table,
    TableSetResult,
)

__all__ = ["NOISY", "ROUNDED", "SECONDARY", "SUPPRESSED", "UNITS", "Cell", "Table",
           "TableSetResult"]
