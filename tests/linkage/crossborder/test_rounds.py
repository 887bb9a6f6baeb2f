"""Linkage rounds in one process (services.py, handlers.py): this node (MD, the test key ring)
hosts rounds or takes part in them; partners (UA, RO, key rings of their own) send their
messages signed and sealed as their outbox would, through the real receiving path. What this
node sends is read back from its outbox. Between real nodes: test_three_nodes.py."""

import base64
import json
import re
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from opennrm.audit.models import AuditEntry
from opennrm.cases.models import Person
from opennrm.core.keyring import KeyRing, get_keyring
from opennrm.linkage import pprl
from opennrm.linkage.crossborder import services
from opennrm.linkage.crossborder.models import (
    LinkageRound,
    PresenceAbroad,
    RoundParty,
    RoundRecord,
    RoundState,
)
from opennrm.transnational import identity, receiving
from opennrm.transnational.envelope import seal
from opennrm.transnational.models import OutboxMessage, Partner

pytestmark = pytest.mark.django_db

SECRET = "correct horse battery staple of the linkage"
TYPES = ["ping", "pong", *services.MESSAGE_TYPES]
# Persons of this node (MD): two are also registered in UA, one in RO, one nowhere else.
MD_PERSONS = [
    ("Ivan", "Ivanenko", "1990-05-03", "male", "UA"),
    ("Olena", "Kovalenko", "1985-11-21", "female", "UA"),
    ("Maria", "Popescu", "1999-02-14", "female", "MD"),
    ("Serghei", "Rusu", "1978-07-30", "male", "MD"),
]
UA_RECORDS = [  # the same two persons, in Cyrillic, and one only UA knows
    {"given_name": "Іван", "family_name": "Іваненко", "birth_date": "03.05.1990", "sex": "M",
     "citizenship": "UA"},
    {"given_name": "Олена", "family_name": "Коваленко", "birth_date": "1985-11-21", "sex": "F",
     "citizenship": "UA"},
    {"given_name": "Петро", "family_name": "Шевчук", "birth_date": "1970-01-09", "sex": "M",
     "citizenship": "UA"},
]
RO_RECORDS = [
    {"given_name": "Maria", "family_name": "Popescu", "birth_date": "1999-02-14", "sex": "F",
     "citizenship": "MD"},
    {"given_name": "Ion", "family_name": "Ionescu", "birth_date": "1960-03-01", "sex": "M",
     "citizenship": "RO"},
]
NAMES = {part.lower() for person in MD_PERSONS for part in person[:2]} | {
    value.lower() for record in UA_RECORDS + RO_RECORDS
    for value in (record["given_name"], record["family_name"])}
DATES = {person[2] for person in MD_PERSONS} | {"03.05.1990", "21.11.1985"}


@pytest.fixture(autouse=True)
def md(db, settings):
    settings.OPENNRM_TRM_DELIVER_ON_COMMIT = False  # no delivery thread: nothing listens
    settings.OPENNRM_CROSS_BORDER_BACKGROUND = False  # encoding and linking right after commit
    return identity.init_node(None, "MD", "Moldova NRM", "https://md.example")


def make_partner(country: str, tmp_path):
    ring = KeyRing.create(tmp_path / f"{country}-keyring.json")
    ring.add_encryption_key()
    partner = Partner.objects.create(
        node_id=uuid.uuid4(), country=country, name=f"{country} NRM",
        endpoint=f"https://{country.lower()}.example",
        valid_until=timezone.now() + timedelta(days=365), card={},
        keys=identity.public_jwks(ring), fingerprint="0" * 64, allowed_types=TYPES)
    return SimpleNamespace(partner=partner, ring=ring, country=country)


@pytest.fixture
def ua(tmp_path):
    return make_partner("UA", tmp_path)


@pytest.fixture
def ro(tmp_path):
    return make_partner("RO", tmp_path)


@pytest.fixture
def persons():
    return [Person.objects.create(given_name=given, family_name=family, birth_date=born,
                                  gender=gender, citizenships=[citizenship])
            for given, family, born, gender, citizenship in MD_PERSONS]


@pytest.fixture
def agreement(ua, ro):
    return services.create_agreement(None, "MD-UA-RO 2026", [ua.partner, ro.partner], SECRET)


