#!/usr/bin/env bash
# Runs the whole suite twice: on the embedded SQLite database and on PostgreSQL.
# Installs what the browser tests need (Debian's chromium) when it is missing.
# Each pass spreads the tests over one pytest-xdist worker per core (each worker has its own
# test database); OPENNRM_TEST_WORKERS sets another number (0 runs them in this process).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PG_URL=${OPENNRM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
WORKERS=${OPENNRM_TEST_WORKERS:-auto}

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if ! command -v xgettext >/dev/null 2>&1; then
  echo "== installing GNU gettext for the translation catalogue test"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gettext >/dev/null
fi

if ! command -v java >/dev/null 2>&1; then
  echo "== installing Debian's OpenJDK for the Spark linkage tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

scripts/pdf-libraries.sh

echo "== axe-core for the accessibility tests (npm, pinned in package-lock.json)"
npm ci --no-audit --no-fund --silent

if ! "$VENV/bin/python" - "$PG_URL" <<'PY'
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=5).close()
except Exception as error:  # noqa: BLE001
    print(f"PostgreSQL is not reachable at {sys.argv[1]}: {error}", file=sys.stderr)
    sys.exit(1)
PY
then
  echo "FAILED: the suite must also run on PostgreSQL; start it or set OPENNRM_TEST_POSTGRES_URL." >&2
  exit 1
fi

# Every test process and every node, worker and CLI process the tests start loads OpenNRM's
# modules: compile them once here, as pip compiled the libraries, instead of in each process
# (an environment with PYTHONDONTWRITEBYTECODE set would otherwise compile them every time).
"$VENV/bin/python" -m compileall -q src

echo "== lint"
"$VENV/bin/ruff" check .
"$VENV/bin/lint-imports"

# Tests marked `nodes` and `bench` start server processes on databases of their own (one
# SQLite, one PostgreSQL), whatever DATABASE_URL says: they run once, in the PostgreSQL pass.
# Tests marked `browser` (Chromium on the web pages) and `fuzz` (schemathesis on the API's
# schema) test the pages and the API, not the database under them: they run once too, on
# PostgreSQL, the production database.
# Tests marked `spark` use no database and share one JVM: they run once, in this process.
# `--dist loadscope`: the tests of one module run on one worker, so that a module's nodes
# (a module-scoped fixture, a minute or more to set up) are set up once, not on each worker.
echo "== tests on SQLite"
env -u DATABASE_URL "$VENV/bin/python" -m pytest -n "$WORKERS" --dist loadscope \
  -m "not nodes and not bench and not spark and not browser and not fuzz" "$@"

echo "== Splink on Spark in local mode"
env -u DATABASE_URL "$VENV/bin/python" -m pytest -p no:xdist -m spark "$@"

echo "== tests on PostgreSQL ($PG_URL)"
DATABASE_URL="$PG_URL" "$VENV/bin/python" -m pytest -n "$WORKERS" --dist loadscope \
  -m "not spark" "$@"
