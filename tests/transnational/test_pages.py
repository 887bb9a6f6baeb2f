"""The administrator's transnational pages: only administrators read them."""

from opennrm.accounts.models import Role
from tests.factories import make_user


def test_the_message_log_and_partner_list_are_for_administrators(client, administrator,
                                                                 caseworker):
    client.force_login(administrator)
    assert client.get("/transnational/messages/").status_code == 200
    assert client.get("/transnational/partners/").status_code == 200
    assert client.get("/transnational/witnessed/").status_code == 200
    client.force_login(caseworker)
    assert client.get("/transnational/messages/").status_code == 403
    assert client.get("/transnational/partners/").status_code == 403
    assert client.get("/transnational/witnessed/").status_code == 403


def test_a_node_without_an_identity_has_no_endpoint(client, db):
    """Before `opennrm node init` there is nothing to receive with: 404, never a 5xx.
    (A node with an identity refuses an unknown sender: tests/transnational/test_nodes.py.)"""
    answer = client.post("/trm/v1/messages", data=b"x", content_type="application/jose",
                         headers={"TRM-Sender": "nobody"})
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_a_node"


def test_an_auditor_does_not_read_the_message_log(client, ngo):
    client.force_login(make_user(Role.AUDITOR, None, "auditor2"))
    assert client.get("/transnational/messages/").status_code == 403
