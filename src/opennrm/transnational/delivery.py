"""Delivering the outbox: claim a due message, POST it to the partner's node-to-node
endpoint, store what it answered.

* A message is claimed by a conditional UPDATE (queued and due → sent, claimed now), so the
  worker and the on-commit thread never both send it; a duplicate send would be harmless
  anyway (the receiver answers it with its stored receipt).
* A failure that may pass (no connection, a timeout, 5xx, 429, a suspension) sets the next
  attempt after an exponential backoff with full jitter, capped (django-tasks has no
  retries: the outbox keeps its own attempt count and next-attempt time). A refusal that
  will not pass (a signed rejection: expired, invalid, not allowed…) fails the message with
  the partner's reason; the administrator may retry or abandon it.
* The sweeper takes back messages left claimed longer than the lease by a worker that died.
* Each partner's messages are delivered by the worker's pool with at most a few in flight
  per partner, and a short timeout, so a slow or absent partner never holds up another.
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
from django.db.models import Q
from django.utils import timezone

from opennrm.transnational.envelope import RECEIPT_TYP, Rejection, verify
from opennrm.transnational.identity import partner_key, this_node
from opennrm.transnational.models import DeliveryAttempt, OutboxMessage, Partner
from opennrm.transnational.services import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

ENDPOINT_PATH = "/trm/v1/messages"
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# Codes a partner may answer that will pass: try again later.
RETRYABLE_CODES = {"rate_limited", "partner_suspended", "handler_failed", "unknown_sender"}
PER_PARTNER_IN_FLIGHT = 8
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
        OutboxMessage.objects.filter(pk=pk).update(**outcome, attempts=message.attempts + 1)
        if message.attempts and outcome["status"] == OutboxMessage.Status.RECEIPT:
            # The partner answers again after failures: what waits for it in backoff is due
            # now (after an outage, the backlog drains at once, not over the backoff).
            OutboxMessage.objects.filter(
                partner=partner, status=OutboxMessage.Status.QUEUED,
                reason_code__in=PARTNER_DOWN_CODES, next_attempt_at__gt=timezone.now(),
            ).update(next_attempt_at=timezone.now())
    return outcome["status"]


def _post(message: OutboxMessage, partner: Partner, attempt: DeliveryAttempt) -> dict:
    attempts = message.attempts + 1
    retry = {"status": OutboxMessage.Status.QUEUED, "claimed_at": None,
             "next_attempt_at": timezone.now() + backoff(attempts)}
    if message.expires_at <= timezone.now():
        attempt.outcome, attempt.code = "failed", "expired_undelivered"
        attempt.text = "The message expired before the partner received it."
        return {"status": OutboxMessage.Status.FAILED, "claimed_at": None,
                "reason_code": attempt.code, "reason_text": attempt.text}
    if partner.status != Partner.Status.ACTIVE:
        attempt.outcome, attempt.code = "retry", "partner_suspended_here"
        attempt.text = "This node has suspended the partner; waiting."
        return {**retry, "reason_code": attempt.code, "reason_text": attempt.text}
    try:
        response = client().post(
            partner.endpoint + ENDPOINT_PATH, content=message.sealed.encode("ascii"),
            headers={"Content-Type": "application/jose", "TRM-Sender": str(this_node().node_id)})
    except httpx.HTTPError as error:
        attempt.outcome, attempt.code = "retry", "unreachable"
        attempt.text = f"{type(error).__name__}: {error}"[:500]
        return {**retry, "reason_code": attempt.code, "reason_text": attempt.text}
    attempt.http_status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    receipt = body.get("receipt") if isinstance(body.get("receipt"), str) else ""
    attempt.receipt = receipt
    code = str(body.get("code", ""))[:40]
    text = str(body.get("text", ""))[:2000]
    content = _read_receipt(receipt, partner, message) if receipt else None
    if response.status_code == 200 and content and content.get("status") in (
            "applied", "pending"):
        attempt.outcome = "receipt"
        return {"status": OutboxMessage.Status.RECEIPT, "claimed_at": None, "receipt": receipt,
                "receipt_status": content["status"], "delivered_at": timezone.now(),
                "reason_code": "", "reason_text": ""}
    attempt.code = code or f"http_{response.status_code}"
    attempt.text = text or response.text[:500]
    if (response.status_code in (429, 502, 503, 504) or response.status_code >= 500
            or code in RETRYABLE_CODES):
        attempt.outcome = "retry"
        return {**retry, "reason_code": attempt.code, "reason_text": attempt.text}
    attempt.outcome = "rejected"
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


def due(limit: int = 200) -> list[tuple[int, int]]:
    """(message pk, partner pk) of queued messages whose time has come, oldest first."""
    return list(OutboxMessage.objects.filter(
        Q(status=OutboxMessage.Status.QUEUED), next_attempt_at__lte=timezone.now(),
    ).order_by("next_attempt_at", "pk").values_list("pk", "partner_id")[:limit])


def run_worker(poll: float = 1.0, threads: int = 8, once: bool = False,
               sweep_every: float = 10.0) -> None:
    """The sender worker: deliver what is due with a pool, at most PER_PARTNER_IN_FLIGHT per
    partner; sleep until woken (PostgreSQL NOTIFY from send_message) or `poll` seconds."""
    listener = _listen()
    in_flight: dict[int, int] = {}
    lock = threading.Lock()
    finished = threading.Event()  # a delivery ended: its partner may take the next one
    last_sweep = 0.0

    def job(pk: int, partner_pk: int) -> None:
        try:
            deliver(pk)
        except Exception:
            log.exception("delivery of outbox message %s failed", pk)
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
            for pk, partner_pk in due():
                with lock:
                    if in_flight.get(partner_pk, 0) >= PER_PARTNER_IN_FLIGHT:
                        continue
                    in_flight[partner_pk] = in_flight.get(partner_pk, 0) + 1
                pool.submit(job, pk, partner_pk)
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
