"""Benchmark the regional view: 5 nodes' releases of 1,000,000 cases each, already received,
shown side by side with the duplicates removed, as a web page and as the PDF report; and a
node producing and sending its own release.

The received releases are generated at that scale directly: the tables of a real Eurostat
release (published by this process's node from --release-cases seeded cases), every count
scaled so that each country's total is about --cases-per-node, and duplicate counts for
every set of the other countries. They are stored as received (`ReceivedRelease`), as the
channel's handler stores them. Measured, wall time:

* overview: reading the releases and computing the regional tables and totals;
* page, first: the whole page as the regional analyst gets it (charts drawn by vl-convert);
* page, again: the same page, the charts already drawn (they are kept per table and language);
* pdf: the regional PDF report (WeasyPrint, charts as SVG);
* send: `send_release` of --release-cases seeded cases to one partner (publish with the
  linked audit, verify again, count the duplicates, queue the message). For 1,000,000 cases
  the computation itself is the statistics benchmark's (bench_statistics.py, docs/benchmarks.md):
  a release computes the period twice (publication and the audit of what is sent).

Everything runs in this process, on SQLite in a temporary folder (its own key ring).

    .venv/bin/python benchmarks/bench_regional.py --nodes 5 --cases-per-node 1000000
"""

import os
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parents[1]
COUNTRIES = ["MD", "UA", "RO", "BG", "GE", "PL", "HU", "SK"]
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
REPORT: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)
    REPORT.append(text)


def parse_args():
    parser = harness.parser(__doc__)
    parser.add_argument("--nodes", type=harness.positive, default=5,
                        help="countries in view (this node and the partners), at most 8")
    parser.add_argument("--cases-per-node", type=harness.positive, default=1_000_000)
    parser.add_argument("--release-cases", type=harness.positive, default=20_000,
                        help="about this many persons generated for the network; this node "
                             "keeps its share (one case each) for its own release")
    parser.add_argument("--seed", type=int, default=harness.SEED)
    parser.add_argument("--output", type=Path, default=harness.RESULTS / "regional.md")
    return parser.parse_args()


def set_up_django(folder: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "opennrm.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'node.sqlite3'}",
        "OPENNRM_KEYRING": str(folder / "keyring.json"),
        "OPENNRM_VAR_DIR": str(folder / "var"),
        "OPENNRM_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "OPENNRM_DEBUG": "0",
        "OPENNRM_ALLOWED_HOSTS": "testserver",
        "OPENNRM_SSL_REDIRECT": "0",
        "OPENNRM_TRM_DELIVER_ON_COMMIT": "0",
    })
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    from opennrm.core.keyring import KeyRing

    KeyRing.create(folder / "keyring.json")
    call_command("migrate", verbosity=0)


def timed(work):
    began = time.perf_counter()
    value = work()
    return time.perf_counter() - began, value


def scaled(payload: dict, country: str, factor: float, rng) -> dict:
    """A partner's release at scale: every published count multiplied by `factor`, each
    partner's slightly different; duplicate counts for every set of the other countries."""
    import copy

    from opennrm.regional import duplicates

    out = copy.deepcopy(payload)
    wobble = 1 + rng.uniform(-0.1, 0.1)

    def grow(cell: dict) -> None:
        if isinstance(cell.get("value"), int):
            cell["value"] = int(cell["value"] * factor * wobble)

    for table in out["result"]["tables"]:
        if table.get("kind", "count") != "count":
            continue
        for row in table["cells"]:
            for cell in row:
                grow(cell)
        for cell in [*table["row_totals"], *table["column_totals"], table["total"]]:
            grow(cell)
    total = int(out["persons"]["total"] * factor * wobble)
    others = [c for c in COUNTRIES if c != country]
    out.update(country=country, persons={**out["persons"], "total": total}, duplicates=[
        {"countries": sorted(s), "value": max(5, int(total * 0.02 / len(s) ** 2)), "flag": ""}
        for s in duplicates.all_country_sets(others)])
    return out


