"""Bar charts of published tables, as Vega-Lite specifications.

The same specification is embedded (as JSON) in the web dashboard and drawn (as SVG) in the
PDF report, so it is built only from what is published: a suppressed cell is left out of
the chart, never drawn as zero, and a caption says that some cells are not shown. The
specification holds its data inline and depends on nothing but the table and the active
language, so the same table always gives the same chart.
"""

from __future__ import annotations

import altair as alt
import vl_convert
from django.utils.formats import get_format
from django.utils.translation import gettext as _

from opennrm.reports.published import localized_text, unit_label
from opennrm.reports.tables import Table

# A categorical palette for statistical graphics that stays distinguishable for readers with
# colour-vision deficiencies (the UK Government Analysis Function's accessible palette).
PALETTE = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
WIDTH = 420
BAR = 13  # thickness of one bar, in pixels


def chart_values(table: Table) -> list[dict]:
    """The published cells of the table body (no totals), one record per bar.

    Suppressed cells are left out: they have no published value.
    """
    values = []
    for row_label, row in zip(table.row_labels, table.cells, strict=True):
        for column_label, cell in zip(table.column_labels, row, strict=True):
            if cell.value is None:
                continue
            values.append({"row": row_label, "column": column_label, "value": cell.value,
                           "text": localized_text(cell, "")})
    return values


def has_chart(table: Table) -> bool:
    """A chart is drawn for a table with more than one row and at least one published cell."""
    return len(table.rows) > 1 and bool(chart_values(table))


def _number_locale() -> dict:
    """The active language's decimal sign and thousands separator, for the axis labels."""
    return {"decimal": get_format("DECIMAL_SEPARATOR"),
            "thousands": get_format("THOUSAND_SEPARATOR"),
            "grouping": [3], "currency": ["", ""]}


def chart_description(table: Table, values: list[dict]) -> str:
    """A text alternative for the chart: what it shows and every published figure."""
    single_column = len(table.columns) == 1
    figures = "; ".join(
        f"{v['row']}: {v['text']}" if single_column else f"{v['row']}, {v['column']}: {v['text']}"
        for v in values)
    description = _("Bar chart: %(title)s.") % {"title": table.title} + " " + figures + "."
    if len(values) < len(table.rows) * len(table.columns):
        description += " " + suppressed_caption()
    return description


def suppressed_caption() -> str:
    return _("Some cells are suppressed for confidentiality and are not shown.")


def chart_spec(table: Table) -> dict | None:
    """A horizontal bar chart of the table body as a Vega-Lite specification (a dict ready
    for JSON), or None when the table has a single row or nothing published to draw.

    Each row category is a group of bars, one bar per column category, labelled with its
    published figure. Totals are not drawn: they are in the table next to the chart.
    """
    if not has_chart(table):
        return None
    values = chart_values(table)
    single_column = len(table.columns) == 1
    subtitle = []
    if len(values) < len(table.rows) * len(table.columns):
        subtitle.append(suppressed_caption())

    count = table.kind == "count"
    if count:
        axis = alt.Axis(format=",d", tickMinStep=1, tickCount=6, labelFlush=False)
    else:
        axis = alt.Axis(format=",~r", labelFlush=False)
    x = alt.X("value:Q", title=unit_label(table.unit) if count else None, axis=axis)
    # Every row keeps its place, so a row with nothing published shows as a gap. The row
    # dimension needs no axis title: the chart title names it and the labels speak.
    y = alt.Y("row:N", sort=list(table.row_labels), title=None,
              scale=alt.Scale(domain=list(table.row_labels), paddingInner=0.3,
                              paddingOuter=0.15),
              axis=alt.Axis(labelLimit=180, labelPadding=6, ticks=False, domainColor="#8a8a8a"))
    encoding = {"x": x, "y": y}
    if not single_column:
        # Every column keeps its slot, so a suppressed cell shows as a gap, not a shift.
        encoding["yOffset"] = alt.YOffset("column:N", sort=list(table.column_labels),
                                          scale=alt.Scale(domain=list(table.column_labels),
                                                          paddingInner=0.1))
    base = alt.Chart(alt.Data(values=values)).encode(**encoding)
    if single_column:
        bars = base.mark_bar(color=PALETTE[0])
    else:
        colour = alt.Color(
            "column:N", title=table.column_dimension or None,
            scale=alt.Scale(domain=list(table.column_labels),
                            range=[PALETTE[i % len(PALETTE)] for i in range(len(table.columns))]),
            legend=alt.Legend(orient="top", direction="horizontal", titleOrient="left"))
        bars = base.mark_bar().encode(color=colour)
    labels = base.mark_text(align="left", baseline="middle", dx=3, fontSize=10,
                            color="#3D3D3D").encode(text="text:N")
    chart = alt.layer(bars, labels).properties(
        width=WIDTH,
        # One step per bar when the rows hold several bars, else one per row.
        height=alt.Step(BAR, **{"for": "offset"}) if not single_column else alt.Step(BAR * 1.6),
        title=alt.TitleParams(text=table.title, subtitle=subtitle or alt.Undefined),
        description=chart_description(table, values),
    ).configure(
        font=FONT,
        background="white",
        locale=alt.Locale(number=_number_locale()),
    ).configure_title(
        anchor="start", fontSize=14, fontWeight="bold", color="#1B1B1B",
        subtitleFontSize=11, subtitleColor="#505A5F", offset=10,
    ).configure_axis(
        labelFontSize=11, titleFontSize=11, labelColor="#3D3D3D", titleColor="#3D3D3D",
        titleFontWeight="normal", gridColor="#E5E5E5", domain=False, tickColor="#BDBDBD",
    ).configure_legend(
        labelFontSize=11, titleFontSize=11, titleFontWeight="normal", symbolType="square",
        labelColor="#3D3D3D", titleColor="#3D3D3D",
    ).configure_view(stroke=None)
    return chart.to_dict()


def chart_svg(table: Table) -> str | None:
    """The chart drawn as an SVG document (rendered offline), or None if the table has no
    chart."""
    spec = chart_spec(table)
    if spec is None:
        return None
    return vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
