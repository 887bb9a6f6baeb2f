"""The envelope: a JSON payload with its claims, signed (JWS compact, Ed25519), then
encrypted (JWE compact, ECDH-ES+A256KW with A256GCM) to the recipient's X25519 key.

Pure functions over keys: the caller (services, receiving, tests) supplies the keys from the
key ring and the partner registry. joserfc refuses Ed25519 unless the algorithms are passed
explicitly, so every call names them.

The signed content (the JWS payload) is

    {"message_id": UUIDv7, "type": "ping", "schema_version": "1.0",
     "sender": node id, "recipient": node id, "issued_at": seconds, "expires_at": seconds,
     "in_reply_to": message id or null, "case_id": global case id or null,
     "sequence": per (sender, recipient, case) or null, "consent_ref": "" or a reference,
     "payload": {...}}
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

SIGNING_ALGORITHM = "Ed25519"
KEY_ALGORITHM = "ECDH-ES+A256KW"
CONTENT_ALGORITHM = "A256GCM"
JWE_ALGORITHMS = [KEY_ALGORITHM, CONTENT_ALGORITHM]
MESSAGE_TYP = "opennrm-trm+jws"
RECEIPT_TYP = "opennrm-trm-receipt+jws"

CLAIMS = ("message_id", "type", "schema_version", "sender", "recipient", "issued_at",
          "expires_at", "in_reply_to", "case_id", "sequence", "consent_ref", "payload")


class Rejection(Exception):  # noqa: N818 - it is what the receiver answers
    """A message refused, with a machine-readable code and a text for people."""

    def __init__(self, code: str, text: str, http_status: int = 400):
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text
        self.http_status = http_status


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sign(content: dict, signing_key, kid: str, typ: str = MESSAGE_TYP) -> str:
    """A JWS compact of `content` with the Ed25519 private key `signing_key`."""
    header = {"alg": SIGNING_ALGORITHM, "kid": kid, "typ": typ}
    return jws.serialize_compact(header, canonical(content), OKPKey.import_key(signing_key),
                                 algorithms=[SIGNING_ALGORITHM])


def encrypt(signed: str, recipient_key, recipient_kid: str) -> str:
    """A JWE compact of the JWS `signed` to the X25519 public key `recipient_key` (a
    cryptography key or a JWK dict)."""
    header = {"alg": KEY_ALGORITHM, "enc": CONTENT_ALGORITHM, "kid": recipient_kid,
              "cty": "JWT"}
    return jwe.encrypt_compact(header, signed.encode("ascii"), OKPKey.import_key(recipient_key),
                               algorithms=JWE_ALGORITHMS)


@dataclass(frozen=True)
class Sealed:
    signed: str  # the JWS (the sender's evidence)
    sealed: str  # the JWE (what goes on the wire)
    digest: str  # SHA-256 of the JWE's bytes (what the receipt names)


def seal(content: dict, signing_key, signing_kid: str, recipient_key,
         recipient_kid: str) -> Sealed:
    signed = sign(content, signing_key, signing_kid)
    sealed = encrypt(signed, recipient_key, recipient_kid)
    return Sealed(signed=signed, sealed=sealed, digest=digest(sealed.encode("ascii")))


def decrypt(token: bytes, private_key_for) -> str:
    """The JWS inside the JWE `token`; `private_key_for(kid)` gives this node's X25519
    private key named by the header, or None."""
    try:
        text = token.decode("ascii").strip()
        header = json.loads(_b64decode(text.split(".", 1)[0]))
    except (UnicodeDecodeError, ValueError, IndexError):
        raise Rejection("malformed", "The body is not a JWE in compact form.") from None
    if not isinstance(header, dict) or header.get("alg") != KEY_ALGORITHM \
            or header.get("enc") != CONTENT_ALGORITHM:
        raise Rejection("unsupported_algorithm",
                        f"Messages are encrypted with {KEY_ALGORITHM} and {CONTENT_ALGORITHM}.")
    kid = header.get("kid")
    private_key = private_key_for(kid) if isinstance(kid, str) else None
    if private_key is None:
        raise Rejection("unknown_recipient_key",
                        f"This node has no encryption key {kid!r}.")
    try:
        plain = jwe.decrypt_compact(text, OKPKey.import_key(private_key),
                                    registry=_jwe_registry(len(text))).plaintext
        return plain.decode("ascii")
    except (JoseError, ValueError, UnicodeDecodeError):
        raise Rejection("decryption_failed",
                        "The message does not decrypt (altered in transit?).") from None


def signed_header(signed: str) -> dict:
    try:
        header = json.loads(_b64decode(signed.split(".", 1)[0]))
    except (ValueError, IndexError):
        raise Rejection("malformed", "The signed message is not a JWS in compact form.") from None
    if not isinstance(header, dict):
        raise Rejection("malformed", "The signed message is not a JWS in compact form.")
    return header


def verify(signed: str, public_key, typ: str = MESSAGE_TYP) -> dict:
    """The content of the JWS `signed` if `public_key` (Ed25519, a key or JWK dict) signed
    it; else Rejection("bad_signature")."""
    header = signed_header(signed)
    if header.get("alg") != SIGNING_ALGORITHM or header.get("typ") != typ:
        raise Rejection("bad_signature", f"Not a {typ} signed with {SIGNING_ALGORITHM}.")
    try:
        verified = jws.deserialize_compact(signed, OKPKey.import_key(public_key),
                                           registry=_jws_registry(len(signed)))
        content = json.loads(verified.payload)
    except (JoseError, ValueError):
        raise Rejection("bad_signature",
                        "The signature does not verify with the sender's key.") from None
    if not isinstance(content, dict):
        raise Rejection("malformed", "The signed content is not a JSON object.")
    return content


# joserfc bounds what it opens (a JWE ciphertext of 64 KiB, a JWS payload of 128,000 bytes)
# against oversized input. The channel bounds a message itself, before reading it
# (OPENNRM_TRM_MAX_MESSAGE_BYTES, 512 KiB), so the library's bound is the size of the text
# that got that far: without this, any message over 64 KiB failed to decrypt.
def _jwe_registry(size: int) -> jwe.JWERegistry:
    registry = jwe.JWERegistry(algorithms=JWE_ALGORITHMS)
    registry.max_ciphertext_length = max(registry.max_ciphertext_length, size)
    return registry


def _jws_registry(size: int) -> jws.JWSRegistry:
    registry = jws.JWSRegistry(algorithms=[SIGNING_ALGORITHM])
    registry.max_payload_length = max(registry.max_payload_length, size)
    return registry


def _b64decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
