"""Linkage across three real nodes (gunicorn and `opennrm trm worker` each, own database and
key ring): Moldova hosts a round with Ukraine and Romania. Each node holds its share of one
generated register (some persons in two or three countries, names in Latin and Cyrillic
spellings), seeded with `crossborder_seed_test_persons`. The nodes' coordinators join, the
encodings travel to Moldova, the groups come back, and each node's "also known in country X"
marks are compared with the generated truth. Every linkage payload each node sent is read
back from its outbox: no name and no birth date in any of them."""

import json
import re
import textwrap
import uuid

import pytest

from opennrm.linkage.crossborder.services import MESSAGE_TYPES
from opennrm.linkage.crossborder.testdata import known_elsewhere, network_register
from tests.transnational.nodes import Node, three_nodes, wait_for

pytestmark = pytest.mark.nodes

PERSONS = 600  # generated for the network: about 280 records a node
SEED = 19
COUNTRIES = ("MD", "UA", "RO")
SECRET = "the phrase the three coordinators agreed in Chisinau"
TYPES = ",".join(("ping", "pong", *MESSAGE_TYPES))


def setup(country: str, home) -> str:
    """Each node: its coordinator, the agreement with the two others, its persons."""
    return textwrap.dedent(f"""
        from django.core.management import call_command
        from opennrm.accounts.models import Agency, User
        from opennrm.linkage.crossborder import services
        from opennrm.transnational.models import Partner
        agency = Agency.objects.create(code="{country}-NC", name="{country}-NC",
                                       agency_type="ngo", country="{country}")
        User.objects.create_user(username="{country.lower()}-nc", password="x" * 20,
                                 role="national_coordinator", agency=agency)
        services.create_agreement(None, "MD-UA-RO", Partner.objects.all(), {SECRET!r})
        call_command("crossborder_seed_test_persons", country="{country}",
                     countries="{','.join(COUNTRIES)}", persons={PERSONS}, seed={SEED},
                     truth="{home}/truth.json")
    """)


def shell(node: Node, code: str) -> str:
    return node.opennrm("manage", "shell", "-c", textwrap.dedent(code)).stdout


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    home = tmp_path_factory.mktemp("linkage-three")
    homes = {country: home / country.lower() for country in COUNTRIES}
    with three_nodes(home, TYPES, setup=tuple(setup(country, homes[country])
                                              for country in COUNTRIES)) as nodes:
        yield dict(zip(COUNTRIES, nodes, strict=True))


def round_state(node: Node, round_id: str) -> str | None:
    out = shell(node, f"""
        from opennrm.linkage.crossborder.models import LinkageRound
        r = LinkageRound.objects.filter(round_id="{round_id}").first()
        print("STATE", r.state if r else "-")
    """)
    state = next(line for line in out.splitlines() if line.startswith("STATE")).split()[1]
    return None if state == "-" else state


def marks(node: Node) -> set[tuple[str, str]]:
    """(person global id, country) of every "also known in" mark in the node's database."""
    return {(str(uuid.UUID(str(global_id))), country) for global_id, country in node.sql(
        "SELECT p.global_id, m.country FROM crossborder_presenceabroad m "
        "JOIN cases_person p ON p.id = m.person_id")}


def sent_payloads(node: Node) -> list[dict]:
    """The payloads of the linkage messages the node queued, read back from its outbox."""
    out = shell(node, f"""
        import base64, json
        from opennrm.transnational.models import OutboxMessage
        for m in OutboxMessage.objects.filter(message_type__in={list(MESSAGE_TYPES)!r}):
            part = m.signed.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            print("PAYLOAD" + json.dumps({{"type": m.message_type,
                                           "payload": claims["payload"]}}))
    """)
    return [json.loads(line[7:]) for line in out.splitlines() if line.startswith("PAYLOAD")]


TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def without_opaque_values(payloads: list[dict]) -> list[dict]:
    """The payloads with their random values blanked (the filters' base64, the record tokens,
    the group ids), once checked to be only that: a letter run inside random characters must
    not pass for a name."""
    for item in payloads:
        payload = item["payload"]
        encodings = payload.get("encodings")
        if encodings:
            assert all(TOKEN.fullmatch(token) for token in encodings["record_ids"])
            encodings["filters"], encodings["record_ids"] = "", []
        for entry in payload.get("groups", []):
            assert TOKEN.fullmatch(entry["record"]) and re.fullmatch(r"[0-9a-f]{24}",
                                                                     entry["group"])
            entry["record"] = entry["group"] = ""
    return payloads


def test_three_nodes_learn_who_is_also_known_elsewhere(network):
    md, ua, ro = network["MD"], network["UA"], network["RO"]
    out = shell(md, """
        from opennrm.linkage.crossborder import services
        from opennrm.linkage.crossborder.models import LinkageAgreement
        r = services.open_round(None, LinkageAgreement.objects.get(name="MD-UA-RO"), [],
                                background=False)
        print("ROUND", r.round_id)
    """)
    round_id = next(line for line in out.splitlines() if line.startswith("ROUND")).split()[1]
    for node in (ua, ro):
        wait_for(lambda node=node: round_state(node, round_id) == "invited", timeout=120)
        shell(node, f"""
            from opennrm.accounts.models import User
            from opennrm.linkage.crossborder import services
            from opennrm.linkage.crossborder.models import LinkageRound
            services.join_round(User.objects.get(role="national_coordinator"),
                                LinkageRound.objects.get(round_id="{round_id}"),
                                background=False)
        """)
    for node in (md, ua, ro):
        wait_for(lambda node=node: round_state(node, round_id) == "linked", timeout=300)

    spread = network_register(PERSONS, SEED, COUNTRIES)
    truth = known_elsewhere(spread)
    found = expected = hits = 0
    for country, node in network.items():
        person_of = json.loads((node.home / "truth.json").read_text(encoding="utf-8"))
        marked = {(person_of[global_id], other) for global_id, other in marks(node)}
        wanted = {(person, other) for person, others in truth[country].items()
                  for other in others}
        found, expected, hits = (found + len(marked), expected + len(wanted),
                                 hits + len(marked & wanted))
        print(f"{country}: {len(spread[country])} persons, {len(wanted)} marks expected, "
              f"{len(marked)} made, {len(marked & wanted)} right")
    precision, recall = hits / found, hits / expected
    print(f"precision {precision:.3f}, recall {recall:.3f} over {expected} true marks")
    assert precision >= 0.9 and recall >= 0.9

    # No name, birth date or secret in any payload a node sent (its outbox, read back).
    for country, node in network.items():
        payloads = sent_payloads(node)
        assert {item["type"] for item in payloads} >= (
            {"linkage_round_opened", "linkage_groups"} if country == "MD"
            else {"linkage_encodings"})
        text = json.dumps(without_opaque_values(payloads), ensure_ascii=False).lower()
        words = set(re.findall(r"[^\W\d_]{3,}", text))
        names = {part.lower() for row in spread[country]
                 for part in re.findall(r"[^\W\d_]{3,}", row["given_name"] + " "
                                        + row["family_name"])}
        assert not words & names, words & names
        dates = {row["birth_date"] for row in spread[country] if len(row["birth_date"]) == 10}
        assert not any(date in text for date in dates)
        assert SECRET.lower() not in text
