"""The workflow tests' shared set-up, for the real-node tests and the browser test: the message
types both nodes allow, the agencies and users of each node, and steps run in a node's own
`opennrm manage shell`."""

import json
import textwrap

from tests.transnational.nodes import Node

WORKFLOW_TYPES = ("ping,pong,status_update,referral_offer,referral_accepted,referral_declined,"
         "referral_identity,referral_correction,consent_withdrawn,erasure_confirmed")

SETUP_MD = """
from datetime import date
from opennrm.accounts.models import Agency, User
from opennrm.cases import services
for code in ("MD-NGO", "MD-POL"):
    Agency.objects.create(code=code, name=code, agency_type="ngo", country="MD")
cw = User.objects.create_user(username="md-cw", password="x" * 20, role="caseworker",
                              agency=Agency.objects.get(code="MD-NGO"))
User.objects.create_user(username="md-other", password="x" * 20, role="caseworker",
                         agency=Agency.objects.get(code="MD-POL"))
User.objects.create_user(username="md-nc", password="x" * 20, role="national_coordinator",
                         agency=Agency.objects.get(code="MD-POL"))
"""

SETUP_UA = """
from opennrm.accounts.models import Agency, User
for code in ("UA-NC", "UA-NGO", "UA-OTHER"):
    Agency.objects.create(code=code, name=code, agency_type="ngo", country="UA")
User.objects.create_user(username="ua-nc", password="x" * 20, role="national_coordinator",
                         agency=Agency.objects.get(code="UA-NC"))
User.objects.create_user(username="ua-cw", password="x" * 20, role="caseworker",
                         agency=Agency.objects.get(code="UA-NGO"))
User.objects.create_user(username="ua-other", password="x" * 20, role="caseworker",
                         agency=Agency.objects.get(code="UA-OTHER"))
"""


def shell(node: Node, code: str) -> str:
    return node.opennrm("manage", "shell", "-c", textwrap.dedent(code)).stdout


def new_case(node: Node, *, birth_date: str, consent_country: str | None) -> str:
    out = shell(node, f"""
        from datetime import date
        from opennrm.accounts.models import User
        from opennrm.cases import services
        cw = User.objects.get(username="md-cw")
        case = services.register_case(cw, {{
            "given_name": "Elena", "family_name": "Popescu", "birth_date": "{birth_date}",
            "gender": "female", "citizenships": ["MD"], "phone": "+37369123456",
            "first_contact_on": "2026-01-10", "exploitation_forms": ["forced_labour"],
            "identity_documents": [{{"document_type": "passport", "number": "AB1234567",
                                    "country": "MD"}}]}})
        if {consent_country!r}:
            services.record_consent(cw, case, "data_sharing", date(2026, 1, 10),
                                    recipient_node={consent_country!r})
        services.record_consent(cw, case, "data_sharing", date(2026, 1, 10),
                                recipient_node="RO")
        print("CASE", case.case_number, case.global_id)
    """)
    line = next(line for line in out.splitlines() if line.startswith("CASE"))
    return line.split()[1]


def referral_row(node: Node, direction: str, **where) -> dict | None:
    """The newest referral of that direction as the node's services see it."""
    out = shell(node, f"""
        import json
        from opennrm.transnational.models import TransnationalReferral as R
        r = R.objects.filter(direction={direction!r}, **{where!r}).order_by("-id").first()
        if r:
            person = r.case.person if r.case else None
            print("ROW" + json.dumps({{
                "id": r.pk, "status": r.status, "mode": r.mode, "preview": r.preview,
                "case": r.case.case_number if r.case else None,
                "case_status": r.case.status if r.case else None,
                "agency": r.agency.code if r.agency else None,
                "given_name": person.given_name if person else None,
                "birth_date": person.birth_date if person else None,
                "documents": person.identity_documents if person else None,
                "risk": r.risk_assessment,
                "confirmed": bool(r.erasure_confirmed_at),
                "events": [[e.direction, e.message_type, e.code] for e in r.events.all()],
            }}))
    """)
    for line in out.splitlines():
        if line.startswith("ROW"):
            return json.loads(line[3:])
    return None


def receiver_setup(country: str) -> str:
    """A receiving node's agencies and users, as SETUP_UA for Ukraine: the focal point
    `<cc>-nc` (national coordinator) and a caseworker `<cc>-cw` of `<CC>-NGO`."""
    code, login = country.upper(), country.lower()
    return f"""
from opennrm.accounts.models import Agency, User
for code in ("{code}-NC", "{code}-NGO"):
    Agency.objects.create(code=code, name=code, agency_type="ngo", country="{code}")
User.objects.create_user(username="{login}-nc", password="x" * 20, role="national_coordinator",
                         agency=Agency.objects.get(code="{code}-NC"))
User.objects.create_user(username="{login}-cw", password="x" * 20, role="caseworker",
                         agency=Agency.objects.get(code="{code}-NGO"))
"""


def person(node: Node, case_number: str) -> dict:
    """The person of a case as the node's services read it (decrypted)."""
    out = shell(node, f"""
        import json
        from opennrm.cases.models import Case
        p = Case.objects.get(case_number="{case_number}").person
        print("PERSON" + json.dumps({{"given_name": p.given_name, "family_name": p.family_name,
                                     "birth_date": p.birth_date, "phone": p.phone,
                                     "address": p.address}}, default=str))
    """)
    return json.loads(next(line for line in out.splitlines() if line.startswith("PERSON"))[6:])


def withdraw_data_sharing(node: Node, case_number: str, countries: list[str]) -> None:
    """The person withdraws, at the node's caseworker `md-cw`, the consents to share data
    with each of `countries`."""
    shell(node, f"""
        from datetime import date
        from opennrm.accounts.models import User
        from opennrm.cases.models import Case
        from opennrm.cases import services
        cw = User.objects.get(username="md-cw")
        case = Case.objects.get(case_number="{case_number}")
        for country in {countries!r}:
            consent = case.consents.get(purpose="data_sharing", recipient_node=country,
                                        withdrawn_on__isnull=True)
            services.withdraw_consent(cw, consent, date.today())
    """)
