"""Benchmark linkage across nodes end to end: three nodes (MD hosts, UA and RO take part),
each with about --persons-per-node generated persons, linked over the transnational channel.

Each node is a real one (gunicorn, `opennrm trm worker`, its own database and key ring; UA on
PostgreSQL when --database-url names a server, MD and RO on SQLite). The persons come from one
generated register (`crossborder.testdata`: some persons in two or three countries, names in
Latin and Cyrillic spellings), seeded with `crossborder_seed_test_persons`. Measured, wall
time:

* encode: each node decrypting its persons and encoding them, with the outbox rows written
  (MD keeps its own; UA and RO queue theirs to MD);
* send: from the last join until MD holds every party's chunks;
* link at host: MD linking every pair of parties and queuing each party's groups;
* groups back: from MD's result until UA and RO have applied theirs;
and the marks' precision and recall against the generated truth.

    .venv/bin/python benchmarks/bench_crossborder.py --persons-per-node 100000
"""

import json
import sqlite3
import textwrap
import threading
import time
import uuid
from pathlib import Path

import harness

from opennrm.linkage import crossborder
from opennrm.linkage.crossborder.testdata import known_elsewhere, network_register, persons_for
from opennrm.transnational.network import DemoNetwork, DemoNode

COUNTRIES = ["MD", "UA", "RO"]
# The linkage message types (from the app's schemas: this process does not set Django up).
MESSAGE_TYPES = sorted(path.name.split(".v")[0] for path in
                       (Path(crossborder.__file__).parent / "schemas").glob("*.v1.json"))
SECRET = "the phrase the coordinators agreed for the benchmark"
REPORT: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)
    REPORT.append(text)


def parse_args():
    parser = harness.parser(__doc__)
    parser.add_argument("--persons-per-node", type=harness.positive, default=100_000)
    parser.add_argument("--database-url", default=harness.database_url("postgres"),
                        help="PostgreSQL server for UA's database ('' : every node on SQLite)")
    parser.add_argument("--seed", type=int, default=harness.SEED)
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds to wait for each phase")
    parser.add_argument("--output", type=Path, default=harness.RESULTS / "crossborder.md")
    return parser.parse_args()


def shell(node: DemoNode, code: str) -> str:
    return node.opennrm("manage", "shell", "-c", textwrap.dedent(code), timeout=7200).stdout


def line(out: str, tag: str) -> list[str]:
    return next(row for row in out.splitlines() if row.startswith(tag)).split()[1:]


def sql(node: DemoNode, query: str) -> list[tuple]:
    if node.pg_server:
        import psycopg

        with psycopg.connect(node.database_url) as conn:
            return conn.execute(query.replace("?", "%s")).fetchall()
    with sqlite3.connect(node.home / "node.sqlite3", timeout=30) as conn:
        return conn.execute(query).fetchall()


def state(node: DemoNode, round_id: str) -> str:
    value = round_id if node.pg_server else uuid.UUID(round_id).hex
    rows = sql(node, f"SELECT state FROM crossborder_linkageround WHERE round_id = '{value}'")
    return rows[0][0] if rows else ""


