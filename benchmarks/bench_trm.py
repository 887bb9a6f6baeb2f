"""Benchmark the transnational channel: two nodes on loopback, each on a PostgreSQL database of
its own, messages signed, encrypted, delivered, applied and acknowledged.

Node MD (the sender) runs its `opennrm trm worker`; node UA (the receiver) runs gunicorn. This
process is node MD's writer: it calls `services.send_message` (sign + encrypt + outbox row,
committed) as a web request would, so "sender commit" is the moment its transaction commits,
and reads UA's database for the moment each message was applied. Measured, in one run:

* the crypto floor: sign+encrypt and decrypt+verify of one message with the envelope code,
  median over --crypto-messages;
* latency from sender commit to receiver applied at low load (one message every
  --latency-gap s), p50 and p95, for each way a message leaves: the worker woken by
  PostgreSQL NOTIFY, and the writing process's thread right after commit;
* throughput: --producers threads write messages for --duration s; messages applied per
  second (by the receiver, in that window) and acknowledged (receipts stored by the sender);
* a backlog: the receiver's server stopped, --backlog messages written (the worker tries and
  backs off), the server started again: the time until every one is applied and its receipt
  stored;
* in every phase: 0 lost (every message sent applied exactly once at the receiver), 0
  duplicated, every receipt stored; and where the time goes (queue wait, HTTP round trip).

The two databases are created with unique names on --server and dropped at the end.

    .venv/bin/python benchmarks/bench_trm.py --duration 60 --backlog 10000
"""

import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import harness
import psycopg

from opennrm.transnational.network import DemoNode

REPORT: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)
    REPORT.append(text)


def parse_args():
    parser = harness.parser(__doc__)
    parser.add_argument("--server", default=harness.database_url("postgres"),
                        help="PostgreSQL server (any database on it): the benchmark creates "
                             "two databases of its own there and drops them")
    parser.add_argument("--duration", type=float, default=60,
                        help="seconds of sustained load")
    parser.add_argument("--backlog", type=harness.positive, default=10_000,
                        help="messages written while the partner is down")
    parser.add_argument("--latency-messages", type=harness.positive, default=50)
    parser.add_argument("--latency-gap", type=float, default=0.2,
                        help="seconds between messages at low load")
    parser.add_argument("--crypto-messages", type=harness.positive, default=300)
    parser.add_argument("--producers", type=harness.positive, default=2,
                        help="threads writing messages in the throughput phase")
    parser.add_argument("--rate", type=float, default=0,
                        help="offered load in the throughput phase, messages/s in all "
                             "(0: the writers write as fast as they can)")
    parser.add_argument("--in-flight", type=harness.positive, default=4,
                        help="batches in flight to the partner (OPENNRM_TRM_IN_FLIGHT)")
    parser.add_argument("--gunicorn-workers", type=harness.positive, default=2)
    parser.add_argument("--gunicorn-threads", type=harness.positive, default=4)
    parser.add_argument("--output", type=Path, default=harness.RESULTS / "trm.md")
    parser.add_argument("--seed", type=int, default=harness.SEED)
    return parser.parse_args()


