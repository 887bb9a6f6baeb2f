"""Lockout behind a reverse proxy (defect 12): with OPENNRM_TRUSTED_PROXY_COUNT set (here the
django-ipware settings that settings.py derives from it), each client behind the proxy is
locked out on its own; without it, X-Forwarded-For is ignored, so a client cannot escape the
lockout by writing that header."""

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory, override_settings

from opennrm.accounts.lockout import client_ip
from opennrm.settings import trusted_proxy_ipware
from tests.factories import PASSWORD

LOGIN = "/login/"
PROXY = "10.0.0.1"


def sign_in(forwarded_for: str, password: str = PASSWORD):
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    return client.post(LOGIN, {"username": "caseworker", "password": password, "code": ""})


def lock_out(forwarded_for: str) -> None:
    for _ in range(5):
        response = sign_in(forwarded_for, password="wrong")
    assert response.status_code == 429


@override_settings(**trusted_proxy_ipware(1))
def test_behind_a_trusted_proxy_clients_are_locked_out_separately(caseworker):
    lock_out("198.51.100.7")
    assert sign_in("198.51.100.7").status_code == 429
    assert sign_in("198.51.100.8").status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


@override_settings(**trusted_proxy_ipware(1))
def test_what_the_client_writes_left_of_the_proxys_entry_is_ignored(caseworker):
    lock_out("203.0.113.1, 198.51.100.7")
    assert sign_in("203.0.113.99, 198.51.100.7").status_code == 429


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(caseworker):
    lock_out("198.51.100.7")
    # Another forwarded address from the same peer is the same client: still locked out.
    assert sign_in("198.51.100.8").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}


@pytest.mark.parametrize(("count", "header", "expected"), [
    (0, "198.51.100.7", PROXY),
    (1, "", PROXY),
    (1, "not an address", PROXY),
    (1, "198.51.100.7", "198.51.100.7"),
    (2, "198.51.100.7, 10.0.0.2", "198.51.100.7"),
    (2, "198.51.100.7", PROXY),
    (1, "2001:db8::1", "2001:db8::1"),
    (1, "203.0.113.1, 198.51.100.7", "198.51.100.7"),
    (1, "not an address, 198.51.100.7", "198.51.100.7"),
    (2, "203.0.113.1, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
])
def test_client_ip(settings, count, header, expected):
    for name, value in trusted_proxy_ipware(count).items():
        setattr(settings, name, value)
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected
