"""Partners as witnesses, between two real nodes: Moldova's node sends its signed audit
checkpoints to Ukraine's, which keeps them; exported by Ukraine's administrator, they let
Moldova's administrator detect entries cut from Moldova's trail that Moldova's own database
no longer shows (the checkpoint rows went with them)."""

import sqlite3

import pytest

from opennrm.audit.guard import SQLITE_INSTALL, SQLITE_REMOVE
from tests.transnational.nodes import Node, two_nodes, wait_for

pytestmark = pytest.mark.nodes


def witnessed(ua: Node) -> list[tuple]:
    return ua.sql("SELECT sequence, entry_hash, conflict FROM transnational_witnessedcheckpoint "
                  "ORDER BY signed_at")


def cut_the_trail(md: Node, keep: int) -> None:
    """What a database administrator of Moldova's node does without the key ring: lift the
    triggers, remove the entries after `keep` and every checkpoint row, reset the head to the
    entry kept, put the triggers back. The chain left is a valid prefix."""
    with sqlite3.connect(md.home / "node.sqlite3", timeout=20) as conn:
        for statement in SQLITE_REMOVE:
            conn.execute(statement)
        conn.execute("DELETE FROM audit_auditentry WHERE sequence > ?", (keep,))
        conn.execute("DELETE FROM audit_auditcheckpoint")
        (last_hash,) = conn.execute("SELECT entry_hash FROM audit_auditentry WHERE sequence = ?",
                                    (keep,)).fetchone()
        conn.execute("UPDATE audit_audithead SET last_sequence = ?, last_hash = ?",
                     (keep, last_hash))
        for statement in SQLITE_INSTALL:
            conn.execute(statement)


def test_a_partner_witnesses_the_trail_and_its_copy_shows_a_cut(tmp_path):
    with two_nodes(tmp_path / "nodes", "ping,pong") as (md, ua):
        assert md.database == "sqlite"  # cut_the_trail works on its file
        # MD sends its checkpoint now; UA keeps it, although only ping and pong are allowed.
        sent = md.opennrm("trm", "send-checkpoint").stdout
        assert "queued to 1 partner node(s)" in sent and "receipt_received" in sent, sent
        wait_for(lambda: len(witnessed(ua)) == 1)
        signed = md.sql("SELECT sequence, entry_hash FROM audit_auditcheckpoint")
        assert [row[:2] for row in witnessed(ua)] == signed
        # `opennrm audit checkpoint` (and the hourly one) reach the partners too.
        md.opennrm("audit", "checkpoint", "--output", "-")
        wait_for(lambda: len(witnessed(ua)) == 2, timeout=60)
        assert [row[2] for row in witnessed(ua)] == ["", ""]  # no conflict

        # UA's administrator exports what it witnessed of MD; MD's chain matches it.
        witness_file = tmp_path / "md-witnessed-by-ua.jws"
        out = ua.opennrm("trm", "witnessed", "--partner", "MD", "--output",
                         str(witness_file)).stdout
        assert "2 checkpoint(s)" in out
        verified = md.opennrm("audit", "verify", "--checkpoint", str(witness_file))
        assert "intact" in verified.stdout

        # MD's trail is cut, its checkpoint rows deleted: MD alone sees nothing wrong.
        cut_the_trail(md, keep=2)
        alone = md.opennrm("audit", "verify")
        assert alone.returncode == 0 and "No signed checkpoint" in alone.stdout
        # The witness's copy shows it.
        broken = md.opennrm("audit", "verify", "--checkpoint", str(witness_file), check=False)
        assert broken.returncode == 1, broken.stdout
        assert "BROKEN" in broken.stdout and "entries were removed" in broken.stdout

        # MD's next checkpoint, at the cut chain's end, is a conflict at UA.
        md.opennrm("trm", "send-checkpoint")
        wait_for(lambda: len(witnessed(ua)) == 3)
        conflict = witnessed(ua)[-1][2]
        assert "then only entry 2" in conflict and "removed from the end" in conflict
        listed = ua.opennrm("trm", "witnessed").stdout
        assert "1 conflicting checkpoint(s)" in listed