def percentile(values: list[float], share: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


# --- the nodes --------------------------------------------------------------------------------

NODE_SETTINGS = {
    "OPENNRM_DEBUG": "0", "OPENNRM_SSL_REDIRECT": "0",
    # The endpoint's per-sender rate limit (100 a second by default, per server process)
    # would be what is measured: raised for the benchmark.
    "OPENNRM_TRM_RATE_PER_MINUTE": "1000000",
}


def set_up(md: DemoNode, ua: DemoNode) -> None:
    threads = [threading.Thread(target=node.create, args=(None,)) for node in (md, ua)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not md.node_id or not ua.node_id:
        raise SystemExit("setting up the nodes failed (see above)")
    for node, other in ((md, ua), (ua, md)):
        node.opennrm("partner", "import", str(other.card_path), "--fingerprint",
                     other.fingerprint)
        node.opennrm("partner", "allow", other.node_id, "--types", "ping,pong")


def setup_django(md: DemoNode) -> None:
    """This process becomes node MD's writer (its settings, database and key ring)."""
    for key, value in md.env().items():
        os.environ[key] = value
    os.environ["OPENNRM_CLI"] = "1"
    os.environ["OPENNRM_TRM_DELIVER_ON_COMMIT"] = "0"  # switched on for one latency phase
    import django

    django.setup()


# --- measures ---------------------------------------------------------------------------------

def crypto_floor(md: DemoNode, ua: DemoNode, count: int) -> tuple[float, float]:
    """Median ms of sign+encrypt and of decrypt+verify, with the envelope's own functions and
    the nodes' own keys."""
    import uuid

    from opennrm.core.keyring import KeyRing
    from opennrm.transnational.envelope import decrypt, seal, signed_header, verify

    md_ring, ua_ring = KeyRing.load(md.home / "keyring.json"), KeyRing.load(ua.home /
                                                                            "keyring.json")
    kid, signing = md_ring.signing_private_key()
    enc = next(k for k in card(ua)["keys"]["keys"] if k["use"] == "enc")
    sig = next(k for k in card(md)["keys"]["keys"] if k["use"] == "sig")
    seal_ms, open_ms = [], []
    for number in range(count):
        now = int(time.time())
        content = {"message_id": str(uuid.uuid4()), "type": "pong", "schema_version": "1.0",
                   "sender": md.node_id, "recipient": ua.node_id, "issued_at": now,
                   "expires_at": now + 3600, "in_reply_to": None, "case_id": None,
                   "sequence": None, "consent_ref": "", "payload": {"text": f"m{number}"}}
        started = time.perf_counter()
        sealed = seal(content, signing, kid, enc, enc["kid"])
        seal_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        signed = decrypt(sealed.sealed.encode("ascii"), ua_ring.encryption_private_key)
        signed_header(signed)
        verify(signed, sig)
        open_ms.append((time.perf_counter() - started) * 1000)
    return statistics.median(seal_ms), statistics.median(open_ms)


def card(node: DemoNode) -> dict:
    import json

    return json.loads(node.card_path.read_text(encoding="utf-8"))


def send(partner, text: str) -> tuple[str, float]:
    """One message written and committed; (message id, wall time of the commit)."""
    from opennrm.transnational.services import send_message

    message = send_message(None, partner, "pong", {"text": text})
    return str(message.message_id), time.time()


def applied_at(ua: DemoNode, ids: list[str]) -> dict[str, float]:
    """UA's applied time of each message (Unix seconds), for those applied."""
    found = {}
    with psycopg.connect(ua.database_url) as conn:
        for start in range(0, len(ids), 5000):
            rows = conn.execute(
                "SELECT message_id::text, applied_at FROM transnational_inboxmessage "
                "WHERE message_id = ANY(%s::uuid[]) AND status = 'applied'",
                (ids[start:start + 5000],)).fetchall()
            found.update({row[0]: row[1].timestamp() for row in rows})
    return found


def check(ua: DemoNode, ids: list[str]) -> dict:
    """Lost and duplicated at the receiver, receipts at the sender, and where the time went."""
    from django.db.models import Count

    from opennrm.transnational.models import DeliveryAttempt, OutboxMessage

    with psycopg.connect(ua.database_url) as conn:
        rows = []
        for start in range(0, len(ids), 5000):
            rows += conn.execute(
                "SELECT message_id::text, count(*) FROM transnational_inboxmessage "
                "WHERE message_id = ANY(%s::uuid[]) AND status = 'applied' "
                "GROUP BY message_id", (ids[start:start + 5000],)).fetchall()
    counts = dict(rows)
    outbox = OutboxMessage.objects.filter(message_id__in=ids)
    attempts = DeliveryAttempt.objects.filter(message__message_id__in=ids)
    outcomes = dict(attempts.values_list("outcome").annotate(n=Count("id")))
    http = list(attempts.filter(outcome="receipt").values_list("milliseconds", flat=True))
    waits = [(first - created).total_seconds() * 1000 for created, first in outbox.filter(
        deliveries__outcome="receipt").values_list("created_at", "deliveries__at")]
    return {
        "sent": len(ids),
        "applied": sum(1 for message_id in ids if counts.get(message_id) == 1),
        "lost": sum(1 for message_id in ids if message_id not in counts),
        "duplicated": sum(count - 1 for count in counts.values() if count > 1),
        "receipts": outbox.filter(status__in=("receipt_received", "answered")).count(),
        "attempts": outcomes,
        "http_ms_p50": percentile(http, 0.5), "http_ms_p95": percentile(http, 0.95),
        "wait_ms_p50": percentile(waits, 0.5), "wait_ms_p95": percentile(waits, 0.95),
    }


def wait_all_receipts(ids: list[str], timeout: float) -> float:
    """Seconds until every message has its receipt stored at the sender (or the timeout)."""
    from opennrm.transnational.models import OutboxMessage

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        done = OutboxMessage.objects.filter(
            message_id__in=ids, status__in=("receipt_received", "answered")).count()
        if done == len(ids):
            return time.monotonic() - started
        time.sleep(0.1)
    return float("inf")


def latency(md, ua, partner, count: int, gap: float, after_commit: bool) -> tuple[dict, list]:
    from django.conf import settings

    settings.OPENNRM_TRM_DELIVER_ON_COMMIT = after_commit
    committed = {}
    for number in range(count):
        message_id, at = send(partner, f"latency {number}")
        committed[message_id] = at
        time.sleep(gap)
    settings.OPENNRM_TRM_DELIVER_ON_COMMIT = False
    ids = list(committed)
    wait_all_receipts(ids, 60)
    applied = applied_at(ua, ids)
    values = [(applied[i] - committed[i]) * 1000 for i in ids if i in applied]
    return {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
            "max": max(values, default=float("nan"))}, ids


def throughput(ua, partner, duration: float, producers: int,
               rate: float = 0) -> tuple[dict, list]:
    """Writers for `duration` s, as fast as they can (rate 0) or each at rate / producers
    messages a second (an offered load: the channel keeps up if it applies as many as were
    written in the window and is done soon after it)."""
    ids: list[str] = []
    lock = threading.Lock()
    begin = time.monotonic()
    stop = begin + duration
    window_start = time.time()
    gap = producers / rate if rate else 0.0

    def produce(worker: int) -> None:
        from django.db import connection

        number = 0
        while time.monotonic() < stop:
            if gap:
                wait = begin + (number + worker / producers) * gap - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            message_id, _ = send(partner, f"load {worker} {number}")
            number += 1
            with lock:
                ids.append(message_id)
        connection.close()

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    window_end = time.time()
    drain = wait_all_receipts(ids, 600)
    applied = applied_at(ua, ids)
    in_window = sum(1 for at in applied.values() if window_start <= at <= window_end)
    return {"written": len(ids), "written_per_s": len(ids) / (window_end - window_start),
            "applied_per_s": in_window / (window_end - window_start),
            "all_done_s": (window_end - window_start) + drain,
            "done_after_window_s": drain}, ids


def backlog(md, ua, partner, count: int, args) -> tuple[dict, list]:
    ua.stop_server()
    started = time.monotonic()
    ids = [send(partner, f"backlog {number}")[0] for number in range(count)]
    written = time.monotonic() - started
    ua.start(server=True, worker=False, gunicorn_workers=args.gunicorn_workers,
             gunicorn_threads=args.gunicorn_threads)
    up = time.monotonic()
    drain = wait_all_receipts(ids, 900)
    return {"written_s": written, "outage_s": up - started, "drain_s": drain}, ids


# --- where the CPU goes --------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, command line, CPU seconds) of every process this user can read."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        found.append((int(entry.name), int(fields[1]), cmdline,
                      (int(fields[11]) + int(fields[12])) / TICK))
    return found


