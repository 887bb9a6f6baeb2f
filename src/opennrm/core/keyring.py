"""The node's key ring: AES-256-GCM data keys (rotatable), the blind-index key, the audit
key (the HMAC of the audit chain), the node's Ed25519 signing keys (rotatable; they sign
audit checkpoints and are the node's identity towards partner nodes) and, once the node is
set up for transnational exchange (`opennrm node init`), its X25519 encryption keys (partner
nodes encrypt messages to it). A node key may be revoked (`revoke_signing_key`,
`revoke_encryption_key`): its private half is forgotten, its public half kept with the time
of the revocation, and it is no longer on the node's card.

The ring is a JSON file outside the database (OPENNRM_KEYRING), so that a copy of the
database alone reveals no identity. Every ciphertext names the key that made it, so keys
can be rotated while the node runs: new writes use the active key, old values still
decrypt until `opennrm keys rotate` has re-encrypted them and the old key is retired.
"""

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

CIPHERTEXT_PREFIX = "enc1"
RING_FORMAT = 2


class KeyRingError(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


@dataclass
class KeyRing:
    path: Path
    active_key_id: str
    data_keys: dict[str, bytes]
    index_key: bytes
    created: dict[str, str] = field(default_factory=dict)
    # The key of the audit chain's HMAC (format 2 on). Long-lived, like the index key.
    audit_key: bytes = b""
    # Ed25519 signing keys by id: {"private": raw 32 bytes or None once retired,
    # "public": raw 32 bytes, "created": time, "revoked": time or ""}; a retired key keeps
    # its public half, so the checkpoints it signed still verify.
    signing_keys: dict[str, dict] = field(default_factory=dict)
    active_signing_key_id: str = ""
    # X25519 encryption keys by id, in the same shape as the signing keys (a retired one
    # keeps no private half). Added by `opennrm node init`; a node without one receives
    # no transnational messages.
    encryption_keys: dict[str, dict] = field(default_factory=dict)
    active_encryption_key_id: str = ""
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    # --- persistence -------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path) -> "KeyRing":
        key_id = _new_key_id()
        ring = cls(
            path=path,
            active_key_id=key_id,
            data_keys={key_id: AESGCM.generate_key(bit_length=256)},
            index_key=secrets.token_bytes(32),
            created={key_id: _now()},
        )
        ring._add_missing_keys()
        ring.save(replace=False)
        return ring

    @classmethod
    def load(cls, path: Path) -> "KeyRing":
        ring = cls._read(path)
        if ring._lacks_keys():
            ring = cls._upgrade(path)
        return ring

    @classmethod
    def _read(cls, path: Path) -> "KeyRing":
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            path=path,
            active_key_id=raw["active"],
            data_keys={kid: _unb64(k["key"]) for kid, k in raw["data_keys"].items()},
            index_key=_unb64(raw["index_key"]),
            created={kid: k.get("created", "") for kid, k in raw["data_keys"].items()},
            audit_key=_unb64(raw["audit_key"]) if raw.get("audit_key") else b"",
            signing_keys={kid: _read_node_key(k)
                          for kid, k in raw.get("node_signing_keys", {}).items()},
            active_signing_key_id=raw.get("active_signing_key", ""),
            encryption_keys={kid: _read_node_key(k)
                             for kid, k in raw.get("node_encryption_keys", {}).items()},
            active_encryption_key_id=raw.get("active_encryption_key", ""),
        )

    def _lacks_keys(self) -> bool:
        return not self.audit_key or self.active_signing_key_id not in self.signing_keys

    def _add_missing_keys(self) -> None:
        if not self.audit_key:
            self.audit_key = secrets.token_bytes(32)
        if self.active_signing_key_id not in self.signing_keys:
            self._new_signing_key()

    @classmethod
    def _upgrade(cls, path: Path) -> "KeyRing":
        """Add the keys a ring of an older format lacks, keeping every key it has.

        Under an exclusive lock, re-reading the file: processes starting together after an
        upgrade must all end up with the same audit key, never one each."""
        with _locked(path):
            ring = cls._read(path)
            if ring._lacks_keys():
                ring._add_missing_keys()
                ring.save()
        return ring

    def save(self, replace: bool = True) -> None:
        """Write the ring; with `replace=False`, FileExistsError if the file exists (so
        that processes starting together cannot each create a ring and lose keys)."""
        payload = {
            "format": RING_FORMAT,
            "active": self.active_key_id,
            "data_keys": {
                kid: {"key": _b64(key), "created": self.created.get(kid, "")}
                for kid, key in self.data_keys.items()
            },
            "index_key": _b64(self.index_key),
            "audit_key": _b64(self.audit_key),
            "active_signing_key": self.active_signing_key_id,
            "node_signing_keys": {kid: _written_node_key(k)
                                  for kid, k in self.signing_keys.items()},
        }
        if self.encryption_keys:
            payload["active_encryption_key"] = self.active_encryption_key_id
            payload["node_encryption_keys"] = {kid: _written_node_key(k)
                                               for kid, k in self.encryption_keys.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
        if replace:
            os.replace(tmp, self.path)
        else:
            try:
                os.link(tmp, self.path)  # atomic, and refuses to overwrite
            finally:
                os.unlink(tmp)
        self._ciphers.clear()

    # --- keys --------------------------------------------------------------------------
    def add_key(self) -> str:
        """Add a new data key and make it the active one. Returns its id."""
        key_id = _new_key_id()
        self.data_keys[key_id] = AESGCM.generate_key(bit_length=256)
        self.created[key_id] = _now()
        self.active_key_id = key_id
        self.save()
        return key_id

    def retire_key(self, key_id: str) -> None:
        if key_id == self.active_key_id:
            raise KeyRingError("the active key cannot be retired; rotate first")
        if key_id not in self.data_keys:
            raise KeyRingError(f"no key {key_id!r} in the key ring")
        del self.data_keys[key_id]
        self.created.pop(key_id, None)
        self.save()

    def _new_signing_key(self) -> str:
        key_id = "n" + _new_key_id()[1:]
        private = Ed25519PrivateKey.generate()
        self.signing_keys[key_id] = {
            "private": private.private_bytes_raw(),
            "public": private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            "created": _now(),
            "revoked": "",
        }
        self.active_signing_key_id = key_id
        return key_id

    def add_signing_key(self) -> str:
        """Add a new Ed25519 signing key and make it the node's active one. Returns its id."""
        key_id = self._new_signing_key()
        self.save()
        return key_id

    def retire_signing_key(self, key_id: str) -> None:
        """Forget a signing key's private half; its public half stays to verify what it
        signed."""
        if key_id == self.active_signing_key_id:
            raise KeyRingError("the active signing key cannot be retired; rotate first")
        if key_id not in self.signing_keys:
            raise KeyRingError(f"no signing key {key_id!r} in the key ring")
        self.signing_keys[key_id]["private"] = None
        self.save()

    def signing_private_key(self, key_id: str | None = None) -> tuple[str, Ed25519PrivateKey]:
        """The node's active signing key (or the one named, if its private half is kept) and
        its id."""
        key_id = key_id or self.active_signing_key_id
        private = self.signing_keys.get(key_id, {}).get("private")
        if private is None:
            raise KeyRingError(f"the key ring holds no private signing key {key_id!r}")
        return key_id, Ed25519PrivateKey.from_private_bytes(private)

    def signing_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        key = self.signing_keys.get(key_id)
        return Ed25519PublicKey.from_public_bytes(key["public"]) if key else None

    def add_encryption_key(self) -> str:
        """Add a new X25519 encryption key and make it the node's active one. Returns its
        id. Older keys keep their private half, so messages sealed to them still open."""
        key_id = "x" + _new_key_id()[1:]
        private = X25519PrivateKey.generate()
        self.encryption_keys[key_id] = {
            "private": private.private_bytes_raw(),
            "public": private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            "created": _now(),
            "revoked": "",
        }
        self.active_encryption_key_id = key_id
        self.save()
        return key_id

    def retire_encryption_key(self, key_id: str) -> None:
        """Forget an encryption key's private half: messages sealed to it no longer open."""
        self._check_not_active(key_id, self.encryption_keys, self.active_encryption_key_id,
                               "encryption")
        self.encryption_keys[key_id]["private"] = None
        self.save()

    def revoke_signing_key(self, key_id: str) -> None:
        """Revoke a signing key (compromised, or no longer wanted): its private half is
        forgotten, its public half kept and marked revoked (what it signed before stays
        checkable, the node's card no longer lists it)."""
        self._revoke(key_id, self.signing_keys, self.active_signing_key_id, "signing")

    def revoke_encryption_key(self, key_id: str) -> None:
        """Revoke an encryption key: messages sealed to it no longer open, and the node's
        card no longer lists it."""
        self._revoke(key_id, self.encryption_keys, self.active_encryption_key_id, "encryption")

    def _revoke(self, key_id: str, keys: dict, active: str, kind: str) -> None:
        self._check_not_active(key_id, keys, active, kind)
        if keys[key_id].get("revoked"):
            raise KeyRingError(f"the {kind} key {key_id!r} is already revoked")
        keys[key_id]["private"] = None
        keys[key_id]["revoked"] = _now()
        self.save()

    @staticmethod
    def _check_not_active(key_id: str, keys: dict, active: str, kind: str) -> None:
        if key_id == active:
            raise KeyRingError(f"the active {kind} key cannot be retired or revoked; "
                               "rotate first")
        if key_id not in keys:
            raise KeyRingError(f"no {kind} key {key_id!r} in the key ring")

    def withdraw_key(self, key_id: str, previous_active: str) -> None:
        """Take back a signing or encryption key just added, and make `previous_active` the
        active key of its kind again: a rotation whose announcement to the partners failed
        must not leave the node with keys no partner was told about."""
        for keys, attribute in ((self.signing_keys, "active_signing_key_id"),
                                (self.encryption_keys, "active_encryption_key_id")):
            if key_id in keys:
                if previous_active not in keys:
                    raise KeyRingError(f"no key {previous_active!r} to make active again")
                del keys[key_id]
                setattr(self, attribute, previous_active)
                self.save()
                return
        raise KeyRingError(f"no node key {key_id!r} in the key ring")

    def encryption_private_key(self, key_id: str) -> X25519PrivateKey | None:
        """The node's X25519 key `key_id`, if the ring still holds its private half."""
        key = self.encryption_keys.get(key_id)
        if not key or not key["private"]:
            return None
        return X25519PrivateKey.from_private_bytes(key["private"])

    def encryption_public_key(self, key_id: str) -> X25519PublicKey | None:
        key = self.encryption_keys.get(key_id)
        return X25519PublicKey.from_public_bytes(key["public"]) if key else None

    def _cipher(self, key_id: str) -> AESGCM:
        if key_id not in self._ciphers:
            try:
                self._ciphers[key_id] = AESGCM(self.data_keys[key_id])
            except KeyError:
                raise KeyRingError(
                    f"data key {key_id!r} is not in the key ring (retired too early?)"
                ) from None
        return self._ciphers[key_id]

    # --- encryption --------------------------------------------------------------------
    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypt `plaintext`; `context` (e.g. "cases.Person.family_name") is bound as
        associated data, so a ciphertext copied into another column fails to decrypt."""
        nonce = secrets.token_bytes(12)
        sealed = self._cipher(self.active_key_id).encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return f"{CIPHERTEXT_PREFIX}:{self.active_key_id}:{_b64(nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> str:
        prefix, key_id, body = token.split(":", 2)
        if prefix != CIPHERTEXT_PREFIX:
            raise KeyRingError("value is not an OpenNRM ciphertext")
        raw = _unb64(body)
        plain = self._cipher(key_id).decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        return plain.decode("utf-8")

    @staticmethod
    def key_id_of(token: str) -> str:
        return token.split(":", 2)[1]

    def blind_index(self, normalised: str) -> str:
        """A keyed hash for exact search; without the key it cannot be brute-forced."""
        return hmac.new(self.index_key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()

    def audit_mac(self, message: bytes) -> str:
        """HMAC-SHA-256 of an audit entry with the audit key: without the key ring, no one
        can compute a valid chain, even with write access to the database."""
        return hmac.new(self.audit_key, message, hashlib.sha256).hexdigest()


def _read_node_key(raw: dict) -> dict:
    return {"private": _unb64(raw["private"]) if raw.get("private") else None,
            "public": _unb64(raw["public"]), "created": raw.get("created", ""),
            "revoked": raw.get("revoked", "")}


def _written_node_key(key: dict) -> dict:
    written = {"private": _b64(key["private"]) if key["private"] else None,
               "public": _b64(key["public"]), "created": key["created"]}
    if key.get("revoked"):
        written["revoked"] = key["revoked"]
    return written


def _new_key_id() -> str:
    return datetime.now(UTC).strftime("k%Y%m%d") + "-" + secrets.token_hex(3)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _locked:
    """An exclusive lock on the ring (a `.lock` file beside it) while it is upgraded."""

    def __init__(self, path: Path):
        self.lock_path = path.with_name(path.name + ".lock")

    def __enter__(self):
        fd = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        self.handle = os.fdopen(fd, "w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


_ring: KeyRing | None = None
_ring_checked_at = 0.0
_ring_mtime = 0.0
_ring_setting = None
# How often a running process looks at the ring file for a key added by a rotation.
RELOAD_INTERVAL_SECONDS = 1.0


def get_keyring() -> KeyRing:
    """The node's key ring, created on first use when the file does not exist yet.

    A process notices within RELOAD_INTERVAL_SECONDS that another process (a rotation)
    changed the file, so web workers start writing with the new key without a restart.
    """
    global _ring, _ring_checked_at, _ring_mtime, _ring_setting
    now = time.monotonic()
    setting = settings.OPENNRM_KEYRING
    # Hot path (every encrypted value): no Path parsing while the setting is unchanged.
    if (_ring is not None and setting is _ring_setting
            and now - _ring_checked_at < RELOAD_INTERVAL_SECONDS):
        return _ring
    path = Path(setting)
    if _ring is not None and _ring.path == path:
        _ring_setting = setting
        _ring_checked_at = now
        if path.exists() and path.stat().st_mtime == _ring_mtime:
            return _ring
    try:
        _ring = KeyRing.load(path) if path.exists() else KeyRing.create(path)
    except FileExistsError:  # another process created it a moment ago
        _ring = KeyRing.load(path)
    _ring_setting = setting
    _ring_checked_at = now
    _ring_mtime = path.stat().st_mtime
    return _ring


def reload_keyring() -> KeyRing:
    global _ring
    _ring = None
    return get_keyring()
