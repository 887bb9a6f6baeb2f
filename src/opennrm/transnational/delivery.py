"""Delivering the outbox: claim due messages, POST them to the partner's node-to-node
endpoint, store what it answered.

* Right after the sender's commit, one message goes alone (POST /trm/v1/messages: the
  lowest latency). The worker sends what is due in batches per partner (POST /trm/v1/batch,
  up to OPENNRM_TRM_BATCH_SIZE messages; the partner applies each exactly as if it came
  alone, in one transaction, and answers with one signed receipt per message), and stores
  all the answers of a batch in one transaction: a backlog costs a request and two commits
  per batch, not per message.

* A message is claimed by a conditional UPDATE (queued and due → sent, claimed now), so the
  worker and the on-commit thread never both send it; a duplicate send would be harmless
  anyway (the receiver answers it with its stored receipt).
* A failure that may pass (no connection, a timeout, 5xx, 429, a suspension) sets the next
  attempt after an exponential backoff with full jitter, capped (django-tasks has no
  retries: the outbox keeps its own attempt count and next-attempt time). A refusal that
  will not pass (a signed rejection: expired, invalid, not allowed…) fails the message with
  the partner's reason; the administrator may retry or abandon it.
* The sweeper takes back messages left claimed longer than the lease by a worker that died.
* Each partner's messages are delivered by the worker's pool with at most a few batches in
  flight per partner, and a short timeout, so a slow or absent partner never holds up
  another. A partner down for a whole batch rests (a circuit breaker in the worker): no batch
  goes to it until a backoff has passed, then one batch probes it; its first receipt makes
  everything that waited for it due at once.
"""

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from opennrm.transnational.envelope import RECEIPT_TYP, Rejection, verify
from opennrm.transnational.identity import partner_key, this_node
from opennrm.transnational.models import DeliveryAttempt, OutboxMessage, Partner
from opennrm.transnational.services import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

ENDPOINT_PATH = "/trm/v1/messages"
BATCH_PATH = "/trm/v1/batch"
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# Codes a partner may answer that will pass: try again later.
# (unknown_signing_key: the partner has not yet applied this node's key rotation, which is on
# its way; receipt_unverified: the same the other way round.)
RETRYABLE_CODES = {"rate_limited", "partner_suspended", "handler_failed", "unknown_sender",
                   "unknown_signing_key", "receipt_unverified"}
# Failures that mean the partner was away, not that the message was wrong.
PARTNER_DOWN_CODES = ("unreachable", "http_502", "http_503", "http_504")

_client: httpx.Client | None = None
_client_lock = threading.Lock()


def client() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(timeout=TIMEOUT, limits=httpx.Limits(
                max_connections=64, max_keepalive_connections=32))
        return _client