def send_from(partner, message_type: str, payload: dict) -> receiving.Answer:
    """The partner's node sends this node a message, signed and sealed as its outbox would."""
    kid, key = partner.ring.signing_private_key()
    ring = get_keyring()
    enc_id = ring.active_encryption_key_id
    now = int(time.time())
    content = {
        "message_id": str(uuid.uuid4()), "type": message_type, "schema_version": "1.0",
        "sender": str(partner.partner.node_id), "recipient": str(identity.this_node().node_id),
        "issued_at": now, "expires_at": now + 3600, "in_reply_to": None, "case_id": None,
        "sequence": None, "consent_ref": "", "payload": payload,
    }
    sealed = seal(content, key, kid, ring.encryption_public_key(enc_id), enc_id)
    answer = receiving.receive(sealed.sealed.encode("ascii"), str(partner.partner.node_id))
    return answer


def sent(partner, message_type: str) -> list[dict]:
    """The payloads this node queued to `partner`, as its outbox stores them (the signed
    message, read back)."""
    payloads = []
    for message in OutboxMessage.objects.filter(partner=partner.partner,
                                                message_type=message_type).order_by("id"):
        claims = message.signed.split(".")[1]
        claims += "=" * (-len(claims) % 4)
        payloads.append(json.loads(base64.urlsafe_b64decode(claims))["payload"])
    return payloads


def partner_chunks(partner, round_id, records: list[dict], size: int) -> list[dict]:
    """What a partner's node sends: its records encoded under the round's key, in chunks."""
    records = [{"record_id": f"{partner.country}-{uuid.uuid4().hex[:16]}", **record}
               for record in records]
    encodings, _ = pprl.encode(records, services.round_key(SECRET, round_id))
    chunks = encodings.chunks(size)
    return [{"round_id": str(round_id), "chunk": index, "chunks": len(chunks),
             "encodings": chunk.to_payload()} for index, chunk in enumerate(chunks, 1)]


def assert_no_identity(payloads) -> None:
    """No name as a word, no birth date, not the secret, anywhere in the payloads."""
    text = json.dumps(payloads, ensure_ascii=False).lower()
    assert not NAMES & set(re.findall(r"[^\W\d_]+", text))
    for value in DATES | {SECRET.lower()}:
        assert value not in text, value


def marks() -> set[tuple[str, str]]:
    return {(mark.person.family_name, mark.country)
            for mark in PresenceAbroad.objects.select_related("person")}


def test_the_secret_is_stored_encrypted_and_shown_only_as_its_fingerprint(agreement, client,
                                                                          administrator):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM crossborder_linkageagreement")
        stored = cursor.fetchone()[0]
    assert SECRET not in stored and stored.startswith("enc1:")
    # Both sides compute the same fingerprint from the same secret, another from another.
    assert agreement.fingerprint == services.secret_fingerprint(SECRET)
    assert agreement.fingerprint != services.secret_fingerprint(SECRET + "!")
    page = client_as(client, administrator).get(
        f"/linkage/across-borders/agreements/{agreement.pk}/").content.decode()
    assert services.format_fingerprint(agreement.fingerprint) in page
    assert SECRET not in page
    assert AuditEntry.objects.filter(object_type="linkage_agreement").exists()


def test_a_short_or_mistyped_secret_is_refused(ua):
    with pytest.raises(ValidationError) as refused:
        services.create_agreement(None, "A", [ua.partner], "too short")
    assert "secret" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.create_agreement(None, "A", [ua.partner], SECRET, SECRET + "x")
    assert "confirm_secret" in refused.value.message_dict


