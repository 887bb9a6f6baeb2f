"""Printing personal data to PDF (the case summary, the referral letter): WeasyPrint on a
self-contained HTML document that may fetch nothing, tagged for screen readers, and who
printed it, as each printed page says.

WeasyPrint is imported when a document is printed, not with this module: the services that
print are loaded by every process at start-up (each CLI command, each server worker), and
WeasyPrint's import was a third of that start-up."""


def nothing_fetcher():
    """A URL fetcher that refuses every URL: a printed document of a person is
    self-contained and must not reach anywhere while it is rendered."""
    from weasyprint.urls import URLFetcher

    class NothingFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols=[], fail_on_errors=False)

        def fetch(self, url, headers=None):
            raise ValueError(f"a printed document may not fetch {url!r}")

    return NothingFetcher()


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, base_url="data:,", url_fetcher=nothing_fetcher())
    # Tagged, so that screen readers can follow headings and tables.
    return document.write_pdf(pdf_tags=True)


def printed_by(user) -> str:
    """The user who printed, as the page says: their name and agency."""
    name = user.get_full_name() or user.username
    return f"{name} ({user.agency.name})" if user.agency_id else name
