"""The transnational referral workflows between two REAL nodes (gunicorn + `opennrm trm worker`
each, own database and key ring; UA on PostgreSQL when a server is reachable): a full
handover, a full shared referral with a child's return, consent (nothing sent without it,
erasure after withdrawal, checked in the partner's database), and who sees what. Driven
through the CLI sub-commands (`opennrm trm offer / accept / decline / status / referrals`)
and the nodes' own services in `opennrm manage shell`."""

import json

import pytest

from tests.transnational.nodes import Node, two_nodes, wait_for
from tests.transnational.workflow_steps import (
    SETUP_MD,
    SETUP_UA,
    WORKFLOW_TYPES,
    new_case,
    referral_row,
    shell,
)

pytestmark = pytest.mark.nodes

def outbox_states(node: Node, message_type: str) -> list[str]:
    return [row[0] for row in node.sql(
        "SELECT status FROM transnational_outboxmessage WHERE message_type = ?",
        (message_type,))]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    with two_nodes(tmp_path_factory.mktemp("trm-workflows"), WORKFLOW_TYPES,
                   setup=(SETUP_MD, SETUP_UA)) as nodes:
        yield nodes


def test_without_consent_naming_the_country_nothing_is_sent(network):
    md, ua = network
    case_number = new_case(md, birth_date="1995-05-01", consent_country=None)  # only RO
    result = md.opennrm("trm", "offer", case_number, "UA", "--as", "md-cw", "--stage",
                        "first_assistance", "--mode", "shared", "--services", "shelter",
                        check=False)
    assert result.returncode == 1
    assert "consent" in result.stdout
    assert md.sql("SELECT count(*) FROM transnational_outboxmessage WHERE message_type = "
                  "'referral_offer'")[0][0] == 0
    assert md.sql("SELECT count(*) FROM transnational_transnationalreferral")[0][0] == 0


def test_full_handover(network):
    md, ua = network
    case_number = new_case(md, birth_date="1995-05-01", consent_country="UA")
    out = md.opennrm("trm", "offer", case_number, "UA", "--as", "md-cw", "--stage",
                     "long_term_assistance", "--mode", "handover", "--services",
                     "shelter,medical", "--urgency", "urgent",
                     "--share", "given_name,family_name,birth_date,identity_documents").stdout
    assert "offered to UA" in out
    # The receiver's inbox holds the preview only.
    incoming = wait_for(lambda: referral_row(ua, "in", status="offered"))
    preview = incoming["preview"]
    assert preview["sex"] == "female" and preview["age_band"] and preview["urgency"] == "urgent"
    assert preview["services_asked"] == ["shelter", "medical"]
    assert preview["stage"] == "long_term_assistance" and preview["mode"] == "handover"
    flat = json.dumps(preview)
    assert "Elena" not in flat and "1995" not in flat and case_number not in flat
    assert incoming["case"] is None
    # Only the focal point (and no other agency) sees it.
    assert str(incoming["id"]) in ua.opennrm("trm", "referrals", "--as", "ua-nc").stdout
    listed = ua.opennrm("trm", "referrals", "--as", "ua-other").stdout
    assert "long_term" not in listed
    refused = ua.opennrm("trm", "accept", str(incoming["id"]), "--as", "ua-cw", "--agency",
                         "UA-NGO", check=False)
    assert refused.returncode == 1
    # Accept and assign: the sender sends the identity, the receiver registers a case.
    ua.opennrm("trm", "accept", str(incoming["id"]), "--as", "ua-nc", "--agency", "UA-NGO")
    received = wait_for(lambda: (row := referral_row(ua, "in", id=incoming["id"]))
                        and row["status"] == "active" and row)
    assert received["agency"] == "UA-NGO" and received["case"]
    assert received["given_name"] == "Elena" and received["birth_date"] == "1995-05-01"
    assert received["documents"][0]["number"] == "AB1234567"
    sent = wait_for(lambda: (row := referral_row(md, "out", status="active")) and row)
    assert sent["case_status"] == "closed_referred"  # handover: the sender's case is closed
    # Status updates both ways, each with its delivery state.
    ua.opennrm("trm", "status", str(incoming["id"]), "assistance_started", "--as", "ua-cw")
    md.opennrm("trm", "status", str(sent["id"]), "follow_up_done", "--as", "md-cw")
    wait_for(lambda: ["in", "status_update", "assistance_started"]
             in referral_row(md, "out", id=sent["id"])["events"])
    wait_for(lambda: ["in", "status_update", "follow_up_done"]
             in referral_row(ua, "in", id=incoming["id"])["events"])
    wait_for(lambda: set(outbox_states(md, "referral_offer")) <= {"answered"}
             and outbox_states(md, "referral_offer"))
    assert set(outbox_states(ua, "status_update")) <= {"receipt_received", "answered"}
    # Another agency of the sending node sees nothing of it.
    assert str(sent["id"]) not in md.opennrm("trm", "referrals", "--as", "md-other").stdout
    assert "long_term" not in md.opennrm("trm", "referrals", "--as", "md-nc").stdout


