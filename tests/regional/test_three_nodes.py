"""Three real nodes (gunicorn and `opennrm trm worker` each, own database and key ring):
Moldova, Ukraine (on PostgreSQL when a server is reachable) and Romania. Each holds its share
of one generated population (some persons registered in two or three countries), with the
"also known in" marks written directly by `regional_seed_test_data` (a linkage round's own
precision is tested in tests/linkage/crossborder/). Each node's coordinator publishes its 2025
release and sends it to the two others over the channel; each node's regional view must then
give the sum of the national totals minus the persons linked across countries, as an
independent count of the generated persons says. What each node sent is read back from its
outbox: aggregates only, nothing below the threshold."""

import base64
import json
import textwrap

import pytest

from tests.transnational.nodes import Node, three_nodes, wait_for

pytestmark = pytest.mark.nodes

PERSONS = 300
SEED = 23
COUNTRIES = ("MD", "UA", "RO")
TYPES = "ping,pong,statistics_release"


def setup(country: str, home) -> str:
    return textwrap.dedent(f"""
        from django.core.management import call_command
        from opennrm.accounts.models import Agency, User
        agency = Agency.objects.create(code="{country}-NC", name="{country}-NC",
                                       agency_type="ngo", country="{country}")
        User.objects.create_user(username="{country.lower()}-nc", password="x" * 20,
                                 role="national_coordinator", agency=agency)
        call_command("regional_seed_test_data", country="{country}",
                     countries="{','.join(COUNTRIES)}", persons={PERSONS}, seed={SEED},
                     period="2025", truth="{home}/truth.json")
    """)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    home = tmp_path_factory.mktemp("regional-three")
    homes = {country: home / country.lower() for country in COUNTRIES}
    for folder in homes.values():
        folder.mkdir(parents=True, exist_ok=True)
    with three_nodes(home, TYPES, setup=tuple(setup(country, homes[country])
                                              for country in COUNTRIES)) as nodes:
        yield dict(zip(COUNTRIES, nodes, strict=True))


def summary(node: Node) -> dict:
    out = node.opennrm("manage", "regional_summary", "--table-set", "eurostat",
                       "--period", "2025").stdout
    return json.loads(out.strip().splitlines()[-1])


def received(node: Node) -> int:
    return node.sql("SELECT count(*) FROM regional_receivedrelease")[0][0]


def sent_payloads(node: Node) -> list[str]:
    """The signed payloads of the releases the node queued (its outbox keeps the JWS
    encrypted at rest: read through the node's own shell)."""
    out = node.opennrm("manage", "shell", "-c", textwrap.dedent("""
        from opennrm.transnational.models import OutboxMessage
        for m in OutboxMessage.objects.filter(message_type="statistics_release"):
            print("JWS " + m.signed)
    """)).stdout
    payloads = []
    for line in out.splitlines():
        if line.startswith("JWS "):
            part = line[4:].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            payloads.append(claims["payload"])
    return payloads


def test_three_nodes_exchange_releases_and_count_each_person_once(network):
    truth = json.loads((network["MD"].home / "truth.json").read_text())
    for country, node in network.items():
        others = ",".join(c for c in COUNTRIES if c != country)
        out = node.opennrm("manage", "regional_send_release", "--as", f"{country.lower()}-nc",
                           "--table-set", "eurostat", "--period", "2025",
                           "--partners", others).stdout
        assert "sent to" in out
    for node in network.values():
        wait_for(lambda node=node: received(node) == 2, timeout=180)

    for node in network.values():
        figures = summary(node)
        assert sorted(figures["countries"]) == sorted(COUNTRIES), figures
        assert figures["apart"] == {}
        assert figures["national"] == truth["national"]
        assert figures["sum"] == truth["sum"]
        assert figures["could_not_be_removed"] == 0
        assert figures["removed"] == truth["duplicates_removed"]
        assert figures["regional"] == truth["regional"] == truth["sum"] - truth[
            "duplicates_removed"]

    for country, node in network.items():
        payloads = sent_payloads(node)
        assert len(payloads) == 2
        for payload in payloads:
            assert payload["country"] == country
            text = json.dumps(payload)
            assert "Test" not in text and f"{country}-RT-" not in text
            counts = [payload["persons"]["total"]] + [c["value"] for c in payload["duplicates"]]
            for table in payload["result"]["tables"]:
                assert table["bases"] is None
                counts += [cell["value"] for row in table["cells"] for cell in row]
                counts += [cell["value"] for cell in [*table["row_totals"],
                                                     *table["column_totals"], table["total"]]]
            assert all(value is None or value == 0 or value >= 5 for value in counts)
