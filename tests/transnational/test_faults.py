"""Real processes killed in the middle of an exchange between two real nodes (gunicorn and
`opennrm trm worker` each, own database and key ring; UA on PostgreSQL when a server is
reachable). Each test ends with every valid message applied exactly once at the receiver
(counted in its database, with the effect of its handler: one pong queued per ping) and its
signed receipt stored at the sender, and every invalid one refused with its reason.

The faults are made from outside, with no fault injection in the code under test: SIGKILL of
the receiver's server (master and workers), of the process that wrote the outbox right after
its commit or while its threads deliver, and of the sender's worker between the receiver's
answer and the storing of the receipt (a forwarding proxy in this test process kills it when
the answer comes back). Proxies also reorder a reply and the receipt of the message it
answers: the message still gets its receipt and shows answered."""

import uuid
from collections import Counter

import pytest

from opennrm.transnational.envelope import RECEIPT_TYP, verify
from tests.transnational.nodes import ForwardingProxy, Node, two_nodes, wait_for

pytestmark = pytest.mark.nodes

TYPES = "ping,pong,status_update"
# The messages are written with no delivery after commit: the worker alone delivers them.
WORKER_ONLY = {"OPENNRM_TRM_DELIVER_ON_COMMIT": "0"}
DELIVERED = ("receipt_received", "answered")


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    with two_nodes(tmp_path_factory.mktemp("trm-faults"), TYPES) as (md, ua):
        # UA refuses status updates from MD (MD may send them): the invalid messages.
        ua.opennrm("partner", "allow", md.node_id, "--types", "ping,pong")
        yield md, ua


@pytest.fixture
def restored(network):
    """The network, with every process that a test killed or stopped started again after it."""
    yield network
    for node in network:
        if node.server is None:
            node.start_server()
        if node.worker is None:
            node.start_worker()


def send_many(sender: Node, recipient: Node, plan: list[str], *, env: dict | None = None,
              kill: str = "") -> list[tuple[str, str]]:
    """Write one outbox message per type in `plan` (pings, pongs, and status updates the
    recipient refuses) in one transaction of `sender`'s own process; returns [(type, message id)].
    `kill`: "before_delivery" SIGKILLs that process right after the commit, before the
    delivery threads start; "during_delivery" once the threads have claimed a message."""
    code = f"""
import os, signal, time
from django.db import transaction
from opennrm.transnational import services
from opennrm.transnational.models import OutboxMessage, Partner

partner = Partner.objects.get(node_id="{recipient.node_id}")
payloads = {{"ping": {{"text": "fault test"}}, "pong": {{"text": "fault test"}},
            "status_update": {{"status": "arrived"}}}}
ids = []

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

def kill_once_claimed():
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not OutboxMessage.objects.filter(
            message_id__in=ids, status="sent").exists():
        time.sleep(0.005)
    kill()

with transaction.atomic():
    if {kill!r} == "before_delivery":
        transaction.on_commit(kill)
    for message_type in {plan!r}:
        message = services.send_message(None, partner, message_type, payloads[message_type])
        ids.append(message.message_id)
        print("MSG", message_type, message.message_id, flush=True)
    if {kill!r} == "during_delivery":
        transaction.on_commit(kill_once_claimed)
"""
    result = sender.opennrm("manage", "shell", "-c", code, env=env, check=not kill)
    if kill:
        assert result.returncode == -9, result.stdout + result.stderr
    sent = [tuple(line.split()[1:3]) for line in result.stdout.splitlines()
            if line.startswith("MSG ")]
    assert len(sent) == len(plan), result.stdout + result.stderr
    return sent


def norm(value) -> str:
    """A UUID as text, whether the database gave 32 hex digits (SQLite) or a uuid."""
    return str(uuid.UUID(str(value)))


def outbox(node: Node) -> dict[str, dict]:
    columns = ("message_type", "status", "reason_code", "receipt", "receipt_status", "digest",
               "in_reply_to", "attempts", "answered_at")
    rows = node.sql(f"SELECT message_id, {', '.join(columns)} FROM transnational_outboxmessage")
    return {norm(row[0]): dict(zip(columns, row[1:], strict=True)) for row in rows}


def inbox(node: Node) -> list[dict]:
    columns = ("claimed_message_id", "message_id", "message_type", "status", "reason_code",
               "in_reply_to", "receipt")
    return [dict(zip(columns, row, strict=True)) for row in node.sql(
        f"SELECT {', '.join(columns)} FROM transnational_inboxmessage")]


def applied(node: Node, ids) -> Counter:
    """How many times each of `ids` was applied at `node` (its inbox rows, applied)."""
    ids = set(ids)
    return Counter(norm(row["message_id"]) for row in inbox(node)
                   if row["status"] == "applied" and norm(row["claimed_message_id"]) in ids)


def pongs_queued(node: Node, ping_ids) -> Counter:
    """The effect of each ping at the node that applied it: the pongs it queued in reply."""
    ids = set(ping_ids)
    return Counter(norm(row["in_reply_to"]) for row in outbox(node).values()
                   if row["message_type"] == "pong" and row["in_reply_to"]
                   and norm(row["in_reply_to"]) in ids)


