"""Pages that show personal data keep it out of caches, titles and URLs.

A shared computer's disk cache, back button, browser history and window list, a proxy's
log and the Referer header must never carry a trafficked person's name or birth date.
"""

from html.parser import HTMLParser
from urllib.parse import quote, quote_plus

import pytest

from opennrm.cases import services
from tests.factories import person_data
from tests.helpers import as_user

GIVEN_NAME = "Elena"
FAMILY_NAME = "Popescu"
BIRTH_DATE = "1998-04-12"
# The birth date as the pages of the four languages might print it.
BIRTH_DATE_FORMS = (BIRTH_DATE, "12.04.1998", "04/12/1998", "12/04/1998", "12.04.98",
                    "04/12/98", "April 12, 1998", "Apr. 12, 1998")
UNSAFE_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'")
RESTRICTIVE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin",
                                 "strict-origin-when-cross-origin"}


class _PageParts(HTMLParser):
    """The <title> text and every attribute that holds a URL or an HTMX request."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.titles: list[str] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
            self.titles.append("")
        for name, value in attrs:
            if value is None:
                continue
            if name in {"href", "action", "src", "formaction"} or name.startswith("hx-") \
                    or name.startswith("data-hx-"):
                self.urls.append((tag, name, value))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles[-1] += data


def _parts(response) -> _PageParts:
    parser = _PageParts()
    parser.feed(response.content.decode())
    return parser


def _name_spellings() -> set[str]:
    spellings = set()
    for text in (GIVEN_NAME, FAMILY_NAME, f"{GIVEN_NAME} {FAMILY_NAME}"):
        spellings |= {text, quote(text), quote_plus(text)}
    return {spelling.lower() for spelling in spellings}


def _csp_directives(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = [word.lower() for word in words[1:]]
    return directives


def assert_private(response, page: str) -> None:
    """Every check of this module on one response."""
    assert response.status_code == 200, f"{page}: status {response.status_code}"

    cache_control = response.get("Cache-Control", "")
    assert "no-store" in [part.strip() for part in cache_control.split(",")], \
        f"{page}: Cache-Control is {cache_control!r}, not no-store"

    directives = _csp_directives(response)
    assert "default-src" in directives, f"{page}: CSP has no default-src: {directives}"
    for directive in ("default-src", "script-src", "style-src"):
        unsafe = [source for source in directives.get(directive, [])
                  if source in UNSAFE_SOURCES]
        assert not unsafe, f"{page}: CSP {directive} allows {unsafe}"

    assert response.get("X-Content-Type-Options") == "nosniff", \
        f"{page}: X-Content-Type-Options is {response.get('X-Content-Type-Options')!r}"
    framing_denied = (response.get("X-Frame-Options", "").upper() == "DENY"
                      or directives.get("frame-ancestors") == ["'none'"])
    assert framing_denied, f"{page}: the page may be framed"
    referrer_policy = response.get("Referrer-Policy", "")
    policies = {part.strip().lower() for part in referrer_policy.split(",") if part.strip()}
    assert policies and policies <= RESTRICTIVE_REFERRER_POLICIES, \
        f"{page}: Referrer-Policy is {referrer_policy!r}"

    parts = _parts(response)
    if "<html" in response.content.decode():
        assert parts.titles, f"{page}: a full page without a <title>"
    for title in parts.titles:
        lowered = title.lower()
        leaked = [value for value in (GIVEN_NAME, FAMILY_NAME, *BIRTH_DATE_FORMS)
                  if value.lower() in lowered]
        assert not leaked, f"{page}: the title {title!r} shows {leaked}"
    spellings = _name_spellings()
    for tag, attribute, value in parts.urls:
        lowered = value.lower()
        leaked = [spelling for spelling in spellings if spelling in lowered]
        leaked += [date for date in BIRTH_DATE_FORMS if quote(date).lower() in lowered
                   or date.lower() in lowered]
        assert not leaked, f"{page}: <{tag} {attribute}={value!r}> holds {leaked}"


def _detail(case) -> str:
    return f"/cases/{case.case_number}/"


@pytest.fixture
def signed_in(client, caseworker):
    return as_user(client, caseworker)


def test_the_home_page(signed_in, case):
    assert_private(signed_in.get("/"), "home")


def test_the_case_list(signed_in, case):
    assert_private(signed_in.get("/cases/"), "case list")


def test_the_case_list_filtered_by_number(signed_in, case):
    assert_private(signed_in.get("/cases/", {"q": case.case_number}), "case list filtered")


def test_the_case_list_results_for_htmx(signed_in, case):
    response = signed_in.get("/cases/", {"q": case.case_number}, HTTP_HX_REQUEST="true",
                             HTTP_HX_TARGET="case-results")
    assert_private(response, "case list results (HTMX)")


def test_the_case_list_after_a_name_search(signed_in, case):
    response = signed_in.post("/cases/", {"given_name": GIVEN_NAME,
                                          "family_name": FAMILY_NAME,
                                          "birth_date": BIRTH_DATE})
    assert case.case_number in response.content.decode(), "the search found nothing"
    assert_private(response, "case list after a name search")


def test_the_case_page(signed_in, case):
    assert_private(signed_in.get(_detail(case)), "case page")


def test_the_case_page_after_showing_the_identity(signed_in, case):
    response = signed_in.post(f"{_detail(case)}identity/")
    assert f"{GIVEN_NAME} {FAMILY_NAME}" in response.content.decode()
    assert_private(response, "case page with the identity shown")


def test_the_identity_panel_for_htmx(signed_in, case):
    response = signed_in.post(f"{_detail(case)}identity/", HTTP_HX_REQUEST="true",
                              HTTP_HX_TARGET="identity")
    assert f"{GIVEN_NAME} {FAMILY_NAME}" in response.content.decode()
    assert_private(response, "identity panel (HTMX)")


def test_the_edit_form(signed_in, case):
    response = signed_in.get(f"{_detail(case)}edit/")
    assert FAMILY_NAME in response.content.decode(), "the edit form shows no identity"
    assert_private(response, "case edit form")


def test_the_edit_form_with_an_error(signed_in, case):
    response = signed_in.post(f"{_detail(case)}edit/", {
        "given_name": GIVEN_NAME, "family_name": FAMILY_NAME, "birth_date": "2999-01-01",
        "gender": "female", "first_contact_on": "2026-03-02"})
    assert_private(response, "case edit form with an error")


def test_the_register_form(signed_in):
    assert_private(signed_in.get("/cases/new/"), "register form")


def test_the_register_form_with_an_error_keeps_the_name_out_of_urls(signed_in):
    # Missing date of first contact: the form comes back with the name typed in.
    response = signed_in.post("/cases/new/", {
        "given_name": GIVEN_NAME, "family_name": FAMILY_NAME, "birth_date": BIRTH_DATE,
        "gender": "female"})
    assert "There is a problem" in response.content.decode()
    assert_private(response, "register form with an error")


def test_registering_redirects_to_a_url_without_the_name(signed_in):
    response = signed_in.post("/cases/new/", {
        "given_name": GIVEN_NAME, "family_name": FAMILY_NAME, "birth_date": BIRTH_DATE,
        "gender": "female", "first_contact_on": "2026-03-02"})
    assert response.status_code == 302
    location = response["Location"].lower()
    assert not [spelling for spelling in _name_spellings() if spelling in location]
    assert BIRTH_DATE not in location
    assert "no-store" in response.get("Cache-Control", "")


def test_the_consent_form(signed_in, case):
    assert_private(signed_in.get(f"{_detail(case)}consents/new/"), "consent form")


def test_the_audit_trail_for_the_auditor(client, auditor, caseworker, case):
    services.reveal_identity(caseworker, case.case_number, channel="web")
    as_user(client, auditor)
    assert_private(client.get("/audit/"), "audit trail")
    assert_private(client.get("/audit/", {"case_number": case.case_number}),
                   "audit trail of a case")


def test_the_user_admin_for_the_administrator(client, administrator, caseworker):
    as_user(client, administrator)
    assert_private(client.get("/manage/users/"), "user list")
    assert_private(client.get(f"/manage/users/{caseworker.pk}/"), "user page")


def test_a_person_with_a_cyrillic_name_stays_out_of_urls(signed_in, caseworker):
    # Percent-encoded UTF-8 would be a different spelling of the same leak.
    case = services.register_case(caseworker, person_data(given_name="Олена",
                                                          family_name="Коваленко"))
    response = signed_in.post("/cases/", {"given_name": "Олена", "family_name": "Коваленко",
                                          "birth_date": BIRTH_DATE})
    assert case.case_number in response.content.decode()
    parts = _parts(response)
    for _tag, _attribute, value in parts.urls:
        for name in ("Олена", "Коваленко"):
            assert name not in value and quote(name) not in value
    assert not any("Коваленко" in title for title in parts.titles)


def test_the_security_guide_names_the_referrer_policy_that_is_sent(client, db, settings):
    """docs/security.md said "no referrer" while `same-origin` was sent (defect 12)."""
    from pathlib import Path

    sent = client.get("/login/")["Referrer-Policy"]
    assert sent == settings.SECURE_REFERRER_POLICY == "same-origin"
    guide = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    assert f"`Referrer-Policy: {sent}`" in guide
    assert "no referrer |" not in guide