def test_shared_return_of_a_child_and_consent_withdrawal(network):
    md, ua = network
    case_number = new_case(md, birth_date="2013-02-03", consent_country="UA")
    blocked = md.opennrm("trm", "offer", case_number, "UA", "--as", "md-cw", "--stage",
                         "return", "--mode", "shared", "--services", "return_reintegration",
                         "--share", "given_name,birth_date", check=False)
    assert blocked.returncode == 1 and "risk assessment" in blocked.stdout
    md.opennrm("trm", "offer", case_number, "UA", "--as", "md-cw", "--stage", "return",
               "--mode", "shared", "--services", "return_reintegration", "--share",
               "given_name,birth_date", "--risk-assessment", "Low risk; family checked.")
    incoming = wait_for(lambda: referral_row(ua, "in", stage="return", status="offered"))
    assert incoming["preview"]["is_child"] is True
    assert incoming["preview"]["risk_assessment_attached"] is True
    ua.opennrm("trm", "accept", str(incoming["id"]), "--as", "ua-nc", "--agency", "UA-NGO")
    received = wait_for(lambda: (row := referral_row(ua, "in", id=incoming["id"]))
                        and row["status"] == "active" and row)
    assert received["given_name"] == "Elena" and received["risk"].startswith("Low risk")
    sent = wait_for(lambda: (row := referral_row(md, "out", stage="return"))
                    and row["status"] == "active" and row)
    assert sent["case_status"] == "active"  # shared: both keep working
    for node, referral, step in ((md, sent, "return_date_set"), (ua, received, "arrived"),
                                 (ua, received, "follow_up_done")):
        node.opennrm("trm", "status", str(referral["id"]), step, "--as",
                     "md-cw" if node is md else "ua-cw")
    wait_for(lambda: ["in", "status_update", "follow_up_done"]
             in referral_row(md, "out", id=sent["id"])["events"])
    # Withdrawal at the sender: the partner erases its copy and confirms.
    shell(md, f"""
        from datetime import date
        from opennrm.accounts.models import User
        from opennrm.cases.models import Case
        from opennrm.cases import services
        cw = User.objects.get(username="md-cw")
        case = Case.objects.get(case_number="{case_number}")
        consent = case.consents.get(recipient_node="UA")
        services.withdraw_consent(cw, consent, date.today())
    """)
    erased = wait_for(lambda: (row := referral_row(ua, "in", id=incoming["id"]))
                      and row["status"] == "erased" and row)
    assert erased["given_name"] == "" and erased["birth_date"] == "" and erased["risk"] == ""
    # In the partner's database itself: the encrypted identity columns are blank.
    table_row = ua.sql("SELECT p.given_name, p.birth_date FROM cases_person p JOIN cases_case c "
                       "ON c.person_id = p.id WHERE c.case_number = ?", (erased["case"],))[0]
    assert tuple(table_row) == ("", "")
    confirmed = wait_for(lambda: (row := referral_row(md, "out", id=sent["id"]))
                         and row["confirmed"] and row)
    assert ["in", "erasure_confirmed", "erased"] in confirmed["events"]


