"""Real OpenNRM nodes for the transnational tests: each one its own database (a SQLite file,
or a PostgreSQL database created with a unique name and dropped after), its own key ring,
a gunicorn server on a free loopback port and its own `opennrm trm worker`, ended by PID.

For the fault tests a node's server or worker can also be killed (SIGKILL, as a power cut
would) and started again, and `ForwardingProxy` stands between two nodes to act at a chosen
moment of an exchange."""

import atexit
import http.server
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("OPENNRM_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except Exception:
        return False


@dataclass
class Node:
    name: str
    country: str
    home: Path
    database: str  # "sqlite" or "postgres"
    port: int = field(default_factory=free_port)
    server: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    node_id: str = ""
    fingerprint: str = ""
    card_path: Path | None = None
    pg_name: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def keyring(self) -> Path:
        return self.home / "keyring.json"

    @property
    def database_url(self) -> str:
        if self.database == "postgres":
            return urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path=f"/{self.pg_name}"))
        return f"sqlite:///{self.home / 'node.sqlite3'}"

    def env(self, **extra) -> dict:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("OPENNRM_", "DJANGO_", "PYTEST_"))}
        env.update({
            "DJANGO_SETTINGS_MODULE": "opennrm.settings",
            "DATABASE_URL": self.database_url,
            "OPENNRM_KEYRING": str(self.keyring),
            "OPENNRM_VAR_DIR": str(self.home / "var"),
            "OPENNRM_SECRET_KEY": secrets.token_urlsafe(40),
            "OPENNRM_ALLOWED_HOSTS": "127.0.0.1",
            "OPENNRM_SSL_REDIRECT": "0",
            "OPENNRM_DEBUG": "0",
            # Quick retries, so a test waits seconds, not minutes.
            "OPENNRM_TRM_BACKOFF_BASE_SECONDS": "0.2",
            "OPENNRM_TRM_BACKOFF_MAX_SECONDS": "1",
            "OPENNRM_TRM_LEASE_SECONDS": "5",
            "OPENNRM_TRM_MAX_MESSAGE_BYTES": str(64 * 1024),
            "COLUMNS": "250",
            **extra,
        })
        return env

    def opennrm(self, *args: str, check: bool = True,
                env: dict | None = None) -> subprocess.CompletedProcess:
        """Run the node's CLI; `env` adds or overrides environment variables for this run
        (e.g. {"OPENNRM_TRM_DELIVER_ON_COMMIT": "0"})."""
        result = subprocess.run([str(BIN / "opennrm"), *args], env=self.env(**(env or {})),
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"opennrm {' '.join(args)} failed:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    # --- life cycle ----------------------------------------------------------------------
    def create(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        template = migrated_template(self.database)
        if self.database == "postgres":
            self.pg_name = create_postgres_database("opennrm_trm", template=template)
        else:
            shutil.copyfile(template, self.home / "node.sqlite3")
        out = self.opennrm("node", "init", "--country", self.country, "--name", self.name,
                           "--endpoint", self.url).stdout
        self.node_id = out.split()[1]
        self.card_path = self.home / "card.json"
        out = self.opennrm("node", "card", "--output", str(self.card_path)).stdout
        self.fingerprint = out.strip().splitlines()[-1].split(":", 1)[1].strip()

    def start(self) -> None:
        self.start_server()
        self.start_worker()

    def start_server(self) -> None:
        log = (self.home / "server.log").open("a")
        self.server = subprocess.Popen(
            [str(BIN / "gunicorn"), "opennrm.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "2",
             "--threads", "2", "--graceful-timeout", "2"],
            env=self.env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise AssertionError(f"{self.name}'s server exited; see {log.name}")
            try:
                if httpx.get(self.url + "/trm/v1/card", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.name}'s server did not answer")

    def start_worker(self, env: dict | None = None) -> None:
        """Start `opennrm trm worker`; `env` adds or overrides environment variables."""
        log = (self.home / "worker.log").open("a")
        self.worker = subprocess.Popen([str(BIN / "opennrm"), "trm", "worker", "--poll", "0.5"],
                                       env=self.env(**(env or {})), cwd=ROOT, stdout=log,
                                       stderr=subprocess.STDOUT)

    def stop_server(self) -> None:
        _end(self.server)
        self.server = None

    def stop_worker(self) -> None:
        _end(self.worker)
        self.worker = None

    def kill_server(self) -> None:
        """SIGKILL the server, its master and every worker process, with no chance to finish
        a request or a thread started after a commit. The master is stopped first, so that it
        cannot start a new worker meanwhile."""
        master = self.server.pid
        os.kill(master, signal.SIGSTOP)
        children = _descendants(master)
        for pid in (*children, master):
            _kill(pid)
        self.server.wait()
        self.server = None
        wait_for(lambda: not any(_alive(pid) for pid in children), timeout=30)

    def kill_worker(self) -> None:
        """SIGKILL the `opennrm trm worker` process."""
        _kill(self.worker.pid)
        self.worker.wait()
        self.worker = None

    def stop(self) -> None:
        _end(self.worker)
        self.worker = None
        self.stop_server()

    def destroy(self) -> None:
        self.stop()
        if self.database == "postgres" and self.pg_name:
            import psycopg
            from psycopg import sql

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.pg_name)))

    # --- reading its database ------------------------------------------------------------
    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        if self.database == "postgres":
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                return conn.execute(query.replace("?", "%s"), params).fetchall()
        with sqlite3.connect(self.home / "node.sqlite3", timeout=20) as conn:
            return conn.execute(query, params).fetchall()

    def card(self) -> dict:
        return json.loads(self.card_path.read_text(encoding="utf-8"))


