"""The annual statistical report as a PDF, for the parliament and the international bodies.

The report is rendered from a Django template with WeasyPrint. Everything it shows is in
the HTML: the style sheet is inlined and each chart is an SVG embedded as a data: URI, and
the URL fetcher refuses anything else, so rendering never reaches the network or the disk.
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, override

from opennrm.core.printing import url_fetcher
from opennrm.reports.charts import chart_description, chart_svg, chart_values, has_chart
from opennrm.reports.published import (
    controls_explanations,
    controls_summary,
    localized_text,
    small_cell_label,
    table_footnotes,
    table_grid,
    table_symbols,
    unit_label,
)
from opennrm.reports.tables import Table, TableSetResult


def _svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _chart_images(results: list[TableSetResult]) -> dict[int, str]:
    """Every table's chart as an SVG, keyed by id(table), drawn side by side: vl-convert
    works outside Python's lock, and a report holds dozens of charts."""
    tables = [table for result in results for table in result.tables if has_chart(table)]
    language = get_language()  # the active language is per thread: hand it over

    def draw(table: Table) -> str:
        with override(language):
            return chart_svg(table)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((id(t) for t in tables), pool.map(draw, tables), strict=True))


def _table_context(table: Table, result: TableSetResult, number: str,
                   charts: dict[int, str]) -> dict:
    label = small_cell_label(table, result)
    grid = table_grid(table)
    rows = []
    for grid_row in grid.rows:
        cells = []
        for index, cell in enumerate(grid_row.cells):
            cells.append({
                "text": localized_text(cell, label),
                "total": grid.is_total_column(index),
                "confidential": cell.value is None,
            })
        rows.append({"label": grid_row.label, "total": grid_row.is_total, "cells": cells})
    columns = [{"label": column_label, "total": grid.is_total_column(index)}
               for index, (_code, column_label) in enumerate(grid.columns)]
    # Under the column dimension's heading go its categories; an added totals column
    # stands apart.
    added_total = len(grid.columns) > len(table.columns)
    chart = None
    if id(table) in charts:
        chart = {"src": _svg_data_uri(charts[id(table)]),
                 "alt": chart_description(table, chart_values(table))}
    return {
        "number": number,
        "anchor": f"table-{number.replace('.', '-')}",
        "title": table.title,
        "description": table.description,
        "unit": unit_label(table.unit) if table.kind == "count" else "",
        "row_dimension": table.row_dimension,
        "column_dimension": table.column_dimension,
        "columns": columns,
        # A table of one or two figures a row would be all white space at full width.
        "narrow": len(columns) <= 2,
        "spanned_columns": columns[:-1] if added_total else columns,
        "total_column": columns[-1] if added_total else None,
        "rows": rows,
        "symbols": table_symbols(table, result),
        "footnotes": table_footnotes(table, result) + list(table.notes),
        "chart": chart,
    }


def _chapter_context(result: TableSetResult, number: int, charts: dict[int, str]) -> dict:
    return {
        "number": number,
        "anchor": f"chapter-{number}",
        "title": result.title,
        "period": result.period_label,
        "notes": list(result.notes),
        "tables": [_table_context(table, result, f"{number}.{index}", charts)
                   for index, table in enumerate(result.tables, start=1)],
        "controls": controls_summary(result),
        "explanations": controls_explanations(result),
    }


def _period(results: list[TableSetResult]) -> str:
    labels = []
    for result in results:
        if result.period_label not in labels:
            labels.append(result.period_label)
    return ", ".join(labels)


def report_html(results: list[TableSetResult], *, title: str, country_name: str,
                published_on: date) -> str:
    """The report as one self-contained HTML document (in the active language)."""
    charts = _chart_images(results)
    css = render_to_string("reports/annual_report.css", {"title": title,
                                                         "country_name": country_name})
    context = {
        "css": mark_safe(css),  # our own style sheet, from our own template
        "title": title,
        "country_name": country_name,
        "period": _period(results),
        "published_on": date_format(published_on, "DATE_FORMAT"),
        "chapters": [_chapter_context(result, number, charts)
                     for number, result in enumerate(results, start=1)],
        "methods_anchor": "methods",
    }
    return render_to_string("reports/annual_report.html", context)


def render_pdf(results: list[TableSetResult], *, title: str, country_name: str,
               language: str = "en", published_on: date | None = None) -> bytes:
    """The annual statistical report: cover, contents, a chapter per table set with each
    table, its chart and notes, and a closing note on methods and disclosure control.

    `published_on` is the date printed on the cover (today if not given).
    """
    published_on = published_on or timezone.localdate()
    with override(language):
        html = report_html(results, title=title, country_name=country_name,
                           published_on=published_on)
        from weasyprint import HTML

        document = HTML(string=html, base_url="data:,", url_fetcher=url_fetcher("data"))
        # Tagged, so that screen readers can follow headings and tables.
        return document.write_pdf(pdf_tags=True)


def render_pdf_page_png(pdf_bytes: bytes, page: int = 1, *, dpi: int = 110) -> bytes:
    """One page of a PDF as a PNG image (for screenshots in the documentation)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "report.pdf"
        source.write_bytes(pdf_bytes)
        target = Path(folder) / "page"
        subprocess.run(
            ["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-png",
             "-singlefile", str(source), str(target)],
            check=True, capture_output=True, timeout=120)
        return target.with_suffix(".png").read_bytes()