def backoff(attempts: int) -> timedelta:
    """Full jitter: a random wait up to base × 2^(attempts − 1), capped."""
    ceiling = min(settings.OPENNRM_TRM_BACKOFF_MAX_SECONDS,
                  settings.OPENNRM_TRM_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def claim(pk: int) -> bool:
    now = timezone.now()
    return OutboxMessage.objects.filter(
        pk=pk, status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now).update(
        status=OutboxMessage.Status.SENT, claimed_at=now) == 1


def deliver(pk: int) -> str | None:
    """Deliver one outbox message if it is due and no one else has claimed it. Returns the
    message's new status, or None if it was not claimed."""
    if not claim(pk):
        return None
    message = OutboxMessage.objects.select_related("partner").get(pk=pk)
    partner = message.partner
    started = time.perf_counter()
    attempt = DeliveryAttempt(message=message, at=timezone.now())
    outcome = _post(message, partner, attempt)
    attempt.milliseconds = int((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        attempt.save()
        _store(pk, outcome, message.attempts + 1)
        if message.attempts and outcome["status"] == OutboxMessage.Status.RECEIPT:
            _partner_is_back(partner)
    return outcome["status"]


def _store(pk: int, outcome: dict, attempts: int) -> None:
    """The message's new state. A receipt for a message whose reply was applied meanwhile
    makes it "answered", not "receipt received"."""
    if outcome["status"] == OutboxMessage.Status.RECEIPT:
        outcome = {**outcome, "status": Case(
            When(answered_at__isnull=False, then=Value(OutboxMessage.Status.ANSWERED)),
            default=Value(OutboxMessage.Status.RECEIPT))}
    OutboxMessage.objects.filter(pk=pk).update(**outcome, attempts=attempts)


def _partner_is_back(partner: Partner) -> None:
    """The partner answers again after failures: what waits for it in backoff is due now
    (after an outage, the backlog drains at once, not over the backoff)."""
    OutboxMessage.objects.filter(
        partner=partner, status=OutboxMessage.Status.QUEUED,
        reason_code__in=PARTNER_DOWN_CODES, next_attempt_at__gt=timezone.now(),
    ).update(next_attempt_at=timezone.now())


def claim_batch(pks: list[int]) -> list[int]:
    """Claim those of `pks` still queued and due; returns the ones this caller got. The claim
    time (to the microsecond) tells this claim from a rival's; were two ever to coincide, the
    message would go twice, which the receiver answers with its stored receipt."""
    now = timezone.now()
    OutboxMessage.objects.filter(
        pk__in=pks, status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now).update(
        status=OutboxMessage.Status.SENT, claimed_at=now)
    return list(OutboxMessage.objects.filter(
        pk__in=pks, status=OutboxMessage.Status.SENT, claimed_at=now).values_list(
        "pk", flat=True))


def deliver_batch(pks: list[int]) -> dict[int, dict]:
    """Deliver several outbox messages of one partner in one request (POST /trm/v1/batch),
    and store every answer in one transaction. Returns, for each message claimed, its new
    state ({"status": ..., "reason_code": ..., ...}). A partner that has no batch endpoint
    (404/405) gets them one by one."""
    return deliver_claimed(claim_batch(pks))


def deliver_claimed(claimed: list[int]) -> dict[int, dict]:
    """`deliver_batch` for messages this caller has already claimed."""
    if not claimed:
        return {}
    messages = list(OutboxMessage.objects.select_related("partner").filter(
        pk__in=claimed).order_by("pk"))
    partner = messages[0].partner
    at = timezone.now()
    attempts = {m.pk: DeliveryAttempt(message=m, at=at) for m in messages}
    outcomes: dict[int, dict] = {}
    to_send = []
    for message in messages:
        refused = _not_sendable(message, partner, attempts[message.pk])
        if refused is None:
            to_send.append(message)
        else:
            outcomes[message.pk] = refused
    started = time.perf_counter()
    if to_send:
        outcomes.update(_post_batch(to_send, partner, attempts))
    milliseconds = int((time.perf_counter() - started) * 1000)
    # A receipt for a message that had failed before: the partner is back.
    back = any(message.attempts and outcomes[message.pk]["status"]
               == OutboxMessage.Status.RECEIPT for message in messages)
    with transaction.atomic():
        for attempt in attempts.values():
            attempt.milliseconds = milliseconds
        DeliveryAttempt.objects.bulk_create(attempts.values())
        for message in messages:
            _store(message.pk, outcomes[message.pk], message.attempts + 1)
        if back:
            _partner_is_back(partner)
    return outcomes


def _post_batch(messages: list[OutboxMessage], partner: Partner,
                attempts: dict[int, DeliveryAttempt]) -> dict[int, dict]:
    def every(code: str, text: str) -> dict[int, dict]:
        return {m.pk: _retry(m, attempts[m.pk], code, text) for m in messages}

    try:
        response = client().post(
            partner.endpoint + BATCH_PATH, json={"messages": [m.sealed for m in messages]},
            headers=_headers())
    except httpx.HTTPError as error:
        return every("unreachable", f"{type(error).__name__}: {error}"[:500])
    if response.status_code in (404, 405):
        return {m.pk: _post(m, partner, attempts[m.pk]) for m in messages}
    try:
        results = response.json().get("results")
    except (ValueError, AttributeError):
        results = None
    if response.status_code != 200 or not isinstance(results, list) \
            or len(results) != len(messages):
        for attempt in attempts.values():
            attempt.http_status = response.status_code
        try:
            body = response.json()
            code = str(body.get("code", ""))[:40] if isinstance(body, dict) else ""
        except ValueError:
            code = ""
        return every(code or f"http_{response.status_code}", response.text[:500])
    outcomes = {}
    for message, result in zip(messages, results, strict=True):
        result = result if isinstance(result, dict) else {}
        status = result.get("http_status")
        outcomes[message.pk] = _outcome(message, partner, attempts[message.pk],
                                        status if isinstance(status, int) else 502, result)
    return outcomes


def _retry(message: OutboxMessage, attempt: DeliveryAttempt, code: str, text: str) -> dict:
    attempt.outcome, attempt.code, attempt.text = "retry", code, text
    return {"status": OutboxMessage.Status.QUEUED, "claimed_at": None,
            "next_attempt_at": timezone.now() + backoff(message.attempts + 1),
            "reason_code": code, "reason_text": text}


def _not_sendable(message: OutboxMessage, partner: Partner,
                  attempt: DeliveryAttempt) -> dict | None:
    """The outcome for a message that must not go out now (expired, or the partner suspended
    here), or None."""
    if message.expires_at <= timezone.now():
        attempt.outcome, attempt.code = "failed", "expired_undelivered"
        attempt.text = "The message expired before the partner received it."
        return {"status": OutboxMessage.Status.FAILED, "claimed_at": None,
                "reason_code": attempt.code, "reason_text": attempt.text}
    if partner.status != Partner.Status.ACTIVE:
        return _retry(message, attempt, "partner_suspended_here",
                      "This node has suspended the partner; waiting.")
    return None


def _headers() -> dict:
    return {"TRM-Sender": str(this_node().node_id)}


def _post(message: OutboxMessage, partner: Partner, attempt: DeliveryAttempt) -> dict:
    refused = _not_sendable(message, partner, attempt)
    if refused is not None:
        return refused
    try:
        response = client().post(
            partner.endpoint + ENDPOINT_PATH, content=message.sealed.encode("ascii"),
            headers={"Content-Type": "application/jose", **_headers()})
    except httpx.HTTPError as error:
        return _retry(message, attempt, "unreachable", f"{type(error).__name__}: {error}"[:500])
    try:
        body = response.json()
    except ValueError:
        body = {}
    return _outcome(message, partner, attempt, response.status_code,
                    body if isinstance(body, dict) else {}, response.text)


def _outcome(message: OutboxMessage, partner: Partner, attempt: DeliveryAttempt,
             http_status: int, body: dict, raw_text: str = "") -> dict:
    """The message's new state from what the partner answered for it."""
    attempt.http_status = http_status
    receipt = body.get("receipt") if isinstance(body.get("receipt"), str) else ""
    attempt.receipt = receipt
    code = str(body.get("code", ""))[:40]
    text = str(body.get("text", ""))[:2000]
    content = _read_receipt(receipt, partner, message) if receipt else None
    if http_status == 200 and content and content.get("status") in ("applied", "pending"):
        attempt.outcome = "receipt"
        return {"status": OutboxMessage.Status.RECEIPT, "claimed_at": None, "receipt": receipt,
                "receipt_status": content["status"], "delivered_at": timezone.now(),
                "reason_code": "", "reason_text": ""}
    if http_status == 200 and receipt and content is None:
        # A receipt this node cannot verify yet (signed with a key of the partner's rotation
        # that has not arrived here): ask again later; the partner answers a duplicate with
        # the receipt it stored.
        code = code or "receipt_unverified"
        text = text or "The partner's receipt does not verify with the keys of its card."
    code = code or f"http_{http_status}"
    text = text or raw_text[:500]
    if http_status in (429, 502, 503, 504) or http_status >= 500 or code in RETRYABLE_CODES:
        return _retry(message, attempt, code, text)
    attempt.outcome, attempt.code, attempt.text = "rejected", code, text
    return {"status": OutboxMessage.Status.FAILED, "claimed_at": None,
            "receipt": receipt if content else "", "receipt_status": "rejected" if content else "",
            "reason_code": attempt.code, "reason_text": attempt.text}


def _read_receipt(receipt: str, partner: Partner, message: OutboxMessage) -> dict | None:
    """The receipt's content if the partner signed it and it names this message's id and the
    digest of exactly what was sent; else None."""
    from opennrm.transnational.envelope import signed_header

    try:
        kid = signed_header(receipt).get("kid")
        key = partner_key(partner, "sig", kid if isinstance(kid, str) else "")
        if key is None:
            return None
        content = verify(receipt, key, typ=RECEIPT_TYP)
    except Rejection:
        return None
    if content.get("status") == "rejected":
        return content
    if content.get("message_id") != str(message.message_id) \
            or content.get("digest") != message.digest:
        return None
    return content


# --- after commit, the worker and the sweeper ----------------------------------------------

_threads: set[threading.Thread] = set()


def deliver_soon(pk: int) -> None:
    """Deliver now, in a thread of this process (called right after the sender's commit)."""
    def run():
        try:
            deliver(pk)
        except Exception:  # the worker tries again; never break the caller
            log.exception("delivery of outbox message %s after commit failed", pk)
        finally:
            connection.close()
            _threads.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=f"trm-deliver-{pk}", daemon=True)
    _threads.add(thread)
    thread.start()


def wait_for_deliveries(timeout: float = 30) -> None:
    """Wait for the threads `deliver_soon` started (a CLI command before it exits)."""
    deadline = time.monotonic() + timeout
    for thread in list(_threads):
        thread.join(max(0.0, deadline - time.monotonic()))


def sweep(lease: float | None = None) -> int:
    """Put back in the queue the messages claimed longer ago than the lease (their worker
    died between claiming and storing the answer). Returns how many."""
    lease = settings.OPENNRM_TRM_LEASE_SECONDS if lease is None else lease
    stale = timezone.now() - timedelta(seconds=lease)
    return OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENT, claimed_at__lt=stale).update(
        status=OutboxMessage.Status.QUEUED, claimed_at=None, next_attempt_at=timezone.now())


def due_by_partner(batch_size: int | None = None) -> dict[int, list[int]]:
    """Per partner (pk), its oldest queued messages whose time has come, at most a batch's
    worth for each: one partner's backlog never hides another's message."""
    batch_size = batch_size or settings.OPENNRM_TRM_BATCH_SIZE
    now = timezone.now()
    queued = OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED,
                                          next_attempt_at__lte=now)
    partners = queued.order_by().values_list("partner_id", flat=True).distinct()
    return {partner_pk: list(queued.filter(partner_id=partner_pk).order_by(
        "next_attempt_at", "pk").values_list("pk", flat=True)[:batch_size])
        for partner_pk in partners}


