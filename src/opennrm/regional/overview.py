"""The regional view: the partners' latest releases side by side, on the shared table
definitions, with regional totals that count each person once across countries.

Everything here is read from releases as they travelled (this node's own, as it sent them,
and the partners' as received): disclosure-controlled aggregates only. A release made with
other definitions than this node's is shown apart with what differs, and never added to the
others. The tables built here have the shape of any published table set
(`reports.tables`), so the page, the charts (Vega-Lite via Altair) and the PDF draw them as
they draw a national report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

from opennrm.core import codelists
from opennrm.regional import duplicates
from opennrm.regional.access import ensure_can_view_regional
from opennrm.regional.models import ReceivedRelease, SentRelease
from opennrm.reports.tables import SECONDARY, SUPPRESSED, Cell, Table, TableSetResult
from opennrm.statistics import disclosure, engine, policy
from opennrm.transnational.identity import this_node
from opennrm.transnational.models import TransnationalReferral

FLOWS_FILE = Path(__file__).resolve().parent / "flows.json"


@dataclass
class CountryRelease:
    """One country's latest release of the table set and period in view."""

    country: str
    source: str  # the partner's name, or this node's
    payload: dict
    received_at: datetime | None = None
    differences: list[str] = field(default_factory=list)

    @property
    def result(self) -> TableSetResult:
        return TableSetResult.from_dict(self.payload["result"])

    @property
    def definitions_version(self) -> str:
        return self.payload["definitions_version"]

    @property
    def total(self) -> int | None:
        return self.payload["persons"]["total"]

    def figures(self) -> duplicates.NationalFigures:
        return duplicates.NationalFigures(
            country=self.country, total=self.total,
            threshold=int(self.payload["disclosure"]["threshold"]),
            duplicates=tuple(duplicates.ControlledCount.from_dict(item)
                             for item in self.payload["duplicates"]))


@dataclass
class RegionalOverview:
    table_set: str
    start: date
    end: date
    definitions_version: str
    countries: list[CountryRelease]
    apart: list[CountryRelease]
    deduplication: duplicates.Deduplication
    # Side-by-side tables, the regional totals first, as one table set (page and PDF).
    result: TableSetResult
    # Trends, flows and referrals, as tables with their charts.
    extra: list[Table]


# --- which releases ---------------------------------------------------------------------

def _own_release(key: str, start: date, end: date) -> CountryRelease | None:
    sent = (SentRelease.objects.filter(release__table_set=key, release__period_start=start,
                                       release__period_end=end)
            .order_by("-release__published_at", "-id").first())
    if sent is None:
        return None
    return CountryRelease(sent.payload["country"], _("this node"), sent.payload)


def _received(key: str, start: date | None = None, end: date | None = None):
    rows = ReceivedRelease.objects.filter(table_set=key).select_related("partner")
    if start is not None:
        rows = rows.filter(period_start=start, period_end=end)
    return rows.order_by("-published_at", "-id")


def latest_releases(key: str, start: date, end: date) -> list[CountryRelease]:
    """This node's latest release sent, then each partner's latest received, for exactly
    this table set and period, one per country, by country code."""
    found: dict[str, CountryRelease] = {}
    own = _own_release(key, start, end)
    if own is not None:
        found[own.country] = own
    for row in _received(key, start, end):
        found.setdefault(row.country, CountryRelease(row.country, row.partner.name,
                                                     row.payload, row.received_at))
    return [found[country] for country in sorted(found)]


# --- definitions in step ------------------------------------------------------------------

def _structure(payload: dict) -> dict[str, tuple[list[str], list[str]]]:
    return {table["key"]: ([row["code"] for row in table["rows"]],
                           [column["code"] for column in table["columns"]])
            for table in payload["result"]["tables"]}