def settled(md: Node, pings, refused=()) -> bool:
    sent = outbox(md)
    return (all(sent[m]["status"] in DELIVERED for m in pings)
            and all(sent[m]["status"] == "failed" for m in refused))


def assert_exactly_once(md: Node, ua: Node, pings: list[str], refused: list[str] = ()):
    """Every ping applied once at UA (its pong queued once, applied once back at MD), with
    UA's signed receipt at MD naming it and the digest of what MD sent; every refused
    message failed at MD with UA's reason, a signed rejection, and never applied."""
    wait_for(lambda: settled(md, pings, refused), timeout=180, every=0.5)
    assert applied(ua, pings) == Counter(dict.fromkeys(pings, 1))
    assert pongs_queued(ua, pings) == Counter(dict.fromkeys(pings, 1))
    pong_ids = [m for m, row in outbox(ua).items() if row["message_type"] == "pong"
                and row["in_reply_to"] and norm(row["in_reply_to"]) in set(pings)]
    wait_for(lambda: sum(applied(md, pong_ids).values()) == len(pings), timeout=120)
    assert applied(md, pong_ids) == Counter(dict.fromkeys(pong_ids, 1))
    sig = next(k for k in ua.card()["keys"]["keys"] if k["use"] == "sig")
    sent = outbox(md)
    missing = Counter((sent[m]["status"], sent[m]["reason_code"] or "-") for m in pings
                      if not sent[m]["receipt"])
    assert not missing, f"pings with no receipt stored, by (state, last failure): {missing}"
    for message_id in pings:
        receipt = verify(sent[message_id]["receipt"], sig, typ=RECEIPT_TYP)
        assert receipt["message_id"] == message_id and receipt["status"] == "applied"
        assert receipt["digest"] == sent[message_id]["digest"]
    rejected = [row for row in inbox(ua) if row["claimed_message_id"] in set(refused)]
    assert not applied(ua, refused)
    assert {row["claimed_message_id"] for row in rejected} == set(refused)
    assert {(row["status"], row["reason_code"]) for row in rejected} == {
        ("rejected", "type_not_allowed")}
    for message_id in refused:
        assert sent[message_id]["reason_code"] == "type_not_allowed"
        assert sent[message_id]["receipt_status"] == "rejected"
        assert verify(sent[message_id]["receipt"], sig, typ=RECEIPT_TYP)["code"] == \
            "type_not_allowed"


def unreachable(node: Node) -> int:
    """The node's delivery attempts that found no server."""
    return node.sql("SELECT count(*) FROM transnational_deliveryattempt "
                    "WHERE code = 'unreachable'")[0][0]


