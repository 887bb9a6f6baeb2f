"""Three real nodes (gunicorn and `opennrm trm worker` each, own database and key ring): Moldova
on SQLite, Ukraine on PostgreSQL when a server is reachable, Romania on SQLite, each with the
two others' cards imported (fingerprint checked). The referral workflows run end to end
through HTTP and the workers: a handover to Ukraine that Romania never hears of, and one case
shared with both partners, whose correction and consent withdrawal reach both, each checked
in the partner's own database."""

import uuid

import pytest

from tests.transnational.nodes import Node, three_nodes, wait_for
from tests.transnational.workflow_steps import (
    SETUP_MD,
    SETUP_UA,
    WORKFLOW_TYPES,
    new_case,
    person,
    receiver_setup,
    referral_row,
    withdraw_data_sharing,
)

pytestmark = pytest.mark.nodes

DELIVERED = {"receipt_received", "answered"}


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    with three_nodes(tmp_path_factory.mktemp("trm-three"), WORKFLOW_TYPES,
                     setup=(SETUP_MD, SETUP_UA, receiver_setup("RO"))) as nodes:
        yield nodes


def active(node: Node, direction: str, **where) -> dict:
    """The referral, once its identity is shared (status active)."""
    return wait_for(lambda: (row := referral_row(node, direction, **where))
                    and row["status"] == "active" and row, timeout=120)


def has_event(node: Node, direction: str, pk: int, event: list) -> bool:
    return event in referral_row(node, direction, id=pk)["events"]


def all_delivered(node: Node) -> bool:
    """Every message the node sent got its partner's signed receipt."""
    rows = node.sql("SELECT status, receipt FROM transnational_outboxmessage")
    return all(status in DELIVERED and receipt for status, receipt in rows)


def test_each_node_holds_the_two_others_cards(network):
    def plain(fingerprint: str) -> str:
        return fingerprint.replace(" ", "").lower()

    for node in network:
        partners = {str(uuid.UUID(str(node_id))): (country, plain(fingerprint))
                    for node_id, country, fingerprint in node.sql(
                        "SELECT node_id, country, fingerprint FROM transnational_partner")}
        assert partners == {other.node_id: (other.country, plain(other.fingerprint))
                            for other in network if other is not node}


def test_handover_to_one_partner_the_other_hears_nothing(network):
    md, ua, ro = network
    case_number = new_case(md, birth_date="1994-04-04", consent_country="UA")
    md.opennrm("trm", "offer", case_number, "UA", "--as", "md-cw", "--stage",
               "long_term_assistance", "--mode", "handover", "--services", "shelter",
               "--share", "given_name,family_name,birth_date")
    incoming = wait_for(lambda: referral_row(ua, "in", status="offered",
                                             stage="long_term_assistance"), timeout=120)
    assert "Elena" not in str(incoming["preview"])
    ua.opennrm("trm", "accept", str(incoming["id"]), "--as", "ua-nc", "--agency", "UA-NGO")
    received = active(ua, "in", id=incoming["id"])
    assert (received["given_name"], received["birth_date"]) == ("Elena", "1994-04-04")
    assert received["agency"] == "UA-NGO"
    sent = active(md, "out", partner__country="UA", stage="long_term_assistance")
    assert sent["case_status"] == "closed_referred"
    # Status updates both ways, then the receiver closes the referral: closed on both sides.
    ua.opennrm("trm", "status", str(received["id"]), "assistance_started", "--as", "ua-cw")
    md.opennrm("trm", "status", str(sent["id"]), "follow_up_done", "--as", "md-cw")
    wait_for(lambda: has_event(md, "out", sent["id"], ["in", "status_update",
                                                      "assistance_started"]), timeout=120)
    wait_for(lambda: has_event(ua, "in", received["id"], ["in", "status_update",
                                                         "follow_up_done"]), timeout=120)
    ua.opennrm("trm", "status", str(received["id"]), "closed", "--as", "ua-cw")
    wait_for(lambda: referral_row(md, "out", id=sent["id"])["status"] == "closed", timeout=120)
    assert referral_row(ua, "in", id=received["id"])["status"] == "closed"
    # Romania was told nothing of it.
    assert ro.sql("SELECT count(*) FROM transnational_transnationalreferral")[0][0] == 0
    assert ro.sql("SELECT count(*) FROM transnational_inboxmessage WHERE message_type LIKE "
                  "'referral%'")[0][0] == 0
    for node in (md, ua):
        wait_for(lambda node=node: all_delivered(node), timeout=120)