def test_a_round_hosted_here_links_every_party_and_sends_only_group_ids(
        agreement, persons, ua, ro, national_coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        linkage_round = services.open_round(national_coordinator, agreement, [])
    linkage_round.refresh_from_db()
    invitation = sent(ua, "linkage_round_opened")[0]
    assert invitation["fingerprint"] == agreement.fingerprint
    assert {party["country"] for party in invitation["parties"]} == {"MD", "UA", "RO"}
    assert services.waiting_for(linkage_round) == ["RO", "UA"]
    assert linkage_round.parties.get(partner=None).state == RoundParty.State.COMPLETE

    # UA's chunks out of order, one of them twice (sent anew under another message id).
    chunks = partner_chunks(ua, linkage_round.round_id, UA_RECORDS, size=1)
    for chunk in (chunks[2], chunks[0], chunks[0]):
        assert send_from(ua, "linkage_encodings", chunk).body["status"] == "applied"
    party = linkage_round.parties.get(country="UA")
    assert (party.state, party.chunks_received, party.records) == ("receiving", 2, 2)
    with django_capture_on_commit_callbacks(execute=True):
        send_from(ua, "linkage_encodings", chunks[1])
        for chunk in partner_chunks(ro, linkage_round.round_id, RO_RECORDS, size=5):
            send_from(ro, "linkage_encodings", chunk)
    linkage_round.refresh_from_db()
    assert linkage_round.state == RoundState.LINKED
    assert linkage_round.parties.get(country="UA").records == 3

    # This node's persons are marked; each partner hears of its own tokens only.
    assert marks() == {("Ivanenko", "UA"), ("Kovalenko", "UA"), ("Popescu", "RO")}
    ua_groups = sent(ua, "linkage_groups")
    ua_tokens = {record for chunk in chunks for record in chunk["encodings"]["record_ids"]}
    entries = [entry for chunk in ua_groups for entry in chunk["groups"]]
    assert {entry["record"] for entry in entries} <= ua_tokens and len(entries) == 2
    assert all(entry["countries"] == ["MD"] for entry in entries)
    ro_entries = [entry for chunk in sent(ro, "linkage_groups") for entry in chunk["groups"]]
    assert [entry["countries"] for entry in ro_entries] == [["MD"]]
    groups = services.groups_for_round(linkage_round)
    assert sorted(groups.values()) == [["MD", "RO"], ["MD", "UA"], ["MD", "UA"]]
    # No name, birth date or secret in anything this node sent.
    for partner in (ua, ro):
        assert_no_identity([sent(partner, kind) for kind in services.MESSAGE_TYPES])
    # What linked stays; the tokens and encodings of the round are gone.
    assert not RoundRecord.objects.exists()
    assert AuditEntry.objects.filter(object_type="linkage_round",
                                     reason__contains="group result applied").count() == 1


def test_a_chunk_count_that_changes_is_refused(agreement, persons, ua, ro,
                                               national_coordinator):
    linkage_round = services.open_round(national_coordinator, agreement, [],
                                        host_takes_part=False)
    chunks = partner_chunks(ua, linkage_round.round_id, UA_RECORDS, size=1)
    send_from(ua, "linkage_encodings", chunks[0])
    answer = send_from(ua, "linkage_encodings", {**chunks[1], "chunks": 2})
    assert answer.body["code"] == "invalid_payload"


def test_a_declined_party_is_left_out_and_too_few_parties_close_the_round(
        agreement, ua, ro, national_coordinator):
    linkage_round = services.open_round(national_coordinator, agreement, [],
                                        host_takes_part=False)
    send_from(ua, "linkage_round_declined", {"round_id": str(linkage_round.round_id),
                                             "reason": "not this month"})
    for chunk in partner_chunks(ro, linkage_round.round_id, RO_RECORDS, size=5):
        send_from(ro, "linkage_encodings", chunk)
    linkage_round.refresh_from_db()
    assert linkage_round.state == RoundState.EXPIRED
    assert sent(ro, "linkage_round_closed")[0]["reason"].startswith("fewer than two")
    assert not sent(ua, "linkage_round_closed")


def test_the_deadline_closes_a_round_still_waiting(agreement, ua, ro, national_coordinator):
    linkage_round = services.open_round(national_coordinator, agreement, [],
                                        host_takes_part=False)
    services.sweep_rounds(now=timezone.now() + timedelta(days=8))
    linkage_round.refresh_from_db()
    assert linkage_round.state == RoundState.EXPIRED
    assert len(sent(ua, "linkage_round_closed")) == 1


def invite(host, round_id=None, fingerprint=None, agreement_name="MD-UA-RO 2026") -> uuid.UUID:
    round_id = round_id or uuid.uuid4()
    node = identity.this_node()
    send_from(host, "linkage_round_opened", {
        "round_id": str(round_id), "agreement": agreement_name,
        "fingerprint": fingerprint or services.secret_fingerprint(SECRET),
        "parameters": pprl.DEFAULT_PARAMETERS.as_dict(),
        "deadline": (timezone.now() + timedelta(days=3)).isoformat(),
        "parties": [{"node_id": str(node.node_id), "country": "MD"},
                    {"node_id": str(host.partner.node_id), "country": host.country}]})
    return round_id


def test_a_participant_joins_sends_encodings_in_chunks_and_marks_its_persons(
        agreement, persons, ua, national_coordinator, settings,
        django_capture_on_commit_callbacks):
    settings.OPENNRM_TRM_MAX_MESSAGE_BYTES = 8 * 1024  # a chunk holds two encodings
    round_id = invite(ua)
    linkage_round = LinkageRound.objects.get(round_id=round_id)
    assert linkage_round.state == RoundState.INVITED and not sent(ua, "linkage_encodings")
    with django_capture_on_commit_callbacks(execute=True):
        services.join_round(national_coordinator, linkage_round)
    linkage_round.refresh_from_db()
    assert linkage_round.state == RoundState.SENT
    chunks = sent(ua, "linkage_encodings")
    assert len(chunks) > 1 and {chunk["chunks"] for chunk in chunks} == {len(chunks)}
    assert max(len(message.sealed) for message in OutboxMessage.objects.filter(
        message_type="linkage_encodings")) < settings.OPENNRM_TRM_MAX_MESSAGE_BYTES
    encodings = pprl.Encodings.join([pprl.Encodings.from_payload(chunk["encodings"])
                                     for chunk in chunks])
    assert len(encodings) == len(MD_PERSONS)
    assert_no_identity(chunks)
    # The host (UA) links them with its own: the result comes back in two chunks.
    mine = pprl.Encodings.join([pprl.Encodings.from_payload(chunk["encodings"]) for chunk in
                                partner_chunks(ua, round_id, UA_RECORDS, size=10)])
    result = pprl.link_encodings({"MD": encodings, "UA": mine})
    linked = {token: group for token, group in result.groups["MD"].items()
              if group in set(result.groups["UA"].values())}
    assert len(linked) == 2
    entries = [{"record": token, "group": group, "countries": ["UA"]}
               for token, group in linked.items()]
    send_from(ua, "linkage_groups", {"round_id": str(round_id), "chunk": 2, "chunks": 2,
                                     "groups": entries[1:]})
    assert not PresenceAbroad.objects.exists()
    send_from(ua, "linkage_groups", {"round_id": str(round_id), "chunk": 1, "chunks": 2,
                                     "groups": entries[:1]})
    linkage_round.refresh_from_db()
    assert linkage_round.state == RoundState.LINKED
    assert marks() == {("Ivanenko", "UA"), ("Kovalenko", "UA")}
    assert services.presence_counts(linkage_round) == [("UA", 2)]
    exports = AuditEntry.objects.filter(object_type="linkage_round", action="export")
    assert exports.count() == 1 and "4 persons encoded" in exports.get().reason


def test_an_invitation_under_another_secret_is_declined_with_the_reason(agreement, ua):
    round_id = invite(ua, fingerprint=services.secret_fingerprint("another secret, not ours"))
    assert LinkageRound.objects.get(round_id=round_id).state == RoundState.DECLINED
    assert "fingerprint" in sent(ua, "linkage_round_declined")[0]["reason"]
    round_id = invite(ua, agreement_name="No such agreement")
    assert "no linkage agreement" in sent(ua, "linkage_round_declined")[1]["reason"]


def test_a_new_round_with_the_same_parties_replaces_the_marks(
        agreement, persons, ua, national_coordinator, django_capture_on_commit_callbacks):
    for person in persons[:2]:
        round_id = invite(ua)
        linkage_round = LinkageRound.objects.get(round_id=round_id)
        with django_capture_on_commit_callbacks(execute=True):
            services.join_round(national_coordinator, linkage_round)
        token = RoundRecord.objects.get(round=linkage_round, person=person).token
        send_from(ua, "linkage_groups", {"round_id": str(round_id), "chunk": 1, "chunks": 1,
                                         "groups": [{"record": token, "group": "g1",
                                                     "countries": ["UA"]}]})
        assert marks() == {(person.family_name, "UA")}


def test_only_national_coordinators_run_rounds(agreement, caseworker, administrator):
    with pytest.raises(PermissionDenied):
        services.open_round(caseworker, agreement, [])
    with pytest.raises(PermissionDenied):
        services.open_round(administrator, agreement, [])


def client_as(client, user):
    client.force_login(user)
    return client