def create_postgres_database(prefix: str, template: str = "") -> str:
    """A new PostgreSQL database named `prefix` and a random suffix, copied from `template`
    if given; its name."""
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{secrets.token_hex(6)}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)
    return name


_templates: dict[str, str] = {}


def migrated_template(database: str) -> str:
    """An empty database with every migration applied, made once per test process for each
    kind ("sqlite": a file's path; "postgres": a database's name) with `opennrm migrate`:
    a node's database starts as a copy of it. Migrating takes a node about 15 seconds, a
    copy well under one; the migrations themselves are tested in tests/test_migrations.py.
    A migrated database holds no key and no node: `node init` comes after the copy."""
    if database not in _templates:
        home = Path(tempfile.mkdtemp(prefix="opennrm-node-template-"))
        template = Node("template", "XX", home, database)
        if database == "postgres":
            template.pg_name = create_postgres_database("opennrm_trm_template")
            atexit.register(template.destroy)
        template.opennrm("migrate")
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        _templates[database] = (template.pg_name if database == "postgres"
                                else str(home / "node.sqlite3"))
    return _templates[database]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _descendants(pid: int) -> list[int]:
    """The processes started by `pid`, and theirs (read from /proc: Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped by its new parent, holds nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _end(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition, timeout: float = 30, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def uid(node: Node, value) -> str:
    """A UUID as the node's database stores it (SQLite: 32 hex digits; PostgreSQL: uuid)."""
    import uuid

    value = uuid.UUID(str(value))
    return str(value) if node.database == "postgres" else value.hex


@contextmanager
def two_nodes(home: Path, types: str, *, node_class: type[Node] = Node,
              setup: tuple[str, str] = ("", "")):
    """Moldova's node on SQLite and Ukraine's (on PostgreSQL when a server is reachable), each
    with the other's card imported (fingerprint checked) and `types` allowed, then started:
    yields (md, ua) and ends both. `setup` is code run in each node's shell before it starts."""
    md = node_class("Moldova NRM", "MD", home / "md", "sqlite")
    ua = node_class("Ukraine NRM", "UA", home / "ua",
                    "postgres" if postgres_available() else "sqlite")
    with _network([md, ua], types, setup):
        yield md, ua


@contextmanager
def three_nodes(home: Path, types: str, *, setup: tuple[str, str, str] = ("", "", "")):
    """As `two_nodes`, with Romania's node (SQLite) as a third: each node has the two others'
    cards imported (fingerprint checked) and `types` allowed. Yields (md, ua, ro)."""
    md = Node("Moldova NRM", "MD", home / "md", "sqlite")
    ua = Node("Ukraine NRM", "UA", home / "ua", "postgres" if postgres_available() else "sqlite")
    ro = Node("Romania NRM", "RO", home / "ro", "sqlite")
    with _network([md, ua, ro], types, setup):
        yield md, ua, ro


@contextmanager
def _network(nodes: list[Node], types: str, setup: tuple[str, ...]):
    """Create the nodes, import every other node's card with its fingerprint, allow `types`,
    run each node's `setup` code, start them; end them all afterwards."""
    try:
        for node in nodes:
            node.create()
        for node, other in itertools.permutations(nodes, 2):
            node.opennrm("partner", "import", str(other.card_path),
                         "--fingerprint", other.fingerprint)
            node.opennrm("partner", "allow", other.node_id, "--types", types)
        for node, code in zip(nodes, setup, strict=True):
            if code:
                node.opennrm("manage", "shell", "-c", code)
        for node in nodes:
            node.start()
        yield
    finally:
        for node in nodes:
            node.destroy()


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """An answer to a client killed meanwhile is lost, as intended: no traceback."""


class ForwardingProxy:
    """A loopback HTTP server standing between two nodes: it forwards each POST to `target`
    (path, body and the TRM headers) and gives back what the target answered. `on_request`,
    if set, is called with each body before it is forwarded (it may wait: the request waits).
    `on_answer`, if set, is called with each answer (an httpx.Response), one answer at a
    time, once the target has answered and before the answer goes back; when it returns
    False the connection is dropped unanswered. Every answer's status and text are kept in
    `answers`. Use it with `with`."""

    def __init__(self, target: str,
                 on_answer: Callable[[httpx.Response], bool] | None = None,
                 on_request: Callable[[bytes], object] | None = None):
        self.target = target
        self.on_answer = on_answer
        self.on_request = on_request
        self.answers: list[tuple[int, str]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() in ("content-type", "trm-sender")}
                if proxy.on_request is not None:
                    proxy.on_request(body)
                try:
                    answer = httpx.post(proxy.target + self.path, content=body,
                                        headers=headers, timeout=30)
                except httpx.HTTPError:
                    self.close_connection = True
                    return
                with proxy.lock:
                    proxy.answers.append((answer.status_code, answer.text))
                    deliver = proxy.on_answer is None or proxy.on_answer(answer) is not False
                if not deliver:
                    self.close_connection = True
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", ""))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "ForwardingProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
