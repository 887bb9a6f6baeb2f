"""Screenshots of the home, case list and case pages in English and Ukrainian, for docs/.

Run against a node started with `make run` (demo data):

    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000

Uses Debian's chromium through Playwright; writes docs/screenshots/<page>-<language>.png.
The demo holds synthetic people only; identity is shown on the case page to show the panel.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
LOGIN = ("ngo-caseworker", "demo-caseworker-2026!")
LANGUAGES = ("en", "uk", "ro")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    base = parser.parse_args().url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=parser.parse_args().chromium,
                                             args=["--headless", "--no-sandbox"])
        for language in LANGUAGES:
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          locale=language)
            context.add_cookies([{"name": "django_language", "value": language,
                                  "url": base}])
            page = context.new_page()
            page.goto(f"{base}/login/")
            page.fill("#id_username", LOGIN[0])
            page.fill("#id_password", LOGIN[1])
            page.locator("form[action='/login/'] button[type=submit]").click()
            page.wait_for_load_state()
            page.screenshot(path=str(OUT / f"home-{language}.png"))
            page.goto(f"{base}/cases/?status=open&sort=-first_contact")
            page.screenshot(path=str(OUT / f"list-{language}.png"))
            page.locator("table.cases tbody a").first.click()
            page.wait_for_load_state()
            page.locator("#identity button[type=submit]").click()
            page.wait_for_selector("#identity [autofocus], #identity dd:not(:has(.mask))")
            page.screenshot(path=str(OUT / f"case-{language}.png"), full_page=True)
            context.close()
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
