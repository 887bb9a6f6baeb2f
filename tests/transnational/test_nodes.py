"""Two real nodes (separate gunicorn servers and `opennrm trm worker` processes, one on
SQLite and one on PostgreSQL when a server is reachable, separate key rings) exchange their
cards and talk through the node-to-node endpoint. Bad messages are made here with the
envelope module and the sender's key ring file, and posted as a partner would."""

import time
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opennrm.core.keyring import KeyRing
from opennrm.transnational.envelope import RECEIPT_TYP, seal, verify
from tests.transnational.nodes import Node, two_nodes, uid, wait_for

pytestmark = pytest.mark.nodes

TYPES = "ping,pong,status_update"


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    with two_nodes(tmp_path_factory.mktemp("trm"), TYPES) as nodes:
        yield nodes


def outbox_status(node: Node, message_id: str) -> tuple:
    rows = node.sql("SELECT status, reason_code, receipt FROM transnational_outboxmessage "
                    "WHERE message_id = ?", (uid(node, message_id),))
    return rows[0] if rows else (None, None, None)


def applied(node: Node, message_id: str) -> int:
    return node.sql("SELECT count(*) FROM transnational_inboxmessage WHERE message_id = ? "
                    "AND status = 'applied'", (uid(node, message_id),))[0][0]


def craft(sender: Node, recipient: Node, message_type="ping", payload=None, *, signing=None,
          recipient_id=None, issued_delta=0, expires_delta=3600, version="1.0",
          case_id=None, sequence=None) -> tuple[str, str]:
    """(message id, sealed body) signed with the sender's key ring (or `signing`)."""
    ring = KeyRing.load(sender.keyring)
    kid, key = ring.signing_private_key()
    if signing is not None:
        key = signing
    enc = next(k for k in recipient.card()["keys"]["keys"] if k["use"] == "enc")
    now = int(time.time())
    message_id = str(uuid.uuid4())
    content = {
        "message_id": message_id, "type": message_type, "schema_version": version,
        "sender": sender.node_id, "recipient": recipient_id or recipient.node_id,
        "issued_at": now + issued_delta, "expires_at": now + expires_delta,
        "in_reply_to": None, "case_id": case_id, "sequence": sequence, "consent_ref": "",
        "payload": {"text": "crafted"} if payload is None else payload,
    }
    return message_id, seal(content, key, kid, enc, enc["kid"]).sealed


def post(sender: Node, recipient: Node, body: str | bytes) -> httpx.Response:
    data = body.encode("ascii") if isinstance(body, str) else body
    return httpx.post(recipient.url + "/trm/v1/messages", content=data, timeout=20,
                      headers={"TRM-Sender": sender.node_id,
                               "Content-Type": "application/jose"})


def test_card_import_refused_on_a_wrong_fingerprint(network):
    md, ua = network
    wrong = "0000 " * 16
    result = md.opennrm("partner", "import", str(ua.card_path), "--fingerprint", wrong,
                        check=False)
    assert result.returncode == 1
    assert "does not match" in result.stdout
    assert ua.fingerprint.replace(" ", "") not in result.stdout.replace(" ", "")
    listed = md.opennrm("partner", "list").stdout
    assert ua.node_id in listed and "ping, pong, status_update" in listed


def test_ping_gets_a_signed_receipt_and_a_pong(network):
    md, ua = network
    out = md.opennrm("trm", "ping", ua.node_id).stdout
    message_id = out.split(":")[0].strip()
    assert "receipt_received" in out or "answered" in out
    status, _, receipt = outbox_status(md, message_id)
    sig = next(k for k in ua.card()["keys"]["keys"] if k["use"] == "sig")
    content = verify(receipt, sig, typ=RECEIPT_TYP)
    assert content["message_id"] == message_id and content["status"] == "applied"
    sealed = md.sql("SELECT digest FROM transnational_outboxmessage WHERE message_id = ?",
                    (uid(md, message_id),))[0][0]
    assert content["digest"] == sealed
    assert applied(ua, message_id) == 1
    # The pong comes back and the ping shows as answered.
    wait_for(lambda: outbox_status(md, message_id)[0] == "answered")
    # The log and the evidence, from the CLI.
    assert message_id in md.opennrm("trm", "log").stdout
    evidence = md.opennrm("trm", "evidence", message_id).stdout
    assert '"signed_message": "ey' in evidence and receipt in evidence


def test_recipient_down_then_started_gets_it_exactly_once(network):
    md, ua = network
    ua.stop_server()
    try:
        out = md.opennrm("trm", "ping", ua.node_id).stdout
        message_id = out.split(":")[0].strip()
        assert "queued" in out and "unreachable" in out
        time.sleep(2)  # a few retries by md's worker, all failing
        assert outbox_status(md, message_id)[0] == "queued"
    finally:
        ua.start_server()
    wait_for(lambda: outbox_status(md, message_id)[0] in ("receipt_received", "answered"))
    assert applied(ua, message_id) == 1
    attempts = md.sql("SELECT attempts FROM transnational_outboxmessage WHERE message_id = ?",
                      (uid(md, message_id),))[0][0]
    assert attempts >= 2


