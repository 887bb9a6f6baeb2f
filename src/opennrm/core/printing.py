"""Printing personal data to PDF (the case summary, the referral letter): WeasyPrint on a
self-contained HTML document that may fetch nothing, tagged for screen readers, and who
printed it, as each printed page says.

WeasyPrint is imported when a document is printed, not with this module: the services that
print are loaded by every process at start-up (each CLI command, each server worker), and
WeasyPrint's import was a third of that start-up."""


def url_fetcher(*allowed_schemes: str):
    """A WeasyPrint URL fetcher that refuses every URL but those of `allowed_schemes` (none
    by default): a printed document is self-contained and must not reach anywhere, or leak
    to any server, while it is rendered."""
    from weasyprint.urls import URLFetcher

    class RestrictedFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols=list(allowed_schemes), fail_on_errors=False)

        def fetch(self, url, headers=None):
            if url.split(":", 1)[0].lower() not in allowed_schemes:
                raise ValueError(f"a printed document may not fetch {url!r}")
            return super().fetch(url, headers)

    return RestrictedFetcher()


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, base_url="data:,", url_fetcher=url_fetcher())
    # Tagged, so that screen readers can follow headings and tables.
    return document.write_pdf(pdf_tags=True)


def printed_by(user) -> str:
    """The user who printed, as the page says: their name and agency."""
    name = user.get_full_name() or user.username
    return f"{name} ({user.agency.name})" if user.agency_id else name
