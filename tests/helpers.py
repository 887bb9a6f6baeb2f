"""Helpers for requests and answers shared by the test modules: an API client, the checks
of a problem answer and of a page's inline code, and signing a test client in."""

import re

from django.test import Client

from opennrm.accounts.models import ApiToken

# What a Content-Security-Policy without 'unsafe-inline' blocks.
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I
)


class ApiClient:
    """A Django test client that sends a personal API token and JSON bodies."""

    def __init__(self, user=None, secret: str | None = None):
        self.client = Client()
        self.headers = {}
        if user is not None:
            _, secret = ApiToken.issue(user, "tests")
        if secret is not None:
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {}, headers=self.headers)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(path, body or {}, content_type="application/json",
                                headers=self.headers)

    def patch(self, path: str, body: dict):
        return self.client.patch(path, body, content_type="application/json",
                                 headers=self.headers)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert set(problem) == {"type", "title", "status", "detail", "errors"}
    return problem


def as_json(value: dict) -> dict:
    """`value` with dates written the way JSON carries them."""
    return {key: item.isoformat() if hasattr(item, "isoformat") else item
            for key, item in value.items()}


def as_user(client, user):
    client.force_login(user)
    return client


def assert_no_inline_code(response) -> None:
    """The page carries no inline script, style or event handler that CSP would block."""
    found = INLINE_CODE.findall(response.content.decode())
    assert not found, f"inline code CSP would block: {found}"


def bytes_on_disk(tables: tuple[str, ...]) -> bytes:
    """The bytes the database wrote to disk: the whole SQLite file (and its WAL), or on
    PostgreSQL the heap files of `tables` and of their TOAST tables, after a CHECKPOINT
    (needs superuser, which the test database user is)."""
    from django.db import connection

    data = b""
    if connection.vendor == "sqlite":
        name = connection.settings_dict["NAME"]
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(FULL)")
        for suffix in ("", "-wal"):
            try:
                with open(f"{name}{suffix}", "rb") as handle:
                    data += handle.read()
            except FileNotFoundError:
                pass
        return data
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        for table in tables:
            cursor.execute(
                "SELECT pg_read_binary_file(pg_relation_filepath(c.oid)) FROM pg_class c "
                "WHERE c.oid = %s::regclass OR c.oid = (SELECT reltoastrelid FROM pg_class "
                "WHERE oid = %s::regclass)", [table, table])
            for (chunk,) in cursor.fetchall():
                data += bytes(chunk)
    return data