def test_a_replayed_message_gets_the_stored_receipt_and_applies_once(network):
    md, ua = network
    message_id, body = craft(md, ua)
    first = post(md, ua, body)
    assert first.status_code == 200 and first.json()["status"] == "applied"
    again = post(md, ua, body)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["receipt"] == first.json()["receipt"]
    assert applied(ua, message_id) == 1


def test_duplicates_sent_together_apply_once(network):
    md, ua = network
    from concurrent.futures import ThreadPoolExecutor

    message_id, body = craft(md, ua)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post(md, ua, body), range(4)))
    assert all(answer.status_code == 200 for answer in answers)
    assert sorted(a.json()["status"] for a in answers).count("applied") == 1
    assert applied(ua, message_id) == 1


def rejected_with(answer: httpx.Response, code: str, ua: Node, status: int | None = None):
    assert answer.json()["code"] == code, answer.text
    if status is not None:
        assert answer.status_code == status
    assert answer.json()["text"]
    if code not in ("too_large", "rate_limited"):
        sig = next(k for k in ua.card()["keys"]["keys"] if k["use"] == "sig")
        assert verify(answer.json()["receipt"], sig, typ=RECEIPT_TYP)["status"] == "rejected"
        assert ua.sql("SELECT count(*) FROM transnational_inboxmessage WHERE reason_code = ?",
                      (code,))[0][0] >= 1


def test_bad_messages_are_rejected_with_their_reasons(network):
    md, ua = network
    # Tampered: one character of the ciphertext changed.
    _, body = craft(md, ua)
    parts = body.split(".")
    parts[3] = ("A" if parts[3][5] != "A" else "B").join((parts[3][:5], parts[3][6:]))
    rejected_with(post(md, ua, ".".join(parts)), "decryption_failed", ua, 400)
    # Wrongly signed: another key under md's key id.
    _, body = craft(md, ua, signing=Ed25519PrivateKey.generate())
    rejected_with(post(md, ua, body), "bad_signature", ua, 400)
    # Signed by md but sent as if from another partner.
    _, body = craft(md, ua)
    rejected_with(post(ua, ua, body), "unknown_sender", ua, 403)
    # Wrongly addressed.
    _, body = craft(md, ua, recipient_id=str(uuid.uuid4()))
    rejected_with(post(md, ua, body), "wrong_recipient", ua, 400)
    # Expired (beyond the tolerance of 5 minutes).
    _, body = craft(md, ua, issued_delta=-7200, expires_delta=-400)
    rejected_with(post(md, ua, body), "expired", ua, 400)
    # From the future (beyond the tolerance).
    _, body = craft(md, ua, issued_delta=400)
    rejected_with(post(md, ua, body), "not_yet_valid", ua, 400)
    # An unknown major version, a payload its schema refuses, a type not allowed.
    _, body = craft(md, ua, version="2.0")
    rejected_with(post(md, ua, body), "unsupported_version", ua, 400)
    _, body = craft(md, ua, payload={"text": 5})
    rejected_with(post(md, ua, body), "invalid_payload", ua, 400)
    # Oversized (the nodes here take at most 64 KiB).
    rejected_with(post(md, ua, b"x" * (64 * 1024 + 1)), "too_large", ua, 413)
    # Not a JWE at all.
    rejected_with(post(md, ua, b"hello"), "malformed", ua, 400)


def test_clock_skew_within_five_minutes_is_accepted(network):
    md, ua = network
    for issued, expires in ((290, 3600), (-3600, -290)):
        message_id, body = craft(md, ua, issued_delta=issued, expires_delta=expires)
        answer = post(md, ua, body)
        assert answer.json()["status"] == "applied", answer.text
        assert applied(ua, message_id) == 1


def test_a_case_message_that_arrives_early_waits_for_its_predecessor(network):
    md, ua = network
    case_id = str(uuid.uuid4())
    second_id, second = craft(md, ua, "status_update", {"status": "arrived"},
                              case_id=case_id, sequence=2)
    first_id, first = craft(md, ua, "status_update", {"status": "return date set"},
                            case_id=case_id, sequence=1)
    assert post(md, ua, second).json()["status"] == "pending"
    assert applied(ua, second_id) == 0
    assert post(md, ua, first).json()["status"] == "applied"
    assert applied(ua, first_id) == 1 and applied(ua, second_id) == 1
    # A third message reusing number 2 under a new id is refused.
    _, again = craft(md, ua, "status_update", {"status": "x"}, case_id=case_id, sequence=2)
    rejected_with(post(md, ua, again), "sequence_reused", ua, 400)


def test_a_suspended_partner_is_refused_then_served_after_resuming(network):
    md, ua = network
    ua.opennrm("partner", "suspend", md.node_id, "--reason", "test")
    try:
        _, body = craft(md, ua)
        rejected_with(post(md, ua, body), "partner_suspended", ua, 403)
        out = md.opennrm("trm", "ping", ua.node_id).stdout
        message_id = out.split(":")[0].strip()
        assert "queued" in out and "partner_suspended" in out
    finally:
        ua.opennrm("partner", "resume", md.node_id)
    wait_for(lambda: outbox_status(md, message_id)[0] in ("receipt_received", "answered"))
    assert applied(ua, message_id) == 1


