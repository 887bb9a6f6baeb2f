"""Signed checkpoints of the audit chain.

A checkpoint is a JWS in compact form, signed with the node's Ed25519 key from the key ring
(algorithm "Ed25519", RFC 9864; header `kid` = the signing key's id), whose payload is

    {"type": "opennrm-audit-checkpoint", "sequence": N, "hash": "<entry N's hash>",
     "time": "<ISO 8601>", "kid": "<key id>"}

`verify_chain` checks that the chain still has that hash at entry N and continues from it to
the head, so a rewrite, truncation or wipe done after the checkpoint is detected even by
someone who also reset the head row. A copy kept outside the database (a file, a log
shipper, later a partner node) also survives the deletion of the checkpoint rows.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from opennrm.audit.models import AuditCheckpoint, AuditHead
from opennrm.core.keyring import KeyRing, get_keyring

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


def write_checkpoint() -> AuditCheckpoint:
    """Sign the head of the chain as it is now and store the checkpoint."""
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
        return AuditCheckpoint.objects.create(
            sequence=sequence, entry_hash=entry_hash, signed_at=at,
            key_id=checkpoint.key_id, token=token)


def read_checkpoint(token: str, ring: KeyRing | None = None) -> Checkpoint:
    """The checkpoint in `token`, if a signing key of the ring signed it; else
    CheckpointError."""
    ring = ring or get_keyring()
    token = token.strip()
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
    except (ValueError, JoseError, UnicodeEncodeError) as error:
        raise CheckpointError(f"not a checkpoint ({error})") from None
    key_id = header.get("kid", "")
    public_key = ring.signing_public_key(key_id) if isinstance(key_id, str) else None
    if public_key is None:
        raise CheckpointError(f"signed with key {key_id!r}, which is not in the key ring")
    try:
        verified = jws.deserialize_compact(token, OKPKey.import_key(public_key),
                                           algorithms=[ALGORITHM])
        payload = json.loads(verified.payload)
    except (ValueError, JoseError) as error:
        raise CheckpointError(f"the signature does not verify ({error})") from None
    time = parse_datetime(str(payload.get("time", "")))
    if (payload.get("type") != PAYLOAD_TYPE or payload.get("kid") != key_id
            or not isinstance(payload.get("sequence"), int) or time is None
            or not isinstance(payload.get("hash"), str)):
        raise CheckpointError("the signed payload is not a checkpoint")
    return Checkpoint(sequence=payload["sequence"], entry_hash=payload["hash"], time=time,
                      key_id=key_id, token=token)


def read_checkpoint_file(text: str) -> list[str]:
    """The tokens in a checkpoint file: one per line (the file `checkpoint` appends to)."""
    return [line.strip() for line in text.splitlines() if line.strip()]
