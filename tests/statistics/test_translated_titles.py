"""Statistics in the reader's language: a release's title (published, and stored, in
English) and the column headings of indicator tables (median, percentile, share, rate)."""

import subprocess
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from opennrm.statistics import engine, releases
from opennrm.statistics.models import Release

HALF_YEAR = (date(2025, 1, 1), date(2025, 6, 30))


def _publish(analyst_user) -> Release:
    return releases.publish_release(analyst_user, "eurostat", *HALF_YEAR,
                                    releases.Controls())


def test_a_release_keeps_its_english_title_and_is_titled_in_the_readers_language(
        analyst_user):
    release = _publish(analyst_user)
    assert release.title == "Eurostat: trafficking in human beings, 2025-01-01 – 2025-06-30"
    with translation.override("ro"):
        assert releases.release_title(release) == \
            "Eurostat: traficul de ființe umane, 01.01.2025 – 30.06.2025"
    with translation.override("en"):
        assert releases.release_title(release) == release.title


def test_the_release_pages_show_the_title_in_the_readers_language(client, analyst_user):
    release = _publish(analyst_user)
    client.force_login(analyst_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ro"
    title = "Eurostat: traficul de ființe umane, 01.01.2025 – 30.06.2025"
    for url in (reverse("statistics-releases"),
                reverse("statistics-release", args=[release.pk])):
        html = client.get(url).content.decode()
        assert title in html, url
        assert release.title not in html, url


def test_the_statistic_headings_are_marked_for_translation():
    """makemessages (xgettext) finds them, so the catalogues can translate them."""
    extracted = subprocess.run(
        ["xgettext", "--language=Python", "--keyword=gettext_noop", "--output=-",
         engine.__file__], capture_output=True, text=True, check=True).stdout
    for label in engine.STATISTIC_LABELS.values():
        assert f'msgid "{label}"' in extracted