def definition_differences(reference: dict | None, other: dict, our_version: str,
                           our_tables: list[str]) -> list[str]:
    """What differs between a release made with other definitions and this node's: the
    version, tables only on one side, and categories (rows, columns) only on one side.
    `reference` is a release made with this node's definitions, if there is one."""
    differences = [_("Definitions %(theirs)s, not %(ours)s as here.")
                   % {"theirs": other["definitions_version"] or "?", "ours": our_version}]
    theirs = _structure(other)
    ours = _structure(reference) if reference else {key: None for key in our_tables}
    only_theirs = sorted(set(theirs) - set(ours))
    only_ours = sorted(set(ours) - set(theirs))
    if only_theirs:
        differences.append(_("Tables only in this release: %(keys)s.")
                           % {"keys": ", ".join(only_theirs)})
    if only_ours:
        differences.append(_("Tables missing from this release: %(keys)s.")
                           % {"keys": ", ".join(only_ours)})
    for key in sorted(set(theirs) & set(ours)):
        if ours[key] is None:
            continue
        for index, name in ((0, _("rows")), (1, _("columns"))):
            extra = [c for c in theirs[key][index] if c not in ours[key][index]]
            missing = [c for c in ours[key][index] if c not in theirs[key][index]]
            if extra or missing:
                differences.append(
                    _("%(table)s, %(what)s: only in this release %(extra)s; missing "
                      "%(missing)s.") % {"table": key, "what": name,
                                         "extra": ", ".join(extra) or "—",
                                         "missing": ", ".join(missing) or "—"})
    return differences


# --- building the tables ------------------------------------------------------------------

def _country_label(code: str) -> str:
    return codelists.label("countries", code) or code


def _sum(cells: list[Cell]) -> Cell:
    """A regional sum: known only when every country's figure is."""
    if any(cell.value is None for cell in cells):
        return Cell(None, SECONDARY)
    return Cell(sum(cell.value for cell in cells))


def side_by_side(countries: list[CountryRelease], table_key: str) -> Table | None:
    """One table of the shared definitions, by country: each row's total in each country,
    and the regional sum (only when every country published it). Rows are the union of the
    countries' rows (a "top ten" dimension may differ by country)."""
    tables = {}
    for country in countries:
        for table in country.result.tables:
            if table.key == table_key:
                tables[country.country] = table
    if not tables:
        return None
    first = next(iter(tables.values()))
    rows, labels = list(first.rows), list(first.row_labels)
    for table in tables.values():
        for code, label in zip(table.rows, table.row_labels, strict=True):
            if code not in rows:
                rows.append(code)
                labels.append(label)
    codes = [country.country for country in countries]
    cells = []
    for code in rows:
        line = []
        for country in codes:
            table = tables.get(country)
            if table is None or code not in table.rows:
                line.append(Cell(None, SECONDARY))
            else:
                line.append(_copy(table.row_totals[table.rows.index(code)]))
        cells.append(line)
    column_totals = [_copy(tables[c].total) if c in tables else Cell(None, SECONDARY)
                     for c in codes]
    count = first.kind == "count"
    return Table(
        # Releases travel in English (the definitions' own words): shown in the reader's.
        key=table_key, title=_(first.title), unit=first.unit,
        row_dimension=_(first.row_dimension) if first.row_dimension else "",
        rows=rows, row_labels=[_(label) for label in labels], columns=codes,
        column_labels=[_country_label(c) for c in codes], cells=cells,
        row_totals=[_sum(line) if count and first.additive else Cell(None, SECONDARY)
                    for line in cells],
        column_totals=column_totals,
        total=_sum(column_totals) if count else Cell(None, SECONDARY),
        column_dimension=_("Country"), kind=first.kind, additive=False,
        description=_(first.description) if first.description else "",
        notes=[_("Each country's figure is its own total for the row (each person once in "
                 "that country). The regional sum adds them: a person registered in two "
                 "countries is in both; the regional total of persons removes them."),
               _("x: suppressed by the country's disclosure control, or not a category of "
                 "that country's table.")],
        total_label=_("Sum of countries"))


def _copy(cell: Cell) -> Cell:
    return Cell(cell.value, cell.flag)


def persons_table(countries: list[CountryRelease],
                  deduplication: duplicates.Deduplication) -> Table:
    """The regional total of persons, each counted once: the national totals, their sum, the
    persons removed as registered in more than one country, the regional total."""
    rows = [c.country for c in countries] + ["sum", "removed", "regional"]
    labels = ([_("%(country)s (national total)") % {"country": _country_label(c.country)}
               for c in countries]
              + [_("Sum of national totals"),
                 _("Registered in more than one country (removed)"),
                 _("Regional total, each person once")])
    sum_total = deduplication.sum_of_national_totals
    values = ([Cell(c.total) if c.total is not None else Cell(None, SUPPRESSED)
               for c in countries]
              + [Cell(sum_total) if sum_total is not None else Cell(None, SECONDARY),
                 Cell(deduplication.removed),
                 Cell(deduplication.regional_total)
                 if deduplication.regional_total is not None else Cell(None, SECONDARY)])
    notes = [method_note(deduplication)]
    if deduplication.could_not_be_removed:
        notes.append(_("Up to %(n)s more persons may be counted in two countries: their counts "
                       "were below a country's threshold and suppressed.")
                     % {"n": deduplication.could_not_be_removed})
    return Table(
        key="regional_persons", title=_("Persons counted once across countries"),
        unit="persons", row_dimension="", rows=rows, row_labels=labels,
        columns=["persons"], column_labels=[_("Persons")],
        cells=[[cell] for cell in values], row_totals=[_copy(cell) for cell in values],
        column_totals=[_copy(values[-1])], total=_copy(values[-1]), additive=False,
        notes=notes)