def wait(condition, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def seed(node: DemoNode, persons: int, seed_value: int) -> None:
    shell(node, f"""
        from django.core.management import call_command
        from opennrm.linkage.crossborder import services
        from opennrm.transnational.models import Partner
        services.create_agreement(None, "MD-UA-RO", Partner.objects.all(), {SECRET!r})
        call_command("crossborder_seed_test_persons", country="{node.country}",
                     countries="{','.join(COUNTRIES)}", persons={persons}, seed={seed_value},
                     truth="{node.home}/truth.json")
    """)


def in_parallel(work, nodes) -> None:
    errors: list[BaseException] = []

    def run(node):
        try:
            work(node)
        except BaseException as error:  # reported once every thread ended
            errors.append(error)

    threads = [threading.Thread(target=run, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def quality(network: DemoNetwork, persons: int, seed_value: int) -> tuple[float, float, int]:
    spread = network_register(persons, seed_value, COUNTRIES)
    truth = known_elsewhere(spread)
    found = expected = hits = 0
    for node in network.nodes:
        person_of = json.loads((node.home / "truth.json").read_text(encoding="utf-8"))
        marked = {(person_of[str(uuid.UUID(str(global_id)))], country)
                  for global_id, country in sql(node, (
                      "SELECT p.global_id, m.country FROM crossborder_presenceabroad m "
                      "JOIN cases_person p ON p.id = m.person_id"))}
        wanted = {(person, other) for person, others in truth[node.country].items()
                  for other in others}
        found, expected = found + len(marked), expected + len(wanted)
        hits += len(marked & wanted)
    return hits / max(found, 1), hits / max(expected, 1), expected


def main() -> None:
    args = parse_args()
    persons = persons_for(args.persons_per_node, COUNTRIES)
    # The network's own folder and databases, removed when it ends.
    with DemoNetwork(COUNTRIES, database_url=args.database_url, demo_cases=None,
                     seed=args.seed, say=lambda text: None) as network:
        md, ua, ro = (network.node(country) for country in COUNTRIES)
        for node in network.nodes:
            for other in network.nodes:
                if other is not node:
                    node.opennrm("partner", "allow", other.node_id, "--types",
                                 ",".join(("ping", "pong", *MESSAGE_TYPES)))
        started = time.monotonic()
        in_parallel(lambda node: seed(node, persons, args.seed), network.nodes)
        counts = {node.country: sql(node, "SELECT count(*) FROM cases_person")[0][0]
                  for node in network.nodes}
        say(f"{persons:,} generated persons over {', '.join(COUNTRIES)}: "
            + ", ".join(f"{country} {count:,}" for country, count in counts.items())
            + f" persons (seeded in {time.monotonic() - started:.0f} s); "
            + ", ".join(f"{node.country} on {node.database.split()[0]}"
                        for node in network.nodes))

        opened = time.monotonic()
        out = shell(md, """
            import time
            from opennrm.linkage.crossborder import services
            from opennrm.linkage.crossborder.models import LinkageAgreement
            started = time.monotonic()
            r = services.open_round(None, LinkageAgreement.objects.get(name="MD-UA-RO"), [],
                                    background=False)
            print("ROUND", r.round_id, time.monotonic() - started)
        """)
        round_id, md_encode = line(out, "ROUND")
        encode = {"MD": float(md_encode)}
        for node in (ua, ro):
            wait(lambda node=node: state(node, round_id) == "invited", args.timeout,
                 f"{node.country}'s invitation")

        def join(node: DemoNode) -> None:
            out = shell(node, f"""
                import time
                from opennrm.linkage.crossborder import services
                from opennrm.linkage.crossborder.models import LinkageRound
                started = time.monotonic()
                services.join_round(None, LinkageRound.objects.get(round_id="{round_id}"),
                                    background=False)
                print("JOINED", time.monotonic() - started)
            """)
            encode[node.country] = float(line(out, "JOINED")[0])

        in_parallel(join, (ua, ro))
        joined = time.monotonic()
        all_in = wait(lambda: state(md, round_id) in ("linking", "linked"), args.timeout,
                      "every party's encodings at MD")
        linked = wait(lambda: state(md, round_id) == "linked", args.timeout, "MD's linking")
        back = wait(lambda: all(state(node, round_id) == "linked" for node in (ua, ro)),
                    args.timeout, "the groups at UA and RO")
        chunks = sql(md, "SELECT country, chunks_expected, records FROM crossborder_roundparty")
        precision, recall, expected = quality(network, persons, args.seed)

    say("")
    say("| phase | wall time (s) |")
    say("| --- | --- |")
    for country in COUNTRIES:
        say(f"| encode at {country} (decrypt, encode, queue) | {encode[country]:.1f} |")
    say(f"| send: last join → every chunk at MD | {all_in - joined:.1f} |")
    say(f"| link at host (MD) | {linked - all_in:.1f} |")
    say(f"| groups back to UA and RO | {back - linked:.1f} |")
    say(f"| total, round opened → every node marked | {back - opened:.1f} |")
    say("")
    say("Chunks (records) per party at MD: " + ", ".join(
        f"{country} {count} ({records:,})" for country, count, records in sorted(chunks)))
    say(f"Marks: precision {precision:.3f}, recall {recall:.3f} over {expected:,} true "
        "\"also known in\" marks")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("# OpenNRM linkage across nodes: benchmark\n\n" + "\n".join(REPORT)
                           + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
