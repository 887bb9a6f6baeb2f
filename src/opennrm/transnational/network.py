"""A demonstration network of national nodes on this computer (`opennrm demo-network`).

One node per country, each with its own database (a SQLite file; every second node on
PostgreSQL when DATABASE_URL points to a PostgreSQL server: a database created there with a
unique name and dropped at the end), its own key ring and var folder in a temporary folder,
a gunicorn server on a free loopback port and its own `opennrm trm worker`. The nodes are
set up as administrators would, with the CLI: migrate, `node init`, `node card`, `partner
import` with the fingerprint the partner's `node card` printed, `partner allow` with every
message type the partner serves; then a small synthetic demo is loaded on each.

The nodes are throw-away and run with DEBUG on, like `opennrm run`: the demo's users have
published passwords. Each node has its own cookie names (cookies ignore ports).

This module starts and stops processes and reads what they print; it imports nothing of
Django, and every step goes through the nodes' own CLI and HTTP endpoints.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

BIN = Path(sys.executable).parent
COUNTRY_NAMES = {"MD": "Moldova", "UA": "Ukraine", "RO": "Romania", "PL": "Poland",
                 "TR": "Türkiye", "BG": "Bulgaria", "GE": "Georgia", "AM": "Armenia"}


class NetworkError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_postgres(url: str) -> bool:
    return urlsplit(url or "").scheme in ("postgres", "postgresql", "pgsql")


@dataclass
class DemoNode:
    country: str
    home: Path
    pg_server: str = ""  # a PostgreSQL URL: this node's database is created on that server
    port: int = field(default_factory=free_port)
    pg_name: str = ""
    node_id: str = ""
    fingerprint: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)
    logins: str = ""
    settings: dict = field(default_factory=dict)
    server: subprocess.Popen | None = None  # OPENNRM_* over the demo's (benchmarks)

    @property
    def name(self) -> str:
        return f"{COUNTRY_NAMES.get(self.country, self.country)} NRM (demo)"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> str:
        return f"PostgreSQL {self.pg_name}" if self.pg_server else "SQLite"

    @property
    def database_url(self) -> str:
        if self.pg_server:
            return urlunsplit(urlsplit(self.pg_server)._replace(path=f"/{self.pg_name}"))
        return f"sqlite:///{self.home / 'node.sqlite3'}"

    @property
    def card_path(self) -> Path:
        return self.home / "card.json"

    def env(self) -> dict:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("OPENNRM_", "DATABASE_URL"))}
        cookie = self.country.lower()
        env.update({
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                     "opennrm.settings"),
            "DATABASE_URL": self.database_url,
            "OPENNRM_KEYRING": str(self.home / "keyring.json"),
            "OPENNRM_VAR_DIR": str(self.home / "var"),
            "OPENNRM_COUNTRY": self.country,
            "OPENNRM_DEBUG": "1",
            "OPENNRM_SECRET_KEY": secrets.token_urlsafe(40),
            "OPENNRM_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "OPENNRM_BASE_URL": self.url,
            "OPENNRM_SESSION_COOKIE_NAME": f"opennrm_{cookie}_session",
            "OPENNRM_CSRF_COOKIE_NAME": f"opennrm_{cookie}_csrf",
            # A demo: retries within seconds, not minutes.
            "OPENNRM_TRM_BACKOFF_BASE_SECONDS": "0.5",
            "OPENNRM_TRM_BACKOFF_MAX_SECONDS": "5",
            "OPENNRM_TRM_LEASE_SECONDS": "15",
            "COLUMNS": "250",
        })
        env.update(self.settings)
        return env

    def opennrm(self, *args: str, check: bool = True, timeout: float = 600
                ) -> subprocess.CompletedProcess:
        result = subprocess.run([str(BIN / "opennrm"), *args], env=self.env(),
                                capture_output=True, text=True, timeout=timeout,
                                cwd=self.home)
        if check and result.returncode != 0:
            raise NetworkError(f"{self.country}: opennrm {' '.join(args)} failed:\n"
                               f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    # --- life cycle ----------------------------------------------------------------------
    def create(self, demo_cases: int | None, seed: int = 2026) -> None:
        """The database, migrated; the node's identity and card; the demo (unless None)."""
        self.home.mkdir(parents=True, exist_ok=True)
        if self.pg_server:
            import psycopg
            from psycopg import sql

            self.pg_name = f"opennrm_demo_{self.country.lower()}_{secrets.token_hex(5)}"
            with psycopg.connect(self.pg_server, autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.pg_name)))
        self.opennrm("migrate")
        out = self.opennrm("node", "init", "--country", self.country, "--name", self.name,
                           "--endpoint", self.url).stdout
        self.node_id = out.split()[1]
        out = self.opennrm("node", "card", "--output", str(self.card_path)).stdout
        self.fingerprint = out.strip().splitlines()[-1].split(":", 1)[1].strip()
        if demo_cases is None:
            return
        out = self.opennrm("demo", "--cases", str(demo_cases), "--seed", str(seed)).stdout
        self.logins = out[out.find("Demo logins"):] if "Demo logins" in out else ""

    def start(self, server: bool = True, worker: bool = True, gunicorn_workers: int = 2,
              gunicorn_threads: int = 2) -> None:
        def spawn(args: list[str], log_name: str) -> subprocess.Popen:
            log = (self.home / log_name).open("ab")
            # Its own session: Ctrl-C reaches this process only, which ends them in order.
            process = subprocess.Popen(args, env=self.env(), cwd=self.home, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
            self.processes.append(process)
            return process

        if worker:
            spawn([str(BIN / "opennrm"), "trm", "worker", "--poll", "1"], "trm-worker.log")
        if not server:
            return
        server = spawn([str(BIN / "gunicorn"), "opennrm.wsgi", "-b", f"127.0.0.1:{self.port}",
                        "-w", str(gunicorn_workers), "--threads", str(gunicorn_threads),
                        "--graceful-timeout", "3"], "server.log")
        self.server = server
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise NetworkError(f"{self.country}'s server exited; see "
                                   f"{self.home / 'server.log'}")
            try:
                if httpx.get(self.url + "/trm/v1/card", timeout=3).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise NetworkError(f"{self.country}'s server did not answer at {self.url}")

    def served_types(self) -> list[str]:
        """The message types this node has schemas for (its GET /trm/v1/schemas)."""
        return sorted(httpx.get(self.url + "/trm/v1/schemas", timeout=10).json()["types"])

    def stop(self) -> None:
        for process in reversed(self.processes):
            end_process(process)
        self.processes.clear()
        self.server = None

    def stop_server(self) -> None:
        if self.server is not None:
            end_process(self.server)
            self.processes.remove(self.server)
            self.server = None

    def drop_database(self) -> None:
        if self.pg_server and self.pg_name:
            import psycopg
            from psycopg import sql

            with psycopg.connect(self.pg_server, autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.pg_name)))
            self.pg_name = ""