def cpu_by_part(md: DemoNode, ua: DemoNode) -> dict[str, float]:
    """CPU seconds used so far by each part of the path (PostgreSQL backends by database
    name, when the server runs on this machine)."""
    processes = _processes()
    server = ua.server.pid if ua.server else -1
    worker = next((p.pid for p in md.processes if p is not md.server), -1)
    parts = {"writer (this process: sign, encrypt, outbox row)": 0.0,
             "MD trm worker (claim, POST, receipt, attempt row)": 0.0,
             "UA gunicorn (endpoint: decrypt, verify, apply, receipt)": 0.0,
             "PostgreSQL, MD database": 0.0, "PostgreSQL, UA database": 0.0}
    names = list(parts)
    for pid, ppid, cmdline, seconds in processes:
        if pid == os.getpid():
            parts[names[0]] += seconds
        elif pid == worker:
            parts[names[1]] += seconds
        elif server in (pid, ppid):
            parts[names[2]] += seconds
        elif md.pg_name and md.pg_name in cmdline:
            parts[names[3]] += seconds
        elif ua.pg_name and ua.pg_name in cmdline:
            parts[names[4]] += seconds
    return parts


# --- main ---------------------------------------------------------------------------------------

def main() -> int:
    args = parse_args()
    try:
        psycopg.connect(args.server, connect_timeout=5).close()
    except psycopg.Error as error:
        raise SystemExit(f"the benchmark needs PostgreSQL at {args.server}: {error}") from None
    home = Path(tempfile.mkdtemp(prefix="opennrm-bench-trm-"))
    md = DemoNode("MD", home / "md", pg_server=args.server, settings={
        **NODE_SETTINGS, "OPENNRM_TRM_IN_FLIGHT": str(args.in_flight)})
    ua = DemoNode("UA", home / "ua", pg_server=args.server, settings=dict(NODE_SETTINGS))
    failures = 0
    try:
        say("# OpenNRM transnational channel benchmark")
        say()
        say(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f} at the start (a shared machine: figures are noisy)")
        set_up(md, ua)
        md.start(server=False, worker=True)
        ua.start(server=True, worker=False, gunicorn_workers=args.gunicorn_workers,
                 gunicorn_threads=args.gunicorn_threads)
        say(f"Nodes: MD (writer + `opennrm trm worker`, {args.in_flight} batches in flight) and "
            f"UA (gunicorn {args.gunicorn_workers} "
            f"workers × {args.gunicorn_threads} threads), PostgreSQL databases {md.pg_name}, "
            f"{ua.pg_name}; message type pong (no personal data, nothing to do on apply)")
        setup_django(md)
        from opennrm.transnational.models import Partner

        partner = Partner.objects.get(country="UA")
        _, warm = latency(md, ua, partner, 5, 0.05, after_commit=False)  # warm up both ends

        seal_ms, open_ms = crypto_floor(md, ua, args.crypto_messages)
        floor = seal_ms + open_ms
        say()
        say(f"## Crypto floor (median of {args.crypto_messages}, this process)")
        say()
        say("| step | ms per message |")
        say("| --- | ---: |")
        say(f"| sign + encrypt | {seal_ms:.2f} |")
        say(f"| decrypt + verify | {open_ms:.2f} |")
        say(f"| floor (both) | {floor:.2f} (= {1000 / floor:.0f} messages/s on one core) |")

        rows = []
        checks = []
        for name, after_commit in (("worker woken by NOTIFY", False),
                                   ("thread after commit", True)):
            figures, ids = latency(md, ua, partner, args.latency_messages, args.latency_gap,
                                   after_commit)
            checks.append((f"latency, {name}", check(ua, ids)))
            rows.append((name, figures))
        say()
        say(f"## Latency, sender commit → receiver applied ({args.latency_messages} messages, "
            f"one every {args.latency_gap} s)")
        say()
        say("| delivered by | p50 ms | p95 ms | max ms | ratio p50 / crypto floor |")
        say("| --- | ---: | ---: | ---: | ---: |")
        for name, figures in rows:
            say(f"| {name} | {figures['p50']:.0f} | {figures['p95']:.0f} | "
                f"{figures['max']:.0f} | {figures['p50'] / floor:.0f} |")

        cpu_before = cpu_by_part(md, ua)
        wall_before = time.monotonic()
        figures, ids = throughput(ua, partner, args.duration, args.producers, args.rate)
        wall = time.monotonic() - wall_before
        cpu_after = cpu_by_part(md, ua)
        result = check(ua, ids)
        checks.append(("throughput", result))
        say()
        offered = f"offered {args.rate:g}/s" if args.rate else "as fast as they can"
        say(f"## Throughput ({args.duration:g} s, {args.producers} writing threads, "
            f"{offered}; the worker delivering)")
        say()
        say("| written/s | applied/s (in the window) | all acknowledged after s "
            "(after the window's end) | per message, whole path ms | ratio to the crypto "
            "floor |")
        say("| ---: | ---: | ---: | ---: | ---: |")
        per_message = 1000 / figures["applied_per_s"] if figures["applied_per_s"] else 0
        say(f"| {figures['written_per_s']:.0f} | {figures['applied_per_s']:.0f} | "
            f"{figures['all_done_s']:.1f} ({figures['done_after_window_s']:.1f}) | "
            f"{per_message:.2f} | {per_message / floor:.1f} |")

        say()
        say(f"CPU used during the throughput phase ({len(ids)} messages, {wall:.1f} s wall, "
            f"{os.cpu_count()} cores):")
        say()
        say("| part | CPU s | CPU ms per message |")
        say("| --- | ---: | ---: |")
        total = 0.0
        for part, seconds in cpu_after.items():
            used = seconds - cpu_before[part]
            total += used
            say(f"| {part} | {used:.1f} | {used * 1000 / max(len(ids), 1):.2f} |")
        say(f"| **all** | {total:.1f} | {total * 1000 / max(len(ids), 1):.2f} |")

        figures, ids = backlog(md, ua, partner, args.backlog, args)
        checks.append(("backlog", check(ua, ids)))
        say()
        say(f"## Backlog of {args.backlog} messages after a partner outage")
        say()
        say("| written while down s | outage s | drained after restart s | messages/s |")
        say("| ---: | ---: | ---: | ---: |")
        say(f"| {figures['written_s']:.1f} | {figures['outage_s']:.1f} | "
            f"{figures['drain_s']:.1f} | {args.backlog / figures['drain_s']:.0f} |")

        say()
        say("## Exactly once, and where the time goes")
        say()
        say("| phase | sent | applied once | lost | duplicated | receipts stored | attempts "
            "(outcome: n) | queue wait p50/p95 ms | HTTP round trip p50/p95 ms |")
        say("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
        for name, result in checks:
            failures += result["lost"] + result["duplicated"] + (
                result["sent"] - result["receipts"])
            attempts = ", ".join(f"{k}: {v}" for k, v in sorted(result["attempts"].items()))
            say(f"| {name} | {result['sent']} | {result['applied']} | {result['lost']} | "
                f"{result['duplicated']} | {result['receipts']} | {attempts} | "
                f"{result['wait_ms_p50']:.0f}/{result['wait_ms_p95']:.0f} | "
                f"{result['http_ms_p50']:.0f}/{result['http_ms_p95']:.0f} |")
        say()
        say("0 lost, 0 duplicated: " + ("yes" if failures == 0 else f"NO ({failures})"))
    finally:
        for node in (md, ua):
            node.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        for node in (md, ua):
            node.drop_database()
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(REPORT) + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