def main() -> None:
    args = parse_args()
    import random

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="opennrm-bench-regional-") as folder:
        set_up_django(Path(folder))
        from django.test import Client
        from django.utils import timezone

        from opennrm.accounts.models import Agency, Role, User
        from opennrm.regional import services, testdata
        from opennrm.regional.models import ReceivedRelease
        from opennrm.regional.overview import build_overview
        from opennrm.regional.report import regional_report_pdf
        from opennrm.statistics import releases
        from opennrm.transnational import identity
        from opennrm.transnational.models import Partner

        countries = COUNTRIES[:min(args.nodes, len(COUNTRIES))]
        identity.init_node(None, countries[0], "Bench node", "https://bench.example")
        agency = Agency.objects.create(code="BENCH", name="Bench", agency_type="ngo",
                                       country=countries[0])
        coordinator = User.objects.create_user(username="nc", password="x" * 20,
                                               role=Role.NATIONAL_COORDINATOR, agency=agency)
        analyst = User.objects.create_user(username="ra", password="x" * 20,
                                           role=Role.REGIONAL_ANALYST)
        ring_folder = Path(folder) / "partners"
        ring_folder.mkdir()
        from opennrm.core.keyring import KeyRing

        partners = []
        for country in countries[1:] or ["UA"]:
            ring = KeyRing.create(ring_folder / f"{country}.json")
            ring.add_encryption_key()
            partners.append(Partner.objects.create(
                node_id=uuid.uuid4(), country=country, name=f"{country} NRM",
                endpoint=f"https://{country.lower()}.example",
                valid_until=timezone.now() + timedelta(days=365), card={},
                keys=identity.public_jwks(ring), fingerprint="0" * 64,
                allowed_types=["ping", "pong", services.MESSAGE_TYPE]))

        people = testdata.network_persons(args.release_cases, args.seed, countries)
        seeded = testdata.seed_node(countries[0], people, args.seed, *YEAR)
        send_seconds, sending = timed(lambda: services.send_release(
            coordinator, partners[:1], "eurostat", *YEAR, releases.policy_controls()))
        template = sending.sent[0].payload
        factor = args.cases_per_node / max(1, template["persons"]["total"])
        # This node's own release at scale too: the payload it sent, its figures scaled (a
        # queryset update: the model itself refuses to change a release sent).
        from opennrm.regional.models import SentRelease

        own = scaled(template, countries[0], factor, rng)
        SentRelease.objects.filter(pk=sending.sent[0].pk).update(payload=own)
        for partner in partners:
            payload = scaled(template, partner.country, factor, rng)
            ReceivedRelease.objects.create(
                partner=partner, message_id=uuid.uuid4(), country=partner.country,
                table_set="eurostat", period_start=YEAR[0], period_end=YEAR[1],
                definitions_version=payload["definitions_version"],
                published_at=timezone.now(), payload=payload)

        overview_seconds, overview = timed(lambda: build_overview("eurostat", *YEAR))
        client = Client()
        client.force_login(analyst)

        def page():
            response = client.get("/regional/", {"table_set": "eurostat", "period": "2025"})
            assert response.status_code == 200, response.status_code
            return len(response.content)

        first_seconds, size = timed(page)
        again_seconds, _size = timed(page)
        pdf_seconds, pdf = timed(lambda: regional_report_pdf(analyst, "eurostat", *YEAR,
                                                             language="en"))
        dedupe = overview.deduplication
        say("# OpenNRM regional view benchmark")
        say()
        say(f"{len(overview.countries)} countries in view, about {args.cases_per_node:,} cases "
            f"each (sum of national totals {dedupe.sum_of_national_totals:,}, "
            f"{dedupe.removed:,} duplicates removed, regional total "
            f"{dedupe.regional_total:,}); this node's release from {seeded:,} seeded cases.")
        say()
        say("| phase | seconds |")
        say("|---|---:|")
        say(f"| overview (tables and totals) | {overview_seconds:.2f} |")
        say(f"| page, first (charts drawn) | {first_seconds:.2f} |")
        say(f"| page, again | {again_seconds:.2f} |")
        say(f"| pdf ({len(pdf) // 1024} KB) | {pdf_seconds:.2f} |")
        say(f"| send release ({seeded:,} cases) | {send_seconds:.2f} |")
        say()
        say(f"Page size {size // 1024} KB. Python {sys.version.split()[0]}.")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(REPORT) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
