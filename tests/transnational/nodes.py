"""Real OpenNRM nodes for the transnational tests: each one its own database (a SQLite file,
or a PostgreSQL database created with a unique name and dropped after), its own key ring,
a gunicorn server on a free loopback port and its own `opennrm trm worker`, ended by PID."""

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
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

    def opennrm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(BIN / "opennrm"), *args], env=self.env(), cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"opennrm {' '.join(args)} failed:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    # --- life cycle ----------------------------------------------------------------------
    def create(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.database == "postgres":
            import psycopg
            from psycopg import sql

            self.pg_name = f"opennrm_trm_{secrets.token_hex(6)}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.pg_name)))
        self.opennrm("migrate")
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

    def start_worker(self) -> None:
        log = (self.home / "worker.log").open("a")
        self.worker = subprocess.Popen([str(BIN / "opennrm"), "trm", "worker", "--poll", "0.5"],
                                       env=self.env(), cwd=ROOT, stdout=log,
                                       stderr=subprocess.STDOUT)

    def stop_server(self) -> None:
        _end(self.server)
        self.server = None

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
    nodes = [md, ua]
    try:
        for node in nodes:
            node.create()
        for node, other in ((md, ua), (ua, md)):
            node.opennrm("partner", "import", str(other.card_path),
                         "--fingerprint", other.fingerprint)
            node.opennrm("partner", "allow", other.node_id, "--types", types)
        for node, code in zip(nodes, setup, strict=True):
            if code:
                node.opennrm("manage", "shell", "-c", code)
        for node in nodes:
            node.start()
        yield md, ua
    finally:
        for node in nodes:
            node.destroy()
