"""Key rotation and revocation between two real nodes: Moldova rotates its keys with the CLI,
Ukraine's partner registry takes the new card from the `key_rotation` message (read in its
database), the channel works on the new keys, and once Moldova revokes its old signing key a
message signed with it (made here from a copy of the old key, as a thief of the old server
could) is refused as "revoked_key"."""

import json
import time
import uuid

import httpx
import pytest

from opennrm.core.keyring import KeyRing
from opennrm.transnational.envelope import seal, signed_header
from opennrm.transnational.identity import normalise_fingerprint
from tests.transnational.nodes import Node, two_nodes, uid, wait_for

pytestmark = pytest.mark.nodes


def _json(value):
    """A JSON column as the node's database returns it (SQLite: text; PostgreSQL: decoded)."""
    return json.loads(value) if isinstance(value, str) else value


def partner_row(node: Node, other: Node) -> dict:
    keys, fingerprint, revoked = node.sql(
        "SELECT keys, fingerprint, revoked_keys FROM transnational_partner WHERE node_id = ?",
        (uid(node, other.node_id),))[0]
    return {"kids": [key["kid"] for key in _json(keys)["keys"]], "fingerprint": fingerprint,
            "revoked": [entry["kid"] for entry in _json(revoked)]}


def printed(output: str, label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in output.splitlines()
                if line.startswith(label + ":"))


def sealed_message(sender: Node, recipient: Node, signing_key, kid: str, enc: dict) -> str:
    """A ping from `sender` signed with `signing_key` (named `kid`), sealed to `enc`, as
    services.send_message seals one."""
    now = int(time.time())
    content = {
        "message_id": str(uuid.uuid4()), "type": "ping", "schema_version": "1.0",
        "sender": sender.node_id, "recipient": recipient.node_id, "issued_at": now,
        "expires_at": now + 3600, "in_reply_to": None, "case_id": None, "sequence": None,
        "consent_ref": "", "payload": {"text": "made by the test"},
    }
    return seal(content, signing_key, kid, enc, enc["kid"]).sealed


def post(sender: Node, recipient: Node, body: str) -> httpx.Response:
    return httpx.post(recipient.url + "/trm/v1/messages", content=body.encode("ascii"),
                      timeout=20, headers={"TRM-Sender": sender.node_id,
                                           "Content-Type": "application/jose"})


def test_a_rotation_reaches_the_partner_and_a_revoked_key_is_refused(tmp_path):
    with two_nodes(tmp_path, "ping,pong") as (md, ua):
        # A copy of Moldova's old signing key, kept before it is revoked.
        old_kid, old_key = KeyRing.load(md.keyring).signing_private_key()
        old_enc = next(key for key in md.card()["keys"]["keys"] if key["use"] == "enc")
        ua_enc = next(key for key in ua.card()["keys"]["keys"] if key["use"] == "enc")

        out = md.opennrm("node", "rotate-keys").stdout
        new_sig = printed(out, "Active signing key")
        new_enc = printed(out, "Active encryption key")
        assert new_sig != old_kid and new_enc != old_enc["kid"]
        assert "Partners told: Ukraine NRM (UA)" in out
        # Ukraine's partner row: the new card, active keys first, the earlier ones after.
        wait_for(lambda: partner_row(ua, md)["kids"][0] == new_sig)
        row = partner_row(ua, md)
        assert row["kids"] == [new_sig, new_enc, old_kid, old_enc["kid"]]
        assert row["fingerprint"] == normalise_fingerprint(printed(out, "Fingerprint"))

        # After the rotation: a ping signed with the new key is applied at Ukraine, and its
        # pong, sealed to Moldova's new encryption key, is applied at Moldova.
        ping_id = md.opennrm("trm", "ping", "UA").stdout.split(":", 1)[0].strip()
        wait_for(lambda: md.sql("SELECT status FROM transnational_outboxmessage WHERE "
                                "message_id = ?", (uid(md, ping_id),))[0][0] == "answered")
        assert ua.sql("SELECT status FROM transnational_inboxmessage WHERE message_id = ?",
                      (uid(ua, ping_id),)) == [("applied",)]
        pong = ua.sql("SELECT sealed FROM transnational_outboxmessage WHERE in_reply_to = ?",
                      (uid(ua, ping_id),))[0][0]
        assert signed_header(pong)["kid"] == new_enc  # the JWE's header names the key
        # A message Ukraine sealed to the old encryption key before it heard of the rotation
        # still opens.
        ua_kid, ua_key = KeyRing.load(ua.keyring).signing_private_key()
        answer = post(ua, md, sealed_message(ua, md, ua_key, ua_kid, old_enc))
        assert answer.status_code == 200 and answer.json()["status"] == "applied"

        # Moldova revokes its old signing key: Ukraine forgets it and remembers it revoked.
        md.opennrm("node", "revoke-key", old_kid, "--reason", "the old server was retired")
        wait_for(lambda: partner_row(ua, md)["revoked"] == [old_kid])
        assert old_kid not in partner_row(ua, md)["kids"]
        assert KeyRing.load(md.keyring).signing_keys[old_kid]["private"] is None
        listed = md.opennrm("node", "keys").stdout
        assert old_kid in listed and "revoked" in listed

        # A message signed with the old key is refused as revoked, not as unknown.
        answer = post(md, ua, sealed_message(md, ua, old_key, old_kid, ua_enc))
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "revoked_key"
        assert ua.sql("SELECT count(*) FROM transnational_inboxmessage WHERE reason_code = "
                      "'revoked_key'") == [(1,)]