def test_a_type_not_allowed_is_refused(network):
    md, ua = network
    ua.opennrm("partner", "allow", md.node_id, "--types", "ping,pong")
    try:
        _, body = craft(md, ua, "status_update", {"status": "x"}, case_id=str(uuid.uuid4()),
                        sequence=1)
        rejected_with(post(md, ua, body), "type_not_allowed", ua, 403)
    finally:
        ua.opennrm("partner", "allow", md.node_id, "--types", TYPES)


def test_schemas_and_card_are_served(network):
    md, ua = network
    index = httpx.get(ua.url + "/trm/v1/schemas").json()["types"]
    assert {"ping", "pong", "status_update"} <= set(index)
    schema = httpx.get(index["status_update"]["url"]).json()
    assert schema["x-opennrm-version"] == "1.0"
    assert httpx.get(ua.url + "/trm/v1/card").json()["node_id"] == ua.node_id


def post_batch(sender: Node, recipient: Node, bodies: list[str]) -> httpx.Response:
    return httpx.post(recipient.url + "/trm/v1/batch", json={"messages": bodies}, timeout=30,
                      headers={"TRM-Sender": sender.node_id})


def test_a_batch_is_received_message_by_message_in_order(network):
    """One request, each message answered as if it came alone: applied, duplicate (stored
    receipt), refused with its reason; a case's messages applied in order within the batch."""
    md, ua = network
    first_id, first = craft(md, ua)
    _, wrongly_addressed = craft(md, ua, recipient_id=str(uuid.uuid4()))
    case_id = str(uuid.uuid4())
    one_id, one = craft(md, ua, "status_update", {"status": "arrived"}, case_id=case_id,
                        sequence=1)
    two_id, two = craft(md, ua, "status_update", {"status": "follow-up done"},
                        case_id=case_id, sequence=2)
    answer = post_batch(md, ua, [first, wrongly_addressed, first, one, two, "x" * (64 * 1024 + 1)])
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [
        "applied", "rejected", "duplicate", "applied", "applied", "rejected"]
    assert results[1]["code"] == "wrong_recipient" and results[1]["http_status"] == 400
    assert results[2]["receipt"] == results[0]["receipt"]
    assert results[5]["code"] == "too_large"
    sig = next(k for k in ua.card()["keys"]["keys"] if k["use"] == "sig")
    assert verify(results[0]["receipt"], sig, typ=RECEIPT_TYP)["message_id"] == first_id
    for message_id in (first_id, one_id, two_id):
        assert applied(ua, message_id) == 1


def test_a_malformed_or_oversized_batch_is_refused_whole(network):
    md, ua = network
    answer = httpx.post(ua.url + "/trm/v1/batch", content=b"not json", timeout=20,
                        headers={"TRM-Sender": md.node_id})
    assert answer.status_code == 400 and answer.json()["code"] == "malformed"
    answer = post_batch(md, ua, [])
    assert answer.status_code == 400 and answer.json()["code"] == "malformed"
    answer = post_batch(md, ua, ["x"] * 51)  # OPENNRM_TRM_BATCH_SIZE is 50
    assert answer.status_code == 413 and answer.json()["code"] == "too_many"


def test_a_backlog_goes_in_batches_and_applies_once(network):
    """Messages queued while the partner is down go, once it is back, in batches (fewer
    requests than messages), each applied exactly once with its receipt stored."""
    md, ua = network
    ua.stop_server()
    try:
        code = ("from opennrm.transnational import services\n"
                "from opennrm.transnational.models import Partner\n"
                "p = Partner.objects.get(country='UA')\n"
                "ids = [str(services.send_message(None, p, 'ping', {'text': 'backlog'})"
                ".message_id) for _ in range(120)]\n"
                "print(','.join(ids))\n")
        ids = md.opennrm("manage", "shell", "-c", code).stdout.strip().splitlines()[-1]
        ids = ids.split(",")
    finally:
        ua.start_server()
    marks, params = ",".join("?" * len(ids)), tuple(uid(md, i) for i in ids)

    def delivered() -> bool:
        states = md.sql("SELECT status FROM transnational_outboxmessage WHERE status NOT IN "
                        f"('receipt_received', 'answered') AND message_id IN ({marks})",
                        params)
        return not states

    wait_for(delivered, timeout=120)
    for message_id in ids:
        assert applied(ua, message_id) == 1
    # The worker's successful deliveries of these went in shared requests (a batch's
    # attempts share one round-trip time and moment).
    moments = md.sql(
        "SELECT count(DISTINCT a.at) FROM transnational_deliveryattempt a JOIN "
        "transnational_outboxmessage m ON m.id = a.message_id WHERE a.outcome = 'receipt' "
        f"AND m.message_id IN ({marks})", params)[0][0]
    assert moments < len(ids) / 2
