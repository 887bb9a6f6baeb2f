"""The statistics pages: tables as they may be published, downloads, releases, access.

The dataset is the hand-made one of conftest.py (five victims in 2025), plus, for the
identity checks, persons with names and numbers that appear nowhere else.
"""

import io
import re
import subprocess
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from opennrm.statistics import releases
from opennrm.statistics.engine import table_set_keys
from opennrm.statistics.models import PrivacyBudgetSpend, Release
from tests.factories import make_agency, make_user, person_data

CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def analyst_client(client, analyst_user):
    return signed_in(client, analyst_user)


def statistics_url(**query) -> str:
    from urllib.parse import urlencode

    return reverse("statistics") + ("?" + urlencode(query) if query else "")


def download_url(fmt: str, **query) -> str:
    from urllib.parse import urlencode

    return reverse("statistics-download", args=[fmt]) + "?" + urlencode(query)


def text_of(response) -> str:
    return response.content.decode("utf-8")


def cells_of(html: str) -> list[str]:
    """The text of every cell of every statistical table on a page."""
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html, re.S)]


# --- the page ------------------------------------------------------------------------------

def test_the_page_shows_the_controlled_tables_of_the_chosen_set(analyst_client):
    response = analyst_client.get(statistics_url(period="2025", table_set="eurostat"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = text_of(response)
    assert "Eurostat: trafficking in human beings" in html
    for title in ("Registered victims by sex and age group",
                  "Registered victims by citizenship and sex",
                  "Registered victims by form of exploitation and sex",
                  "Registered victims by registering organisation and status"):
        assert title in html
    # Five persons: the overall total is published, every small cell is suppressed ("x").
    section = html.split('id="table-victims_by_sex_and_age-title"')[1]
    table = section.split("</table>")[0]
    assert re.search(r'<td class="num total">5</td>', table)
    assert re.search(r'<td class="num withheld">x</td>', table)
    assert '<th scope="col"' in table and '<th scope="row"' in table
    assert '<caption class="visually-hidden">Registered victims by sex and age group · 2025' \
        in table
    assert "Counts persons" in html
    # The legend says what the symbol means.
    assert "a count below the threshold of 5" in html
    # Downloads for the same period and set.
    assert "/statistics/download/csv/?period=2025&amp;table_set=eurostat" in html
    assert "/statistics/download/pdf/?period=2025&amp;table_set=all" in html


def test_a_small_count_is_never_shown(analyst_client):
    """The dataset has 1 or 2 persons in most cells: none of those counts reaches the page."""
    for key in table_set_keys():
        html = text_of(analyst_client.get(statistics_url(period="2025", table_set=key)))
        numbers = [cell for cell in cells_of(html) if re.fullmatch(r"[1-4]", cell)]
        assert numbers == [], f"{key}: small counts shown: {numbers}"


def test_glotip_shows_small_cells_as_below_five_and_marks_overlapping_rows(analyst_client):
    html = text_of(analyst_client.get(statistics_url(period="2025", table_set="glotip")))
    assert "&lt;5" in html
    assert "Only the total may be summed" in html


def test_the_page_defaults_to_the_current_year(analyst_client):
    response = analyst_client.get(reverse("statistics"))
    assert response.status_code == 200
    html = text_of(response)
    assert f'value="{date.today().year}"' in html
    assert "Eurostat: trafficking in human beings" in html


def test_a_chart_is_drawn_on_the_server_with_a_text_alternative(client, db):
    """Enough persons for published cells: the chart is an inline SVG named for readers."""
    ngo = make_agency("chart-ngo")
    worker = make_user(Role.CASEWORKER, ngo)
    for index in range(12):
        services.register_case(worker, person_data(
            given_name=f"Chart{index}", gender="female" if index % 2 else "male",
            birth_date=date(1990, 1, 1), first_contact_on=date(2025, 3, 1),
            identity_documents=[]))
    signed_in(client, make_user(Role.ANALYST, ngo))
    html = text_of(client.get(statistics_url(period="2025", table_set="eurostat")))
    assert '<figure class="chart">' in html
    assert re.search(r'<div role="img" aria-label="Bar chart: [^"]+">\s*<svg aria-hidden="true"',
                     html)
    assert "<script" not in html.split("</head>")[1]


def test_htmx_gets_the_form_and_tables_only(analyst_client):
    response = analyst_client.get(statistics_url(period="2025-Q2", table_set="eurostat"),
                                  headers={"HX-Request": "true",
                                           "HX-Target": "statistics-view"})
    html = text_of(response)
    assert "<html" not in html
    assert html.startswith('<div id="statistics-view">')
    assert 'hx-swap-oob="innerHTML"' in html
    assert "2025-04-01 – 2025-06-30" in html


@pytest.mark.parametrize("typed", ["2025-13", "last year", "2025-06-30..2025-01-01"])
def test_a_wrong_period_is_explained_beside_the_field_and_kept(analyst_client, typed):
    response = analyst_client.get(statistics_url(period=typed, table_set="eurostat"))
    assert response.status_code == 200
    html = text_of(response)
    assert 'class="error-summary"' in html
    assert 'href="#id_period"' in html
    assert 'id="id_period_error"' in html
    assert 'aria-invalid="true"' in html
    assert f'value="{typed}"' in html
    assert "Registered victims by sex and age group" not in html


def test_a_period_longer_than_ten_years_is_refused(analyst_client):
    html = text_of(analyst_client.get(
        statistics_url(period="2000-01-01..2025-12-31", table_set="eurostat")))
    assert "A period may be at most ten years long." in html


# --- downloads ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_downloads_have_their_type_and_are_audited(analyst_client, analyst_user, fmt):
    response = analyst_client.get(download_url(fmt, period="2025", table_set="glotip"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(CONTENT_TYPES[fmt])
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == f'attachment; filename="glotip-2025.{fmt}"'
    entry = AuditEntry.objects.get(action="export", object_type="statistics")
    assert entry.object_ref == "glotip 2025"
    assert entry.actor_id == analyst_user.pk
    assert entry.channel == "web"
    assert entry.reason == fmt


def test_the_csv_holds_the_published_figures(analyst_client):
    content = analyst_client.get(download_url("csv", period="2025", table_set="glotip"))
    text = content.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("table_key,table_title,unit,row_code")
    assert "Detected victims by sex and age" in text
    assert ",<5,suppressed" in text


def test_all_table_sets_only_as_pdf(analyst_client):
    assert analyst_client.get(download_url("csv", period="2025", table_set="all")) \
        .status_code == 404
    assert analyst_client.get(download_url("docx", period="2025", table_set="eurostat")) \
        .status_code == 404


def test_a_download_with_a_wrong_period_goes_back_to_the_page(analyst_client):
    response = analyst_client.get(download_url("csv", period="2025-13", table_set="eurostat"))
    assert response.status_code == 302
    assert response["Location"] == statistics_url(period="2025-13", table_set="eurostat")
    assert not AuditEntry.objects.filter(object_type="statistics").exists()


# --- access ---------------------------------------------------------------------------------

@pytest.fixture
def release(analyst_user):
    return releases.publish_release(analyst_user, "eurostat", *YEAR, releases.Controls())


def every_url(release) -> list[tuple[str, str]]:
    return [
        ("get", statistics_url(period="2025", table_set="eurostat")),
        ("get", download_url("csv", period="2025", table_set="eurostat")),
        ("get", download_url("xlsx", period="2025", table_set="eurostat")),
        ("get", download_url("pdf", period="2025", table_set="all")),
        ("get", reverse("statistics-releases")),
        ("post", reverse("statistics-releases")),
        ("get", reverse("statistics-release", args=[release.pk])),
        ("get", reverse("statistics-release", args=[release.pk]) + "?check=1"),
        ("get", reverse("statistics-release-download", args=[release.pk, "csv"])),
        ("get", reverse("statistics-release-download", args=[release.pk, "pdf"])),
    ]


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.AUDITOR, Role.ADMINISTRATOR])
def test_other_roles_get_403_everywhere(client, release, role):
    user = make_user(role, make_agency(f"agency-{role}"))
    signed_in(client, user)
    for method, url in every_url(release):
        response = getattr(client, method)(url, {"table_set": "eurostat", "period": "2025",
                                                 "threshold": "5", "rounding": "0",
                                                 "confirm": "on"} if method == "post" else None)
        assert response.status_code == 403, url
        assert "Not allowed" in text_of(response)
    assert Release.objects.count() == 1
    assert not AuditEntry.objects.filter(object_type="statistics").exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(client, release):
    for method, url in every_url(release):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_the_national_coordinator_may_use_statistics(client, dataset):
    coordinator = make_user(Role.NATIONAL_COORDINATOR, make_agency("coordination"))
    signed_in(client, coordinator)
    assert client.get(statistics_url(period="2025")).status_code == 200
    assert client.get(reverse("statistics-releases")).status_code == 200


# --- releases -------------------------------------------------------------------------------

def publish(client, **fields):
    data = {"table_set": "eurostat", "period": "2025", "threshold": "5", "rounding": "0",
            "epsilon": "", "confirm": "on"}
    data.update(fields)
    return client.post(reverse("statistics-releases"), data)


def test_publishing_a_release_lists_it(analyst_client, analyst_user):
    response = publish(analyst_client, rounding="5")
    release = Release.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("statistics-release", args=[release.pk])
    assert release.controls == {"threshold": 5, "rounding": 5, "epsilon": None}
    assert release.published_by == analyst_user
    detail = text_of(analyst_client.get(response["Location"]))
    assert "Release published." in detail
    assert "Registered victims by sex and age group" in detail
    assert "Counts are rounded to the nearest multiple of 5" in detail
    page = text_of(analyst_client.get(reverse("statistics-releases")))
    assert "Eurostat: trafficking in human beings, 2025" in page
    assert "threshold 5; rounded to 5; no noise" in page
    assert analyst_user.username in page


def test_a_release_page_checks_the_release(analyst_client, release):
    url = reverse("statistics-release", args=[release.pk])
    page = text_of(analyst_client.get(url))
    assert "Check the release" in page and "Check passed" not in page
    rows = release.inputs["rows"]["cases"]
    assert rows >= 5
    assert f'<th scope="row">Cases</th><td class="num">{rows}</td>' in page
    checked = text_of(analyst_client.get(url + "?check=1"))
    assert "Check passed:" in checked
    assert "Recorded input: unchanged" in checked
    partial = analyst_client.get(url + "?check=1", headers={"HX-Request": "true",
                                                           "HX-Target": "release-check"})
    assert "<html" not in text_of(partial) and "Check passed:" in text_of(partial)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_release_downloads_are_audited(analyst_client, release, fmt):
    response = analyst_client.get(reverse("statistics-release-download",
                                          args=[release.pk, fmt]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(CONTENT_TYPES[fmt])
    assert response["Content-Disposition"] == \
        f'attachment; filename="release-{release.pk}-eurostat-2025.{fmt}"'
    entry = AuditEntry.objects.filter(object_type="statistics_release").latest("sequence")
    assert (entry.action, entry.object_ref, entry.reason) == ("export", str(release.pk), fmt)


def test_a_release_spends_privacy_budget_and_is_refused_beyond_it(analyst_client):
    assert publish(analyst_client, epsilon="0.6").status_code == 302
    assert PrivacyBudgetSpend.objects.get().epsilon == pytest.approx(0.6)
    page = text_of(analyst_client.get(reverse("statistics-releases")))
    assert "0.6" in page and "0.4" in page  # spent, and left of the budget of 1

    response = publish(analyst_client, epsilon="0,5", period="2025-Q3", threshold="7",
                       rounding="10")
    assert response.status_code == 200
    html = text_of(response)
    assert "The privacy budget would be exceeded" in html
    assert "ε = 0.6 is already spent" in html and "more than the budget of 1." in html
    assert 'href="#id_epsilon"' in html and 'id="id_epsilon_error"' in html
    # Nothing typed is lost.
    assert 'value="0,5"' in html and 'value="2025-Q3"' in html and 'value="7"' in html
    assert re.search(r'<option value="10" selected>', html)
    assert 'name="confirm" checked' in html or re.search(r'checked[^>]*name="confirm"', html) \
        or re.search(r'name="confirm"[^>]*checked', html)
    assert Release.objects.count() == 1
    assert PrivacyBudgetSpend.objects.count() == 1


def test_a_table_set_without_person_counts_cannot_take_noise(analyst_client):
    response = publish(analyst_client, table_set="sdg", epsilon="0.5")
    html = text_of(response)
    assert "No table of this set can take differential privacy." in html
    assert 'id="id_epsilon_error"' in html
    assert not Release.objects.exists() and not PrivacyBudgetSpend.objects.exists()


def test_a_release_needs_the_confirmation_and_a_valid_input(analyst_client):
    html = text_of(publish(analyst_client, confirm="", period="2025-99", threshold="0",
                           epsilon="-1"))
    assert "Tick the box to confirm that the release cannot be changed." in html
    assert 'href="#id_period"' in html and 'href="#id_threshold"' in html
    assert 'href="#id_epsilon"' in html and 'href="#id_confirm"' in html
    assert not Release.objects.exists()


# --- no identity ----------------------------------------------------------------------------

IDENTITY = {
    "given_name": "Zinovia",
    "family_name": "Quarterbridge",
    # Each person's telephone is this and one digit more: a real Moldovan mobile number.
    "phone": "+3736099988",
    "document": "ZX9876543",
    "address": "str. Dimitrie Cantemir 77",
    "notes": "Recruited through an advert for waitresses.",
}


# What must never be shown: the identities above, and those of the hand-made dataset.
NEEDLES = [IDENTITY["given_name"], IDENTITY["family_name"], IDENTITY["phone"][1:],
           IDENTITY["document"], "Cantemir", "waitresses",
           "Bogdana", "Kovalenko", "Costel", "Ionescu", "AB1234567", "69123456"]


@pytest.fixture
def identities(dataset):
    worker = dataset["ngo_worker"]
    for index in range(6):
        services.register_case(worker, person_data(
            given_name=f"{IDENTITY['given_name']}{index}",
            family_name=IDENTITY["family_name"],
            phone=f"{IDENTITY['phone']}{index}",
            address=IDENTITY["address"],
            identity_documents=[{"document_type": "passport",
                                 "number": f"{IDENTITY['document']}{index}",
                                 "country": "MD"}],
            notes=IDENTITY["notes"],
            first_contact_on=date(2025, 7, index + 1),
            birth_date=date(1999, 5, 5), gender="female", labour_sector="",
        ))
    return IDENTITY


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True,
                          check=True).stdout.decode("utf-8")


def xlsx_text(content: bytes) -> str:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    values = []
    for sheet in workbook.worksheets:
        values.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            values.extend(str(value) for value in row if value is not None)
    return "\n".join(values)


def readable(response) -> str:
    kind = response["Content-Type"]
    if kind.startswith("application/pdf"):
        return pdf_text(response.content)
    if kind.startswith(CONTENT_TYPES["xlsx"]):
        return xlsx_text(response.content)
    return response.content.decode("utf-8-sig")


def test_no_identity_reaches_any_statistics_page_or_download(analyst_client, identities):
    publish(analyst_client)
    publish(analyst_client, table_set="glotip", epsilon="0.5")
    responses = {}
    for key in table_set_keys():
        responses[f"page {key}"] = analyst_client.get(statistics_url(period="2025",
                                                                     table_set=key))
        for fmt in ("csv", "xlsx"):
            responses[f"{fmt} {key}"] = analyst_client.get(
                download_url(fmt, period="2025", table_set=key))
    # Every table set's PDF is a chapter of the annual report (see the test below).
    responses["pdf eurostat"] = analyst_client.get(download_url("pdf", period="2025",
                                                                table_set="eurostat"))
    responses["releases"] = analyst_client.get(reverse("statistics-releases"))
    for release in Release.objects.all():
        url = reverse("statistics-release", args=[release.pk])
        responses[f"release {release.pk}"] = analyst_client.get(url + "?check=1")
        for fmt in ("csv", "xlsx", "pdf"):
            responses[f"release {release.pk} {fmt}"] = analyst_client.get(
                reverse("statistics-release-download", args=[release.pk, fmt]))
    assert len(responses) == 5 * 3 + 2 + 2 * 4
    assert_no_identity(responses)
    # The new persons are counted (11 victims in 2025): the data did reach the tables.
    assert "11" in cells_of(text_of(responses["page eurostat"]))


def assert_no_identity(responses: dict) -> None:
    for name, response in responses.items():
        assert response.status_code == 200, name
        text = readable(response)
        assert len(text) > 200, name
        found = [needle for needle in NEEDLES if needle.lower() in text.lower()]
        assert found == [], f"{name} shows {found}"


def test_the_annual_report_holds_every_table_set_and_no_identity(analyst_client, identities):
    response = analyst_client.get(download_url("pdf", period="2025", table_set="all"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="statistics-2025.pdf"'
    text = pdf_text(response.content)
    for title in ("Registered victims by sex and age group", "Detected victims by sex and age",
                  "Victims per 100,000 population", "Cases closed by reason",
                  "Victims by age and gender"):
        assert title in text
    assert AuditEntry.objects.get(object_type="statistics").object_ref == "all 2025"
    assert_no_identity({"annual report": response})


def test_the_pages_work_in_romanian(analyst_client, release):
    from django.conf import settings

    analyst_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ro"
    for url in (statistics_url(period="2025", table_set="nrm"),
                statistics_url(period="2025-13"), reverse("statistics-releases"),
                reverse("statistics-release", args=[release.pk]) + "?check=1"):
        response = analyst_client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="ro">' in text_of(response)
    assert publish(analyst_client, epsilon="0,6").status_code == 302
    html = text_of(publish(analyst_client, epsilon="0,5"))
    assert "0,6" in html and "1,1" in html  # ε in Romanian notation
    assert Release.objects.count() == 2


def test_the_publish_form_starts_from_the_tables_on_the_page(analyst_client):
    html = text_of(analyst_client.get(reverse("statistics-releases"),
                                      {"period": "2025-Q2", "table_set": "glotip"}))
    assert 'value="2025-Q2"' in html
    assert re.search(r'<option value="glotip" selected>', html)
    assert "No release has been published yet." in html