def split(sent: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    return ([m for t, m in sent if t == "ping"], [m for t, m in sent if t == "status_update"])


def test_recipient_killed_mid_delivery_then_restarted(restored):
    md, ua = restored
    md.stop_worker()
    plan = ["status_update" if i % 20 == 7 else "ping" for i in range(200)]
    pings, refused = split(send_many(md, ua, plan, env=WORKER_ONLY))
    failures = unreachable(md)
    md.start_worker()
    # Some, not all, applied: the server dies with deliveries in flight.
    wait_for(lambda: applied(ua, pings), timeout=120, every=0.02)
    ua.kill_server()
    done = sum(applied(ua, pings).values())
    assert 0 < done < len(pings), f"{done} of {len(pings)} applied when UA was killed"
    # MD meets the dead server (its attempts fail, the messages wait in backoff) …
    wait_for(lambda: unreachable(md) > failures, timeout=60)
    assert not settled(md, pings, refused)
    # … and delivers the rest once UA is back.
    ua.start_server()
    assert_exactly_once(md, ua, pings, refused)


def test_sender_killed_after_its_commit_before_sending(restored):
    md, ua = restored
    md.stop_worker()
    plan = ["status_update" if i % 10 == 3 else "ping" for i in range(40)]
    pings, refused = split(send_many(md, ua, plan, kill="before_delivery"))
    # Written, never sent: nothing claimed, nothing at UA.
    sent = outbox(md)
    assert {sent[m]["status"] for m in pings + refused} == {"queued"}
    assert not applied(ua, pings) and not [r for r in inbox(ua)
                                           if r["claimed_message_id"] in set(refused)]
    md.start_worker()
    assert_exactly_once(md, ua, pings, refused)


def test_sender_killed_while_its_commit_threads_deliver(restored):
    md, ua = restored
    md.stop_worker()
    plan = ["status_update" if i % 10 == 3 else "ping" for i in range(40)]
    pings, refused = split(send_many(md, ua, plan, kill="during_delivery"))
    # Killed with a claim in flight: the worker's sweeper takes it back after the lease.
    assert "sent" in {row["status"] for m, row in outbox(md).items() if m in set(pings + refused)}
    md.start_worker()
    assert_exactly_once(md, ua, pings, refused)


def test_sender_killed_after_sending_before_storing_the_receipt(restored):
    md, ua = restored
    md.stop_worker()
    killed = []

    def kill_the_worker_once(answer) -> bool:
        # UA has answered (and committed): the worker dies before it reads the answer.
        if killed:
            return True
        md.kill_worker()
        killed.append(answer.text)
        return False

    with ForwardingProxy(ua.url, kill_the_worker_once) as proxy:
        set_endpoint(md, ua, proxy.url)
        try:
            sent = send_many(md, ua, ["pong"] * 3, env=WORKER_ONLY)
            ids = [m for _, m in sent]
            md.start_worker()
            wait_for(lambda: killed, timeout=120)
            # Applied at UA, still claimed at MD, with no receipt.
            first = sorted(applied(ua, ids))
            assert first
            states = outbox(md)
            assert all(states[m]["status"] == "sent" and not states[m]["receipt"]
                       for m in first)
            answers_before = len(proxy.answers)
            md.start_worker()  # the sweeper takes the claim back, the message goes again
            wait_for(lambda: all(outbox(md)[m]["status"] in DELIVERED for m in ids),
                     timeout=120, every=0.5)
        finally:
            set_endpoint(md, ua, ua.url)
    assert applied(ua, ids) == Counter(dict.fromkeys(ids, 1))
    # Sent again, answered "duplicate" with the receipt UA stored the first time.
    again = " ".join(text for _, text in proxy.answers[answers_before:])
    assert "duplicate" in again
    stored = {norm(row["message_id"]): row["receipt"] for row in inbox(ua)
              if row["status"] == "applied"}
    states = outbox(md)
    for message_id in ids:
        assert states[message_id]["receipt"] == stored[message_id]


# A reply (here the pong) may be applied at the sender before the sender has stored the
# receipt of the message it answers: the message still gets its receipt, and shows answered.

def test_a_reply_applied_before_the_receipt_is_stored_leaves_the_message_answered(restored):
    md, ua = restored
    md.stop_worker()
    [(_, ping)] = send_many(md, ua, ["ping"], env=WORKER_ONLY)

    def once_the_pong_is_applied(answer) -> bool:
        # UA's pong goes straight to MD; UA's receipt reaches MD only after MD applied it.
        wait_for(lambda: reply_applied(md, ping), timeout=60)
        return True

    with ForwardingProxy(ua.url, once_the_pong_is_applied) as proxy:
        set_endpoint(md, ua, proxy.url)
        try:
            md.start_worker()
            receipt_stored(md, ping)
        finally:
            set_endpoint(md, ua, ua.url)
    state = outbox(md)[ping]
    assert state["status"] == "answered", (
        f"the ping's pong was applied at {state['answered_at']}, yet the ping is "
        f"{state['status']}")


def test_a_reply_applied_while_the_message_waits_to_be_sent_again_keeps_its_receipt(restored):
    md, ua = restored
    md.stop_worker()
    [(_, ping)] = send_many(md, ua, ["ping"], env=WORKER_ONLY)
    dropped = []

    def drop_the_first_answer(answer) -> bool:
        # UA applied the ping; its answer is lost on the way back: MD will send it again.
        if dropped:
            return True
        dropped.append(answer.text)
        return False

    def hold_the_pong(body) -> None:
        # The pong arrives while MD waits (backoff) to send the ping again.
        wait_for(lambda: (row := outbox(md)[ping])["status"] == "queued"
                 and row["attempts"] >= 1, timeout=60)

    with (ForwardingProxy(ua.url, drop_the_first_answer) as to_ua,
          ForwardingProxy(md.url, on_request=hold_the_pong) as to_md):
        set_endpoint(md, ua, to_ua.url)
        set_endpoint(ua, md, to_md.url)
        try:
            md.start_worker(env={"OPENNRM_TRM_BACKOFF_BASE_SECONDS": "5",
                                 "OPENNRM_TRM_BACKOFF_MAX_SECONDS": "5"})
            wait_for(lambda: reply_applied(md, ping), timeout=60)
            receipt_stored(md, ping)
        finally:
            set_endpoint(md, ua, ua.url)
            set_endpoint(ua, md, md.url)
            md.stop_worker()  # the fixture starts it again with the usual backoff
    assert applied(ua, [ping]) == {ping: 1}
    assert outbox(md)[ping]["status"] == "answered"


def reply_applied(node: Node, message_id: str) -> bool:
    return any(row["status"] == "applied" and row["in_reply_to"]
               and norm(row["in_reply_to"]) == message_id for row in inbox(node))


def receipt_stored(node: Node, message_id: str, timeout: float = 30) -> None:
    try:
        wait_for(lambda: outbox(node)[message_id]["receipt"], timeout=timeout)
    except AssertionError:
        state = outbox(node)[message_id]
        raise AssertionError(
            f"no receipt stored for {message_id} after {timeout} s: {state['status']}, "
            f"{state['attempts']} attempt(s), last {state['reason_code'] or '-'}, answered at "
            f"{state['answered_at']}") from None


def set_endpoint(node: Node, partner: Node, url: str) -> None:
    """Where `node` sends its messages for `partner` (a proxy, or the partner itself)."""
    node.opennrm("manage", "shell", "-c",
                 "from opennrm.transnational.models import Partner; "
                 f"Partner.objects.filter(node_id='{partner.node_id}').update(endpoint='{url}')")
