import json

from django.utils.translation import override

from opennrm.reports.charts import chart_spec, chart_svg

from .conftest import (
    days_to_referral,
    share_identified,
    victims_by_citizenship,
    victims_by_form_and_sex,
    victims_by_sex_and_age,
)

CAPTION = "Some cells are suppressed for confidentiality and are not shown."


def test_chart_draws_only_published_cells_and_says_some_are_left_out():
    spec = chart_spec(victims_by_sex_and_age())
    values = spec["data"]["values"]
    assert [(v["row"], v["column"], v["value"]) for v in values] == [
        ("Female", "18 years or over", 1085), ("Male", "18 years or over", 407)]
    assert all(v["value"] is not None for v in values)
    assert spec["title"]["text"] == "Registered victims by sex and age group"
    assert spec["title"]["subtitle"] == [CAPTION]
    assert spec["description"].startswith("Bar chart: Registered victims by sex and age group.")
    assert "Female, 18 years or over: 1,085" in spec["description"]
    assert CAPTION in spec["description"]
    # Every category keeps its place (and colour) even when all its cells are suppressed.
    colour = spec["layer"][0]["encoding"]["color"]
    assert colour["scale"]["domain"] == ["Less than 12 years", "12 to 17 years",
                                         "18 years or over"]


def test_chart_without_suppression_has_no_caption():
    spec = chart_spec(victims_by_form_and_sex())
    assert len(spec["data"]["values"]) == 8
    assert "subtitle" not in spec["title"]
    assert CAPTION not in spec["description"]


def test_chart_spec_is_deterministic_json():
    first = json.dumps(chart_spec(victims_by_form_and_sex()), sort_keys=True)
    second = json.dumps(chart_spec(victims_by_form_and_sex()), sort_keys=True)
    assert first == second
    assert "http" not in json.dumps(chart_spec(victims_by_form_and_sex())["data"])


def test_no_chart_for_a_table_of_one_row():
    assert chart_spec(share_identified()) is None
    assert chart_svg(share_identified()) is None


def test_chart_renders_offline_to_svg_with_its_title_and_figures():
    svg = chart_svg(victims_by_form_and_sex())
    assert svg.lstrip().startswith("<svg")
    assert "Registered victims by form of exploitation and sex" in svg
    assert "612" in svg and "Labour exploitation" in svg


def test_one_column_and_indicator_charts_render():
    citizenship = chart_svg(victims_by_citizenship())
    assert "Non-EU countries" in citizenship and "1,388" in citizenship
    days = chart_spec(days_to_referral())
    assert [v["text"] for v in days["data"]["values"]] == ["6.5", "23.0"]
    assert "Days from first contact to the first referral" in chart_svg(days_to_referral())


def test_chart_labels_follow_the_language():
    with override("ro"):
        spec = chart_spec(victims_by_sex_and_age())
        svg = chart_svg(victims_by_sex_and_age())
    assert [v["text"] for v in spec["data"]["values"]] == ["1.085", "407"]
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert "1.085" in svg
    assert "1.000" in svg  # the axis ticks too