def end_process(process: subprocess.Popen, grace: float = 15) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class DemoNetwork:
    """Nodes of `countries` on loopback; a context manager that ends every process it
    started and drops the PostgreSQL databases it created."""

    def __init__(self, countries: list[str], *, database_url: str = "", demo_cases: int = 30,
                 seed: int = 2026, home: Path | None = None, keep: bool = False,
                 say: Callable[[str], None] = print):
        countries = [c.strip().upper() for c in countries if c.strip()]
        if len(countries) < 2 or len(set(countries)) != len(countries):
            raise NetworkError("give at least two different countries, e.g. MD,UA,RO")
        self.say = say
        self.keep = keep
        self.demo_cases = demo_cases
        self.seed = seed
        self.own_home = home is None
        self.home = Path(home or tempfile.mkdtemp(prefix="opennrm-demo-network-"))
        pg = database_url if is_postgres(database_url) else ""
        self.nodes = [DemoNode(country, self.home / country.lower(),
                               pg_server=pg if index % 2 == 1 else "")
                      for index, country in enumerate(countries)]

    def __enter__(self) -> "DemoNetwork":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def node(self, country: str) -> DemoNode:
        return next(node for node in self.nodes if node.country == country.upper())

    def start(self) -> None:
        self.say(f"Setting up {len(self.nodes)} nodes in {self.home} …")
        errors: list[BaseException] = []

        def create(node: DemoNode) -> None:
            try:
                started = time.monotonic()
                node.create(self.demo_cases, self.seed)
                self.say(f"  {node.country}: node {node.node_id} on {node.database}, "
                         f"{self.demo_cases} demo cases ({time.monotonic() - started:.0f} s)")
            except BaseException as error:  # reported after every thread ended
                errors.append(error)

        threads = [threading.Thread(target=create, args=(node,)) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        for node in self.nodes:
            node.start()
        self.exchange_cards()

    def exchange_cards(self) -> None:
        """Every node imports every other's card, checked against the fingerprint that
        node's `node card` printed (read out over the phone, in real life), and allows
        every message type both serve."""
        served = {node.country: set(node.served_types()) for node in self.nodes}
        for node in self.nodes:
            for other in self.nodes:
                if other is node:
                    continue
                node.opennrm("partner", "import", str(other.card_path),
                             "--fingerprint", other.fingerprint)
                types = sorted(served[node.country] & served[other.country])
                node.opennrm("partner", "allow", other.node_id, "--types", ",".join(types))
            self.say(f"  {node.country}: imported the cards of "
                     f"{', '.join(o.country for o in self.nodes if o is not node)} "
                     f"(fingerprints checked); allowed {len(served[node.country])} message "
                     f"types")

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        for node in self.nodes:
            try:
                node.drop_database()
            except Exception as error:  # report, and go on ending the rest
                self.say(f"could not drop {node.country}'s database {node.pg_name}: {error}")
        if self.own_home and not self.keep:
            shutil.rmtree(self.home, ignore_errors=True)

    def pids(self) -> list[int]:
        return [process.pid for node in self.nodes for process in node.processes]

    def describe(self) -> str:
        lines = ["", "Nodes (synthetic data only):"]
        for node in self.nodes:
            lines.append(f"  {node.country}  {node.url}/  node {node.node_id}  "
                         f"{node.database}  fingerprint {node.fingerprint}")
            lines.append(f"      files and logs: {node.home}")
        lines.append(f"Processes: {' '.join(str(pid) for pid in self.pids())}")
        logins = self.nodes[0].logins
        if logins:
            lines += ["", "Every node has the same demo users:", logins.rstrip()]
        return "\n".join(lines)


# --- scenarios ---------------------------------------------------------------------------

@dataclass
class Step:
    title: str
    run: Callable[[], str]  # returns what to print beside "ok"; raises on failure


def _evidence(node: DemoNode, message_id: str) -> dict:
    return json.loads(node.opennrm("trm", "evidence", message_id).stdout)


def _wait(condition: Callable[[], object], timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise NetworkError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def ping_steps(sender: DemoNode, recipient: DemoNode, timeout: float = 60) -> list[Step]:
    """A ping answered with a pong, each with its signed receipt."""
    state: dict = {}

    def send() -> str:
        out = sender.opennrm("trm", "ping", recipient.node_id, "--text",
                             f"hello from {sender.country}").stdout
        message_id, status = out.split()[0].rstrip(":"), out.split()[1]
        state["ping"] = message_id
        if status not in ("receipt_received", "answered", "queued", "sent"):
            raise NetworkError(f"ping {message_id}: {out.strip()}")
        return f"message {message_id}, {status}"

    def received() -> str:
        found = _wait(lambda: _received(recipient, state["ping"]), timeout,
                      f"{recipient.country} to apply the ping")
        return f"{recipient.country} applied it; its receipt is signed " \
               f"({len(found['receipt'])} characters)"

    def receipt() -> str:
        found = _wait(lambda: (e := _evidence(sender, state["ping"]))["receipt"] and e,
                      timeout, f"{sender.country} to store {recipient.country}'s receipt")
        return f"{sender.country} stored the receipt ({found['status']})"

    def pong() -> str:
        _wait(lambda: _evidence(sender, state["ping"])["status"] == "answered", timeout,
              f"{recipient.country}'s pong to be applied at {sender.country}")
        return f"the ping is answered at {sender.country}"

    return [
        Step(f"{sender.country} sends a ping to {recipient.country} (signed, encrypted)", send),
        Step(f"{recipient.country} verifies, decrypts and applies it once", received),
        Step(f"{sender.country} receives {recipient.country}'s signed receipt", receipt),
        Step(f"{recipient.country} answers with a pong, applied at {sender.country}", pong),
    ]


def _received(node: DemoNode, message_id: str) -> dict | None:
    result = node.opennrm("trm", "evidence", message_id, check=False)
    if result.returncode != 0:
        return None
    found = json.loads(result.stdout)
    return found if found.get("status") == "applied" and found.get("receipt") else None


def _shell(node: DemoNode, code: str) -> dict:
    """Run Python in the node (`opennrm manage shell`); the JSON it prints after "OUT"."""
    out = node.opennrm("manage", "shell", "-c", textwrap.dedent(code)).stdout
    line = next((line for line in out.splitlines() if line.startswith("OUT")), None)
    if line is None:
        raise NetworkError(f"{node.country}: nothing printed:\n{out[-2000:]}")
    return json.loads(line[3:])


READ_REFERRAL = """
    import json
    from opennrm.transnational.models import TransnationalReferral as R
    r = R.objects.filter(direction={direction!r}, global_case_id={case_id!r}).first()
    person = r.case.person if r and r.case else None
    print("OUT" + json.dumps(r and {{
        "id": r.pk, "status": r.status, "preview": r.preview,
        "case": r.case.case_number if r.case else None,
        "case_status": r.case.status if r.case else None,
        "agency": r.agency.code if r.agency else None,
        "given_name": person.given_name if person else None,
        "family_name": person.family_name if person else None,
        "confirmed": bool(r.erasure_confirmed_at),
        "events": [[e.direction, e.message_type, e.code] for e in r.events.all()]}}))
"""


def referral_steps(sender: DemoNode, recipient: DemoNode, timeout: float = 90) -> list[Step]:
    """A full transnational referral, after the ping that shows the channel works: a case
    with consent naming the partner's country, the offer (preview only), the focal point's
    acceptance and assignment, the identity and the partner's own case, status updates both
    ways, closure on both sides, then the consent withdrawn: the partner erases the identity
    and confirms."""
    state: dict = {}
    a, b = sender.country, recipient.country

    def read(node: DemoNode, direction: str) -> dict | None:
        return _shell(node, READ_REFERRAL.format(direction=direction,
                                                 case_id=state["global_id"]))

    def until(node: DemoNode, direction: str, what: str, test) -> dict:
        return _wait(lambda: (row := read(node, direction)) and test(row) and row, timeout,
                     what)

    def register() -> str:
        found = _shell(sender, f"""
            import json
            from datetime import date
            from opennrm.accounts.models import User
            from opennrm.cases import services
            cw = User.objects.get(username="ngo-caseworker")
            case = services.register_case(cw, {{
                "given_name": "Elena", "family_name": "Demo-Popescu",
                "birth_date": "1996-04-12", "gender": "female", "citizenships": ["{a}"],
                "first_contact_on": date.today().isoformat(),
                "exploitation_forms": ["forced_labour"]}})
            services.record_consent(cw, case, "data_sharing", date.today(),
                                    recipient_node="{b}")
            print("OUT" + json.dumps({{"case": case.case_number,
                                      "global_id": str(case.global_id)}}))
        """)
        state.update(found)
        return (f"case {found['case']} (global id {found['global_id']}), consent to share "
                f"with {b} recorded by ngo-caseworker")

    def offer() -> str:
        out = sender.opennrm("trm", "offer", state["case"], recipient.node_id, "--as",
                             "ngo-caseworker", "--stage", "return", "--mode", "shared",
                             "--services", "return_reintegration", "--urgency", "urgent",
                             "--share", "given_name,family_name,birth_date",
                             "--risk-assessment", "Low risk: family visited, no contact with "
                             "the recruiters (synthetic).").stdout
        return " ".join(out.split())

    def preview() -> str:
        row = until(recipient, "in", f"the offer at {b}", lambda r: r["status"] == "offered")
        state["in"] = row["id"]
        if "Elena" in json.dumps(row["preview"]) or row["given_name"]:
            raise NetworkError(f"the preview carries the name: {row['preview']}")
        shown = {k: v for k, v in row["preview"].items() if k in (
            "stage", "mode", "sex", "age_band", "exploitation_forms", "urgency")}
        return f"referral {row['id']} offered; preview only: {json.dumps(shown)}"

    def accept() -> str:
        out = recipient.opennrm("trm", "accept", str(state["in"]), "--as", "coordinator",
                                "--agency", "shelter", "--note", "Shelter place ready").stdout
        return " ".join(out.split())

    def identity() -> str:
        row = until(recipient, "in", f"the identity at {b}", lambda r: r["status"] == "active")
        if row["given_name"] != "Elena" or row["agency"] != "shelter":
            raise NetworkError(f"unexpected case at {b}: {row}")
        return (f"{b} registered its own case {row['case']} for the shelter, linked by the "
                f"global id")

    def accepted() -> str:
        row = until(sender, "out", f"{a} to see the acceptance",
                    lambda r: r["status"] == "active")
        state["out"] = row["id"]
        return f"referral {row['id']} active at {a}; {a}'s case stays {row['case_status']}"

    def status(node: DemoNode, other: DemoNode, referral: str, step: str, user: str):
        def run() -> str:
            node.opennrm("trm", "status", str(state[referral]), step, "--as", user)
            direction = "out" if other is sender else "in"
            until(other, direction, f"{step} at {other.country}",
                  lambda r: ["in", "status_update", step] in r["events"])
            return f"{other.country} received it"
        return run

    def closed() -> str:
        until(recipient, "in", f"the closure at {b}", lambda r: r["status"] == "closed")
        until(sender, "out", f"the closure at {a}", lambda r: r["status"] == "closed")
        return "the referral is closed on both nodes"

    def withdraw() -> str:
        _shell(sender, f"""
            import json
            from datetime import date
            from opennrm.accounts.models import User
            from opennrm.cases.models import Case
            from opennrm.cases import services
            cw = User.objects.get(username="ngo-caseworker")
            case = Case.objects.get(case_number="{state['case']}")
            services.withdraw_consent(cw, case.consents.get(recipient_node="{b}"),
                                      date.today())
            print("OUT" + json.dumps(True))
        """)
        return f"consent withdrawn at {a}; consent_withdrawn sent to {b}"

    def erased() -> str:
        row = until(recipient, "in", f"the erasure at {b}", lambda r: r["status"] == "erased")
        if row["given_name"] or row["family_name"]:
            raise NetworkError(f"{b} still holds the name")
        return f"{b} erased the person's identity in case {row['case']}"

    def confirmed() -> str:
        until(sender, "out", f"{a} to record the confirmation", lambda r: r["confirmed"])
        return f"{a} shows the erasure confirmed by {b}"

    return ping_steps(sender, recipient) + [
        Step(f"{a}: a caseworker registers a case and records consent to share it with {b}",
             register),
        Step(f"{a} offers a shared return to {b} (only a pseudonymised preview is sent)",
             offer),
        Step(f"{b}'s focal point sees the preview, without name or birth date", preview),
        Step(f"{b}'s focal point accepts and assigns the shelter", accept),
        Step(f"{a} sends the chosen identity fields; {b} registers its own case", identity),
        Step(f"{a} sees the referral accepted", accepted),
        Step(f"{b} → {a}: status update 'arrived'",
             status(recipient, sender, "in", "arrived", "shelter-caseworker")),
        Step(f"{a} → {b}: status update 'follow_up_done'",
             status(sender, recipient, "out", "follow_up_done", "ngo-caseworker")),
        Step(f"{a} → {b}: status update 'closed'",
             status(sender, recipient, "out", "closed", "ngo-caseworker")),
        Step("the referral is closed on both sides", closed),
        Step(f"{a}: the person withdraws consent", withdraw),
        Step(f"{b} erases the shared identity", erased),
        Step(f"{a} sees {b}'s erasure confirmation", confirmed),
    ]


SCENARIOS: dict[str, Callable[[DemoNode, DemoNode], list[Step]]] = {
    "ping": ping_steps, "referral": referral_steps}


def run_steps(steps: list[Step], say: Callable[[str], None] = print) -> bool:
    """Run the steps in order, printing each; stop at the first that fails."""
    for number, step in enumerate(steps, 1):
        started = time.monotonic()
        try:
            detail = step.run()
        except Exception as error:
            say(f"step {number}: {step.title} … FAILED ({time.monotonic() - started:.1f} s)")
            say(f"    {error}")
            return False
        say(f"step {number}: {step.title} … ok ({time.monotonic() - started:.1f} s)")
        if detail:
            say(f"    {detail}")
    return True


def wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