def method_note(deduplication: duplicates.Deduplication) -> str:
    """How the duplicates were removed, with the groups of countries."""
    parts = [_("%(countries)s: %(persons)s persons, %(removed)s removed")
             % {"countries": "+".join(sorted(g.countries)), "persons": g.persons,
                "removed": g.removed} for g in deduplication.groups if g.persons]
    text = _("Duplicates removed: for each group of countries, the persons known in exactly "
             "those countries are the smallest of the counts the group's countries gave; "
             "each is kept once (removed once less than the countries that counted them).")
    return text + (" " + "; ".join(parts) + "." if parts else "")


def trend_table(key: str, start: date, end: date, codes: list[str],
                our_version: str) -> Table | None:
    """Persons by period and country: every comparable release of the set whose period has
    the length of the one in view, up to it (this node's sent and the partners' received)."""
    length = (end - start).days
    by_period: dict[tuple[date, date], dict[str, int | None]] = {}
    sources = [(s.payload, s.release.published_at) for s in SentRelease.objects.filter(
        release__table_set=key).select_related("release").order_by("release__published_at")]
    sources += [(r.payload, r.published_at) for r in
                _received(key).order_by("published_at")]
    for payload, _published in sources:  # later releases of a period replace earlier ones
        if payload["definitions_version"] != our_version:
            continue
        period = (date.fromisoformat(payload["period"]["start"]),
                  date.fromisoformat(payload["period"]["end"]))
        if abs((period[1] - period[0]).days - length) > 3 or period[1] > end:
            continue
        by_period.setdefault(period, {})[payload["country"]] = payload["persons"]["total"]
    if len(by_period) < 2 or not codes:
        return None
    periods = sorted(by_period)
    from opennrm.reports.tables import period_label_of

    cells = [[Cell(by_period[p].get(c)) if by_period[p].get(c) is not None
              else Cell(None, SECONDARY) for c in codes] for p in periods]
    return Table(
        key="regional_trend", title=_("Persons by period and country"), unit="persons",
        row_dimension=_("Period"), rows=[f"{a}..{b}" for a, b in periods],
        row_labels=[period_label_of(a, b) for a, b in periods], columns=codes,
        column_labels=[_country_label(c) for c in codes], cells=cells,
        row_totals=[_sum(line) for line in cells],
        column_totals=[Cell(None, SECONDARY) for _c in codes], total=Cell(None, SECONDARY),
        column_dimension=_("Country"), additive=False,
        notes=[_("National totals; the sum of a period counts a person registered in two "
                 "countries twice.")])


@cache
def _flow_tables() -> list[dict]:
    return json.loads(FLOWS_FILE.read_text(encoding="utf-8"))["flows"]


def flows_table(countries: list[CountryRelease], key: str) -> Table | None:
    """Transnational flows, country → country, from the tables `flows.json` names: the
    published row totals of each country's table (suppressed ones left out)."""
    flows: dict[tuple[str, str], Cell] = {}
    for spec in _flow_tables():
        if spec["table_set"] != key:
            continue
        for country in countries:
            for table in country.result.tables:
                if table.key != spec["table"]:
                    continue
                for code, cell in zip(table.rows, table.row_totals, strict=True):
                    if len(code) != 2 or not code.isupper() or code == country.country:
                        continue
                    pair = ((code, country.country) if spec["direction"] == "from_rows"
                            else (country.country, code))
                    flows[pair] = _copy(cell)
    if not flows:
        return None
    origins = sorted({a for a, _b in flows})
    destinations = sorted({b for _a, b in flows})
    cells = [[flows.get((a, b), Cell(None, SECONDARY)) for b in destinations]
             for a in origins]
    return Table(
        key="regional_flows", title=_("Transnational flows: from country to country"),
        unit="persons", row_dimension=_("From"), rows=origins,
        row_labels=[_country_label(c) for c in origins], columns=destinations,
        column_labels=[_country_label(c) for c in destinations], cells=cells,
        row_totals=[Cell(None, SECONDARY) for _a in origins],
        column_totals=[Cell(None, SECONDARY) for _b in destinations],
        total=Cell(None, SECONDARY), column_dimension=_("To"), additive=False,
        notes=[_("From the country of citizenship to the country that registered the person, "
                 "and from the country that registered them to the country of exploitation, "
                 "as each country's tables give them. x: suppressed, or a pair no table "
                 "names (it may be under Other).")])


