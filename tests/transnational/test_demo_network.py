"""`opennrm demo-network` as a user runs it: a subprocess that starts the nodes, runs a
scenario (or waits for Ctrl+C) and ends every process it started.

The nodes run with a fast password hasher (the demo users' Argon2 hashes would take most of
the time). In the suite's PostgreSQL pass (DATABASE_URL names a PostgreSQL server) the second
node's database is created on that server, and must be dropped afterwards."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opennrm.transnational.network import NetworkError, Step, is_postgres, run_steps

pytestmark = pytest.mark.nodes

OPENNRM = Path(sys.executable).parent / "opennrm"
FAST_SETTINGS = """\
from opennrm.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""


def network_env(tmp_path: Path) -> dict:
    folder = tmp_path / "settings"
    folder.mkdir(exist_ok=True)
    (folder / "fast_settings.py").write_text(FAST_SETTINGS, encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "OPENNRM_", "PYTEST_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "fast_settings", "COLUMNS": "200",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(folder),
                                                            os.environ.get("PYTHONPATH")]))})
    if is_postgres(os.environ.get("DATABASE_URL", "")):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return env


def started(output: str) -> dict:
    """What the command printed about its nodes: PIDs, ports, folders, PostgreSQL names."""
    return {
        "pids": [int(pid) for pid in re.search(r"^Processes: ([\d ]+)$", output,
                                               re.MULTILINE).group(1).split()],
        "ports": [int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)/", output)],
        "homes": re.findall(r"files and logs: (\S+)$", output, re.MULTILINE),
        "databases": re.findall(r"PostgreSQL (opennrm_demo_\w+)", output),
    }


def assert_all_gone(seen: dict) -> None:
    assert len(seen["pids"]) == 4 and len(seen["ports"]) == 2
    for pid in seen["pids"]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    for port in seen["ports"]:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
    for home in seen["homes"]:
        assert not Path(home).exists()
    if seen["databases"]:
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            for name in seen["databases"]:
                assert not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                        (name,)).fetchall(), f"{name} not dropped"


def test_a_scenario_runs_between_two_nodes_and_every_process_ends(tmp_path):
    result = subprocess.run(
        [str(OPENNRM), "demo-network", "--countries", "MD,UA", "--scenario", "referral",
         "--demo-cases", "2"], env=network_env(tmp_path), cwd=tmp_path, capture_output=True,
        text=True, timeout=600)
    output = result.stdout
    assert result.returncode == 0, output[-6000:] + result.stderr[-3000:]
    assert "MD: imported the cards of UA (fingerprints checked)" in output
    assert "UA: imported the cards of MD (fingerprints checked)" in output
    assert re.search(r"^  MD  http://127\.0\.0\.1:\d+/  node [0-9a-f-]{36}  SQLite", output,
                     re.MULTILINE)
    assert "admin" in output and "demo-administrator-2026!" in output  # the logins
    assert "Scenario referral: MD → UA" in output
    steps = re.findall(r"^step (\d+): (.*) … (ok|FAILED)", output, re.MULTILINE)
    assert len(steps) >= 4 and all(outcome == "ok" for _, _, outcome in steps), output
    titles = [title for _, title, _ in steps]
    assert "MD sends a ping to UA (signed, encrypted)" in titles
    assert "UA answers with a pong, applied at MD" in titles
    assert output.rstrip().endswith("Scenario completed.\nStopped every node.")
    assert_all_gone(started(output))


def test_without_a_scenario_it_stays_up_until_ctrl_c(tmp_path):
    log = (tmp_path / "out.txt").open("w+")
    process = subprocess.Popen(
        [str(OPENNRM), "demo-network", "--countries", "MD,UA", "--demo-cases", "0"],
        env=network_env(tmp_path), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 400
        while "Ctrl+C ends them" not in (tmp_path / "out.txt").read_text():
            assert process.poll() is None, (tmp_path / "out.txt").read_text()
            assert time.monotonic() < deadline, "the nodes did not come up"
            time.sleep(0.5)
        time.sleep(1)
        assert process.poll() is None  # still up
        output = (tmp_path / "out.txt").read_text()
        seen = started(output)
        import httpx

        for port in seen["ports"]:
            assert httpx.get(f"http://127.0.0.1:{port}/trm/v1/card", timeout=10).status_code \
                == 200
        process.send_signal(signal.SIGINT)  # Ctrl+C
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = (tmp_path / "out.txt").read_text()
    assert output.rstrip().endswith("Stopped every node.")
    assert_all_gone(started(output))


def test_steps_stop_at_the_first_failure():
    said = []

    def fail():
        raise NetworkError("the partner is down")

    ran = []
    steps = [Step("one", lambda: "fine"), Step("two", fail), Step("three", lambda: ran.append(3))]
    assert run_steps(steps, say=said.append) is False
    assert not ran
    assert said[0].startswith("step 1: one … ok") and said[1] == "    fine"
    assert said[2].startswith("step 2: two … FAILED") and said[3] == "    the partner is down"
