"""Signed checkpoints of the audit chain.

A checkpoint is a JWS in compact form, signed with the node's Ed25519 key from the key ring
(algorithm "Ed25519", RFC 9864; header `kid` = the signing key's id), whose payload is

    {"type": "opennrm-audit-checkpoint", "sequence": N, "hash": "<entry N's hash>",
     "time": "<ISO 8601>", "kid": "<key id>"}

`verify_chain` checks that the chain still has that hash at entry N and continues from it to
the head, so a rewrite, truncation or wipe done after the checkpoint is detected even by
someone who also reset the head row. A copy kept outside the database (a file, a log
shipper, a partner node) also survives the deletion of the checkpoint rows.

After the commit that stores a checkpoint, `signals.checkpoint_written` is sent: the
transnational channel (a higher layer, which this module does not import) sends it to the
partner nodes, which keep it as witnesses.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from opennrm.audit.models import AuditCheckpoint, AuditHead
from opennrm.audit.signals import checkpoint_written
from opennrm.core.keyring import KeyRing, get_keyring

log = logging.getLogger(__name__)

ALGORITHM = "Ed25519"
PAYLOAD_TYPE = "opennrm-audit-checkpoint"


class CheckpointError(Exception):
    pass


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    entry_hash: str
    time: datetime
    key_id: str
    token: str


def sign_checkpoint(sequence: int, entry_hash: str, at: datetime,
                    ring: KeyRing | None = None) -> str:
    ring = ring or get_keyring()
    key_id, private_key = ring.signing_private_key()
    payload = {"type": PAYLOAD_TYPE, "sequence": sequence, "hash": entry_hash,
               "time": at.isoformat(), "kid": key_id}
    header = {"alg": ALGORITHM, "kid": key_id, "typ": PAYLOAD_TYPE}
    return jws.serialize_compact(
        header, json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8"),
        OKPKey.import_key(private_key), algorithms=[ALGORITHM])


def write_checkpoint(announce: bool = True) -> AuditCheckpoint:
    """Sign the head of the chain as it is now and store the checkpoint. `announce`: send
    `signals.checkpoint_written` after the commit (False: the caller passes it on itself)."""
    with transaction.atomic():
        # The head row, read under the same lock appends take: the signed hash is the
        # head's, never one an append in progress is about to replace.
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT last_sequence, last_hash FROM {AuditHead._meta.db_table} "
                           f"WHERE id = 1{lock}")
            row = cursor.fetchone()
        sequence, entry_hash = row if row else (0, "0" * 64)
        at = timezone.now()
        token = sign_checkpoint(sequence, entry_hash, at)
        checkpoint = read_checkpoint(token)
        stored = AuditCheckpoint.objects.create(
            sequence=sequence, entry_hash=entry_hash, signed_at=at,
            key_id=checkpoint.key_id, token=token)
        if announce:
            transaction.on_commit(lambda: _announce(stored))
    return stored


def _announce(checkpoint: AuditCheckpoint) -> None:
    # A receiver that fails (a partner unreachable, a bug) must not fail the checkpoint,
    # already stored, nor the hourly task, which schedules the next one after it.
    for receiver, answer in checkpoint_written.send_robust(sender=AuditCheckpoint,
                                                           checkpoint=checkpoint):
        if isinstance(answer, Exception):
            log.error("%s failed on audit checkpoint %s", getattr(receiver, "__name__", receiver),
                      checkpoint.pk, exc_info=answer)


def read_checkpoint(token: str, ring: KeyRing | None = None) -> Checkpoint:
    """The checkpoint in `token`, if a signing key of the ring signed it; else
    CheckpointError."""
    ring = ring or get_keyring()
    return verify_checkpoint(token, ring.signing_public_key, "the key ring")


def verify_checkpoint(token: str, public_key: Callable[[str], object | None],
                      keys: str) -> Checkpoint:
    """The checkpoint in `token`, if the key `public_key(kid)` gives for its kid signed it (a
    key of this node's ring, or of a partner node's card: `keys` names which, for the
    error); else CheckpointError."""
    token = token.strip()
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
    except (ValueError, JoseError, UnicodeEncodeError) as error:
        raise CheckpointError(f"not a checkpoint ({error})") from None
    key_id = header.get("kid", "")
    key = public_key(key_id) if isinstance(key_id, str) else None
    if key is None:
        raise CheckpointError(f"signed with key {key_id!r}, which is not in {keys}")
    try:
        verified = jws.deserialize_compact(token, OKPKey.import_key(key),
                                           algorithms=[ALGORITHM])
        payload = json.loads(verified.payload)
    except (ValueError, JoseError) as error:
        raise CheckpointError(f"the signature does not verify ({error})") from None
    if not isinstance(payload, dict):
        raise CheckpointError("the signed payload is not a checkpoint")
    try:
        time = parse_datetime(str(payload.get("time", "")))
    except ValueError:  # well formed, but no such day or hour
        time = None
    if (payload.get("type") != PAYLOAD_TYPE or payload.get("kid") != key_id
            or not isinstance(payload.get("sequence"), int) or time is None
            or not isinstance(payload.get("hash"), str)):
        raise CheckpointError("the signed payload is not a checkpoint")
    return Checkpoint(sequence=payload["sequence"], entry_hash=payload["hash"], time=time,
                      key_id=key_id, token=token)


def read_checkpoint_file(text: str) -> list[str]:
    """The tokens in a checkpoint file: one per line (the file `checkpoint` appends to)."""
    return [line.strip() for line in text.splitlines() if line.strip()]