def test_correction_reaches_the_partner_and_is_audited_on_both_sides(network):
    md, ua = network
    case_number = new_case(md, birth_date="1990-07-15", consent_country="UA")
    md.opennrm("trm", "offer", case_number, "UA", "--as", "md-cw", "--stage",
               "first_assistance", "--mode", "shared", "--services", "shelter", "--share",
               "given_name,family_name,phone")
    incoming = wait_for(lambda: referral_row(ua, "in", stage="first_assistance",
                                             status="offered"))
    ua.opennrm("trm", "accept", str(incoming["id"]), "--as", "ua-nc", "--agency", "UA-NGO")
    received = wait_for(lambda: (row := referral_row(ua, "in", id=incoming["id"]))
                        and row["status"] == "active" and row)
    assert received["given_name"] == "Elena"
    sent = wait_for(lambda: (row := referral_row(md, "out", stage="first_assistance"))
                    and row["status"] == "active" and row)
    # A field not in the referral's shared list, and an unknown one, are refused or kept home.
    refused = md.opennrm("trm", "correct", case_number, "--as", "md-cw", "--set",
                         "notes=secret", check=False)
    assert refused.returncode == 1 and "not shared" in refused.stdout
    out = md.opennrm("trm", "correct", case_number, "--as", "md-cw", "--set",
                     "given_name=Elena-Maria", "--set", "phone=+37369000111", "--set",
                     "address=Str. Test 1, Chisinau").stdout
    assert "sent to 1 partner" in out

    def partner_person():
        text = shell(ua, f"""
            import json
            from opennrm.cases.models import Case
            p = Case.objects.get(case_number="{received['case']}").person
            print("P" + json.dumps([p.given_name, p.family_name, p.phone, p.address]))
        """)
        return json.loads(next(line for line in text.splitlines() if line.startswith("P"))[1:])

    # In the receiver's database: the shared fields corrected, the address (not shared) not.
    wait_for(lambda: partner_person()[0] == "Elena-Maria")
    assert partner_person() == ["Elena-Maria", "Popescu", "+37369000111", ""]
    assert ["in", "referral_correction", "correction"] in referral_row(
        ua, "in", id=incoming["id"])["events"]
    assert ["out", "referral_correction", ""] in referral_row(md, "out", id=sent["id"])["events"]
    wait_for(lambda: set(outbox_states(md, "referral_correction")) <= {"receipt_received",
                                                                        "answered"})
    # Audited on both sides: the sender's change and the message sent; the receiver's
    # change with the partner named, and the message received.
    md_case = md.sql("SELECT action, channel, actor_username FROM audit_auditentry WHERE "
                     "object_type = 'case' AND object_ref = ? AND action = 'update'",
                     (case_number,))
    assert ("update", "cli", "md-cw") in [tuple(row) for row in md_case]
    assert md.sql("SELECT count(*) FROM audit_auditentry WHERE object_type = 'trm_message' "
                  "AND reason LIKE ?", ("referral_correction for case %",))[0][0] == 1
    ua_case = ua.sql("SELECT reason, channel FROM audit_auditentry WHERE object_type = 'case' "
                     "AND object_ref = ? AND action = 'update'", (received["case"],))
    assert any(reason.startswith("correction from MD node") and channel == "trm"
               for reason, channel in ua_case)
    assert ua.sql("SELECT count(*) FROM audit_auditentry WHERE object_type = 'trm_message' "
                  "AND reason LIKE ?", ("referral_correction for case %",))[0][0] == 1
