"""This node is Moldova's (the test key ring); Ukraine and Romania are partners with key rings
of their own, so that a test can read what this node sealed to them and send this node
their releases through the real receiving path."""

import time
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.core.keyring import KeyRing, get_keyring
from opennrm.regional import testdata
from opennrm.regional.services import MESSAGE_TYPE
from opennrm.transnational import identity, receiving
from opennrm.transnational.envelope import seal
from opennrm.transnational.models import Partner
from tests.e2e.browser import browser  # noqa: F401 - the browser tests' fixture
from tests.factories import make_agency, make_user

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
COUNTRIES = ("MD", "RO", "UA")


@pytest.fixture(autouse=True)
def md(db, settings):
    settings.OPENNRM_TRM_DELIVER_ON_COMMIT = False  # nothing listens: read the outbox
    return identity.init_node(None, "MD", "Moldova NRM", "https://md.example")


def make_partner(country: str, tmp_path, types=("ping", "pong", MESSAGE_TYPE)):
    ring = KeyRing.create(tmp_path / f"{country}-keyring.json")
    ring.add_encryption_key()
    partner = Partner.objects.create(
        node_id=uuid.uuid4(), country=country, name=f"{country} NRM",
        endpoint=f"https://{country.lower()}.example",
        valid_until=timezone.now() + timedelta(days=365), card={},
        keys=identity.public_jwks(ring), fingerprint="0" * 64, allowed_types=list(types))
    return SimpleNamespace(partner=partner, ring=ring, country=country)


@pytest.fixture
def ua(tmp_path):
    return make_partner("UA", tmp_path)


@pytest.fixture
def ro(tmp_path):
    return make_partner("RO", tmp_path)


@pytest.fixture
def coordinator(db):
    return make_user(Role.NATIONAL_COORDINATOR, make_agency("md-nrm-office"), "md-coordinator")


@pytest.fixture
def regional_analyst(db):
    return make_user(Role.REGIONAL_ANALYST, None, "regional-analyst")


def send_from(partner, payload: dict, message_type: str = MESSAGE_TYPE) -> receiving.Answer:
    """The partner's node sends this node a message, signed and sealed as its outbox would."""
    kid, key = partner.ring.signing_private_key()
    ring = get_keyring()
    enc_id = ring.active_encryption_key_id
    now = int(time.time())
    content = {
        "message_id": str(uuid.uuid4()), "type": message_type, "schema_version": "1.0",
        "sender": str(partner.partner.node_id), "recipient": str(identity.this_node().node_id),
        "issued_at": now, "expires_at": now + 3600, "in_reply_to": None, "case_id": None,
        "sequence": None, "consent_ref": "", "payload": payload,
    }
    sealed = seal(content, key, kid, ring.encryption_public_key(enc_id), enc_id)
    return receiving.receive(sealed.sealed.encode("ascii"), str(partner.partner.node_id))


def seed(country: str, persons: int = 120, seed_value: int = 7):
    people = testdata.network_persons(persons, seed_value, COUNTRIES)
    testdata.seed_node(country, people, seed_value, *YEAR)
    return people