def run_worker(poll: float = 1.0, threads: int = 8, once: bool = False,
               sweep_every: float = 10.0) -> None:
    """The sender worker: deliver what is due in batches per partner, with a pool, at most
    OPENNRM_TRM_IN_FLIGHT batches per partner at a time; sleep until woken (PostgreSQL NOTIFY
    from send_message) or `poll` seconds."""
    listener = _listen()
    in_flight: dict[int, int] = {}
    # The circuit breaker: a partner that was down for a whole batch rests (no batch is sent
    # to it) for a backoff that grows with each failed probe; the next batch is the probe.
    resting: dict[int, tuple[float, int]] = {}  # partner pk → (until, failed probes)
    lock = threading.Lock()

    def rest_if_down(partner_pk: int, outcomes: dict[int, dict]) -> None:
        down = bool(outcomes) and all(outcome.get("reason_code") in PARTNER_DOWN_CODES
                                      for outcome in outcomes.values())
        with lock:
            if down:
                failed = resting.get(partner_pk, (0.0, 0))[1] + 1
                resting[partner_pk] = (time.monotonic() + backoff(failed).total_seconds(),
                                       failed)
            else:
                resting.pop(partner_pk, None)

    finished = threading.Event()  # a delivery ended: its partner may take the next one
    last_sweep = 0.0

    def job(pks: list[int], partner_pk: int) -> None:
        try:
            rest_if_down(partner_pk, deliver_claimed(pks))
        except Exception:
            log.exception("delivery of outbox messages %s failed", pks)
        finally:
            with lock:
                in_flight[partner_pk] -= 1
            finished.set()
            close_old_connections()

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="trm") as pool:
        while True:
            finished.clear()
            close_old_connections()
            if time.monotonic() - last_sweep > sweep_every:
                swept = sweep()
                if swept:
                    log.warning("requeued %d message(s) left by a dead worker", swept)
                last_sweep = time.monotonic()
            started = 0
            for partner_pk, pks in due_by_partner().items():
                with lock:
                    if not pks or in_flight.get(partner_pk, 0) >= settings.OPENNRM_TRM_IN_FLIGHT \
                            or resting.get(partner_pk, (0.0, 0))[0] > time.monotonic():
                        continue
                    in_flight[partner_pk] = in_flight.get(partner_pk, 0) + 1
                # Claimed here, before the next look, so that it never takes them again.
                claimed = claim_batch(pks)
                if not claimed:
                    with lock:
                        in_flight[partner_pk] -= 1
                    continue
                pool.submit(job, claimed, partner_pk)
                started += 1
            if once:
                pool.shutdown(wait=True)
                return
            with lock:
                busy = any(in_flight.values())
            if busy:
                # Deliveries in flight (a partner at its limit, or the last few): look again
                # as soon as one ends, not after a poll interval.
                finished.wait(poll)
            elif not started:
                _wait(listener, poll)


def _listen():
    """A separate PostgreSQL connection listening to send_message's NOTIFY, or None."""
    if connection.vendor != "postgresql":
        return None
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    conn = psycopg.connect(**params, autocommit=True)
    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
    return conn


def _wait(listener, poll: float) -> None:
    if listener is None:
        time.sleep(min(poll, 0.2))  # SQLite: a short poll (one file, no network)
        return
    for _ in listener.notifies(timeout=poll, stop_after=1):
        pass