def referrals_table(start: date, end: date) -> Table | None:
    """Transnational referrals between this node and each partner in the period (offered),
    sent and received, under the node's threshold."""
    from django.db.models import Count

    rows = (TransnationalReferral.objects
            .filter(created_at__date__gte=start, created_at__date__lte=end)
            .values_list("partner__country", "direction").annotate(n=Count("id")))
    counts: dict[tuple[str, str], int] = {(c, d): n for c, d, n in rows}
    if not counts:
        return None
    partners = sorted({c for c, _d in counts})
    directions = ["out", "in"]
    cells = [[Cell(counts.get((p, d), 0)) for d in directions] for p in partners]
    row_totals = [Cell(sum(cell.value for cell in line)) for line in cells]
    column_totals = [Cell(sum(line[j].value for line in cells)) for j in range(2)]
    table = Table(
        key="regional_referrals",
        title=_("Transnational referrals between %(country)s and its partners")
        % {"country": _country_label(this_node().country)}, unit="referrals",
        row_dimension=_("Partner country"), rows=partners,
        row_labels=[_country_label(p) for p in partners], columns=directions,
        column_labels=[_("Sent"), _("Received")], cells=cells, row_totals=row_totals,
        column_totals=column_totals, total=Cell(sum(c.value for c in row_totals)),
        column_dimension=_("Direction"))
    return disclosure.suppress_small_cells(table, policy.current_policy().threshold)


# --- the view -------------------------------------------------------------------------------

def regional_overview(user, key: str, start: date, end: date) -> RegionalOverview:
    """Everything the regional page and its PDF show, for one table set and period."""
    ensure_can_view_regional(user)
    return build_overview(key, start, end)


def build_overview(key: str, start: date, end: date) -> RegionalOverview:
    """`regional_overview` without the access check (the command line, the benchmark)."""
    definition = engine.load_definition(key)
    our_version = str(definition.get("version", ""))
    everyone = latest_releases(key, start, end)
    countries = [c for c in everyone if c.definitions_version == our_version]
    apart = [c for c in everyone if c.definitions_version != our_version]
    reference = countries[0].payload if countries else None
    for other in apart:
        other.differences = definition_differences(
            reference, other.payload, our_version, [t["key"] for t in definition["tables"]])
    deduplication = duplicates.deduplicate(c.figures() for c in countries)
    tables = [persons_table(countries, deduplication)]
    if countries:
        for table in countries[0].result.tables:
            built = side_by_side(countries, table.key)
            if built is not None:
                tables.append(built)
    threshold = max((int(c.payload["disclosure"]["threshold"]) for c in countries),
                    default=policy.current_policy().threshold)
    result = TableSetResult(
        key=f"regional-{key}", title=_("Regional statistics: %(title)s")
        % {"title": _(definition.get("title", key))}, period_start=start, period_end=end,
        tables=tables, controls={"threshold": threshold, "rounding": 0, "epsilon": None},
        notes=[_("Countries: %(list)s.") % {"list": ", ".join(
            f"{_country_label(c.country)} ({c.source})" for c in countries) or "—"}])
    codes = [c.country for c in countries]
    extra = [table for table in (trend_table(key, start, end, codes, our_version),
                                 flows_table(countries, key), referrals_table(start, end))
             if table is not None]
    return RegionalOverview(key, start, end, our_version, countries, apart, deduplication,
                            result, extra)


def report_results(overview: RegionalOverview) -> list[TableSetResult]:
    """The overview as the table sets of a PDF report: the regional tables, then trends,
    flows and referrals as a chapter of their own."""
    results = [overview.result]
    if overview.extra:
        results.append(TableSetResult(
            key="regional-context", title=_("Trends, flows and referrals"),
            period_start=overview.start, period_end=overview.end, tables=overview.extra,
            controls=dict(overview.result.controls)))
    return results