def test_one_case_shared_with_two_partners_corrected_then_withdrawn_everywhere(network):
    md, ua, ro = network
    case_number = new_case(md, birth_date="2013-02-03", consent_country="UA")
    # To Romania: the child's return, shared, with the joint risk assessment.
    md.opennrm("trm", "offer", case_number, "RO", "--as", "md-cw", "--stage", "return",
               "--mode", "shared", "--services", "return_reintegration", "--share",
               "given_name,birth_date,phone", "--risk-assessment", "Low risk; family checked.")
    # To Ukraine: first assistance, shared, fewer fields.
    md.opennrm("trm", "offer", case_number, "UA", "--as", "md-cw", "--stage",
               "first_assistance", "--mode", "shared", "--services", "shelter", "--share",
               "given_name,family_name")
    at_ro = wait_for(lambda: referral_row(ro, "in", status="offered"), timeout=120)
    at_ua = wait_for(lambda: referral_row(ua, "in", status="offered", stage="first_assistance"),
                     timeout=120)
    assert at_ro["preview"]["is_child"] and at_ro["preview"]["risk_assessment_attached"]
    ro.opennrm("trm", "accept", str(at_ro["id"]), "--as", "ro-nc", "--agency", "RO-NGO")
    ua.opennrm("trm", "accept", str(at_ua["id"]), "--as", "ua-nc", "--agency", "UA-NGO")
    at_ro = active(ro, "in", id=at_ro["id"])
    at_ua = active(ua, "in", id=at_ua["id"])
    assert at_ro["risk"].startswith("Low risk") and at_ro["agency"] == "RO-NGO"
    assert (at_ua["given_name"], at_ua["birth_date"]) == ("Elena", "")  # not shared with UA
    to_ro = active(md, "out", partner__country="RO")
    to_ua = active(md, "out", partner__country="UA", stage="first_assistance")
    assert to_ro["case_status"] == "active"  # shared: MD keeps working on it
    # The return's steps, both ways.
    md.opennrm("trm", "status", str(to_ro["id"]), "return_date_set", "--as", "md-cw")
    wait_for(lambda: has_event(ro, "in", at_ro["id"], ["in", "status_update",
                                                      "return_date_set"]), timeout=120)
    ro.opennrm("trm", "status", str(at_ro["id"]), "arrived", "--as", "ro-cw")
    wait_for(lambda: has_event(md, "out", to_ro["id"], ["in", "status_update", "arrived"]),
             timeout=120)

    # A correction at MD reaches both partners, each with the fields shared with it.
    out = md.opennrm("trm", "correct", case_number, "--as", "md-cw", "--set",
                     "given_name=Elena-Maria", "--set", "phone=+37369000111").stdout
    assert "sent to 2 partner" in out
    wait_for(lambda: person(ro, at_ro["case"])["phone"] == "+37369000111", timeout=120)
    wait_for(lambda: person(ua, at_ua["case"])["given_name"] == "Elena-Maria", timeout=120)
    assert person(ro, at_ro["case"])["given_name"] == "Elena-Maria"
    assert person(ua, at_ua["case"])["phone"] == ""  # the phone is not shared with UA

    # The person withdraws consent to share with both: each partner erases and confirms.
    withdraw_data_sharing(md, case_number, ["UA", "RO"])
    for node, referral in ((ro, at_ro), (ua, at_ua)):
        erased = wait_for(lambda node=node, referral=referral: (
            row := referral_row(node, "in", id=referral["id"])) and row["status"] == "erased"
            and row, timeout=120)
        assert (erased["given_name"], erased["birth_date"], erased["risk"]) == ("", "", "")
        # In the partner's database itself: the identity columns are blank.
        stored = node.sql("SELECT p.given_name, p.family_name, p.birth_date, p.phone FROM "
                          "cases_person p JOIN cases_case c ON c.person_id = p.id WHERE "
                          "c.case_number = ?", (referral["case"],))
        assert [tuple(row) for row in stored] == [("", "", "", "")]
    for referral in (to_ro, to_ua):
        confirmed = wait_for(lambda referral=referral: (
            row := referral_row(md, "out", id=referral["id"])) and row["confirmed"] and row,
            timeout=120)
        assert ["in", "erasure_confirmed", "erased"] in confirmed["events"]
        assert confirmed["status"] == "erased"
    for node in network:
        wait_for(lambda node=node: all_delivered(node), timeout=120)
