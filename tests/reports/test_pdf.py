import re
import struct
import subprocess
from datetime import date

import pytest
from weasyprint import HTML

from opennrm.core.printing import url_fetcher
from opennrm.reports.pdf import render_pdf, render_pdf_page_png

from .conftest import eurostat_result, nrm_result

TITLE = "Trafficking in human beings: statistical report 2025"


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True, timeout=60)
    return done.stdout.decode("utf-8")


def pages(text: str) -> list[str]:
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.fixture(scope="module")
def english_pdf():
    return render_pdf([eurostat_result(), nrm_result()], title=TITLE,
                      country_name="Republic of Moldova", published_on=date(2026, 3, 16))


@pytest.fixture(scope="module")
def english_text(english_pdf):
    return pdf_text(english_pdf)


def test_pdf_is_a_report_of_several_pages(english_pdf, english_text):
    assert english_pdf.startswith(b"%PDF-")
    assert len(pages(english_text)) > 1


def test_cover_names_the_report_country_period_and_status(english_text):
    cover = pages(english_text)[0]
    assert "Trafficking in human beings:" in cover and "statistical report 2025" in cover
    assert "Republic of Moldova" in cover
    assert "Period: 2025" in cover
    assert "Official statistics — disclosure controlled" in cover
    assert "Published on 16 March 2026" in cover


def test_contents_lists_each_table_with_its_page(english_text):
    contents = pages(english_text)[1]
    for title in ("Eurostat: trafficking in human beings", "NRM monitoring indicators",
                  "Registered victims by sex and age group",
                  "Days from first contact to the first referral",
                  "Methods and disclosure control"):
        assert title in contents
    found = re.search(r"Registered victims by sex and age group\s*\.+\s*(\d+)", contents)
    page = int(found.group(1))
    assert "Table 1.1 Registered victims by sex and age group" in \
        re.sub(r"\s+", " ", pages(english_text)[page - 1])


def test_tables_show_published_figures_symbols_and_their_explanation(english_text):
    text = re.sub(r"[ \t]+", " ", english_text)
    for result in (eurostat_result(), nrm_result()):
        for table in result.tables:
            assert table.title in text
    assert re.search(r"Female x x 1,085 1,105", text)
    assert re.search(r"Male <5 x 407 417", text)
    assert re.search(r"Total 9 21 1,492 1,522", text)
    prose = re.sub(r"\s+", " ", text)
    assert "<5 a count below the threshold of 5; not published for confidentiality" in prose
    assert "x withheld so that a suppressed figure cannot be worked out from the totals" in prose
    # An indicator resting on too few persons is "x", never "<5" (it is not a count).
    assert re.search(r"Children x x x", text)
    assert re.search(r"Adults 6.5 23.0 212", text)
    assert "The categories overlap" in prose
    assert "A person is counted once, under the age at first contact." in prose


def test_page_footer_numbers_the_pages(english_text):
    all_pages = pages(english_text)
    assert f"2/{len(all_pages)}" in re.sub(r"\s", "", all_pages[1])
    assert "/" not in pages(english_text)[0].split("Published on")[-1]  # no footer on cover


def test_methods_list_the_disclosure_controls_of_each_table_set(english_text):
    methods = re.sub(r"\s+", " ", pages(english_text)[-1])
    assert "Methods and disclosure control" in methods
    assert "Threshold for small counts 5" in methods
    assert "Secondary suppression Applied" in methods
    assert "Rounding base 5" in methods
    assert "Privacy budget spent (ε) 0.5" in methods
    assert "spending a privacy budget of ε = 0.5" in methods


def test_report_in_romanian_uses_romanian_dates_numbers_and_headings():
    # Only what the catalogues and Django's locale data already hold is checked here: the
    # report's own new strings are translated when their catalogue entries are merged.
    text = pdf_text(render_pdf([eurostat_result(), nrm_result()], title="Raport statistic 2025",
                               country_name="Republica Moldova", language="ro",
                               published_on=date(2026, 3, 16)))
    text = re.sub(r"[ \t]+", " ", text)
    assert "Raport statistic 2025" in text and "Republica Moldova" in text
    assert "16 martie 2026" in text.lower()
    assert "Perioada: 2025" in text  # "Period"
    assert re.search(r"Female x x 1\.085 1\.105", text)  # thousands with a dot
    assert re.search(r"Adults 6,5 23,0 212", text)  # decimal comma


def test_report_does_not_fetch_anything_but_data_uris():
    fetcher = url_fetcher("data")
    for url in ("https://example.org/logo.png", "file:///etc/passwd", "http://10.0.0.1/x.css"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    # A document pointing elsewhere still renders, without the outside resource.
    html = '<img src="file:///etc/hostname"><link rel="stylesheet" href="https://x.invalid/s.css">'
    assert HTML(string=html, url_fetcher=fetcher).write_pdf().startswith(b"%PDF-")


def test_page_renders_to_png_for_the_documentation(english_pdf):
    png = render_pdf_page_png(english_pdf, page=3, dpi=50)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    # A4 (210 by 297 mm) at 50 dots per inch
    assert abs(width - 413) <= 1 and abs(height - 585) <= 1
