"""Where the server's CPU goes per API request: time and profile the WSGI app in-process.

Calls `opennrm.wsgi.application` directly (the whole middleware stack, as gunicorn does,
without HTTP parsing) with production settings against a PostgreSQL database loaded with
the demo, for the same three requests as bench_node.py: the case list, the exact-name
search and the 401 floor. For each it prints the median wall time, the mean CPU time of
this process (PostgreSQL's own work is not in it) and the time spent waiting for SQL, then
optionally a cProfile of the requests.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opennrm_profile \\
        OPENNRM_KEYRING=var/profile-keyring.json \\
        .venv/bin/python benchmarks/profile_api.py --requests 500 --profile list

The database must hold demo data (`opennrm migrate`, `opennrm demo --cases 20000`) and the
key ring it was loaded with. The script issues an API token for the caller (named
"profile") and does not remove it; every search it runs writes audit entries.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
os.environ.setdefault("OPENNRM_DEBUG", "0")
os.environ.setdefault("OPENNRM_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("OPENNRM_ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("OPENNRM_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from opennrm.accounts.models import ApiToken, User  # noqa: E402
from opennrm.cases.models import Person  # noqa: E402
from opennrm.wsgi import application  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", default="police-caseworker")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", choices=["none", "list", "search", "floor", "all"],
                        default="none", help="cProfile these requests after timing them")
    parser.add_argument("--wall", action="store_true",
                        help="profile wall time (default: CPU time of this process, which "
                             "leaves out waiting for PostgreSQL and other processes)")
    parser.add_argument("--sort", default="tottime", help="pstats sort key")
    parser.add_argument("--limit", type=int, default=40, help="rows of the profile")
    parser.add_argument("--callers", default="",
                        help="also print the callers of functions matching this text")
    return parser.parse_args()


def environ(path: str, query: str = "", token: str | None = None, body: bytes = b"") -> dict:
    """A GET, or with `body` a POST of that JSON."""
    env = {
        "REQUEST_METHOD": "POST" if body else "GET", "SCRIPT_NAME": "", "PATH_INFO": path,
        "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "*/*", "HTTP_ACCEPT_ENCODING": "gzip, deflate",
        "HTTP_CONNECTION": "keep-alive", "HTTP_USER_AGENT": "python-httpx/0.28.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if body:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(body))
    return env


def call(env: dict) -> tuple[str, bytes]:
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"] = status

    result = application(env, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    return got["status"], body


class SqlTimer:
    """Wall time spent inside cursor.execute (waiting for PostgreSQL, plus the driver)."""

    def __init__(self):
        self.seconds = 0.0
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began
            self.statements += 1


def time_requests(name: str, make_env, count: int, expected: str) -> None:
    for i in range(20):  # warm-up: imports, caches, the connection
        call(make_env(i))
    walls, cpus = [], []
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        for i in range(count):
            env = make_env(i)
            began, began_cpu = time.perf_counter(), time.process_time()
            status, _ = call(env)
            walls.append(time.perf_counter() - began)
            cpus.append(time.process_time() - began_cpu)
            if not status.startswith(expected):
                raise SystemExit(f"{name}: {status}")
    print(f"{name:7} wall p50 {statistics.median(walls) * 1000:6.2f} ms   "
          f"CPU mean {statistics.fmean(cpus) * 1000:6.2f} ms   "
          f"SQL wait {timer.seconds / count * 1000:5.2f} ms in "
          f"{timer.statements / count:.1f} statements")


def profile(make_env, count: int, args) -> None:
    profiler = cProfile.Profile(time.perf_counter if args.wall else time.process_time)
    profiler.enable()
    for i in range(count):
        call(make_env(i))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(args.sort).print_stats(args.limit)
    if args.callers:
        stats.print_callers(args.callers)
    print(f"(totals are for {count} requests)")
    print(out.getvalue())


def main() -> None:
    args = parse_args()
    user = User.objects.get(username=args.user)
    _, token = ApiToken.issue(user, "profile")
    persons = list(Person.objects.filter(cases__owner_agency_id=user.agency_id)
                   .exclude(birth_date="").exclude(name_index="").order_by("?")[:300])
    targets = [json.dumps({"given_name": p.given_name, "family_name": p.family_name,
                           "birth_date": p.birth_date}).encode() for p in persons]
    requests = {
        "list": (lambda i: environ("/api/cases", "page=1&page_size=50", token), "200"),
        "search": (lambda i: environ("/api/cases/search", "", token,
                                                     targets[i % len(targets)]),
                   "200"),
        "floor": (lambda i: environ("/api/cases"), "401"),
    }
    connection.close()  # measured requests open their own, as a worker does
    for name, (make_env, expected) in requests.items():
        time_requests(name, make_env, args.requests, expected)
    for name, (make_env, _) in requests.items():
        if args.profile in (name, "all"):
            print(f"\n=== cProfile: {name} ===")
            profile(make_env, args.requests, args)


if __name__ == "__main__":
    main()
