"""`opennrm run`, the real command, in a new empty folder with the database and the key ring
elsewhere (DATABASE_URL, OPENNRM_KEYRING): it makes its var folder for the worker's log,
serves, and the e-mails its worker sends link to the port it serves on."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from opennrm.cli import _local_base_url

STARTUP_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(data: Path, **extra) -> dict:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DJANGO_", "OPENNRM_", "DATABASE_URL", "PYTEST_"))}
    env.update({"DATABASE_URL": f"sqlite:///{data / 'node.sqlite3'}",
                "OPENNRM_KEYRING": str(data / "keyring.json"), **extra})
    return env


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our server
            return response.status == 200
    except OSError:
        return False


def _wait_for(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"opennrm run stopped before {what}:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"opennrm run: no {what} after {STARTUP_SECONDS} s")
        time.sleep(0.5)


def _stop(process: subprocess.Popen) -> None:
    """Ctrl+C, as a user stops it (the command then stops its worker); the process group is
    killed only if that fails."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.nodes
def test_it_runs_in_an_empty_folder_and_e_mails_link_to_its_port(tmp_path):
    folder, data = tmp_path / "empty", tmp_path / "data"
    folder.mkdir()
    data.mkdir()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "opennrm.cli", "run", "--port", str(port),
         "--demo-cases", "12"],
        cwd=folder, env=_environment(data), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    worker_log = folder / "var" / "worker.log"
    try:
        _wait_for(lambda: _answers(f"http://127.0.0.1:{port}/login/"), process,
                  "answer on its port")
        assert worker_log.exists()
        # The demo's referrals notify their recipients; the worker e-mails them (the
        # console backend writes them to its log).
        _wait_for(lambda: f"http://127.0.0.1:{port}/referrals/" in worker_log.read_text(),
                  process, "e-mail with a link to its port")
        assert "127.0.0.1:8000" not in worker_log.read_text()
    finally:
        _stop(process)


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8123"),
    ("nrm.example.org", "http://nrm.example.org:8123"),
    ("0.0.0.0", "http://127.0.0.1:8123"),
    ("::1", "http://[::1]:8123"),
])
def test_the_base_url_is_the_servers_own(host, url):
    assert _local_base_url(host, 8123) == url
