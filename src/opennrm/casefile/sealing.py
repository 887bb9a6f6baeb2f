"""Encrypting attached files at rest: envelope encryption under the node's key ring.

Each file gets its own random AES-256-GCM key. The file is sealed with it (nonce and
ciphertext, as bytes: no base64), and the key itself is stored in an EncryptedTextField,
that is, encrypted with the key ring's active data key. So:

* a copy of the database without the key ring reveals no file;
* `opennrm keys rotate` re-encrypts the 44-character keys like any other value, and never
  has to read, decrypt or rewrite a file;
* the attachment's UUID is the associated data, so sealed content copied to another
  attachment row fails to open.
"""

import base64
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def _associated_data(attachment_uuid) -> bytes:
    return f"opennrm.casefile.Attachment:{attachment_uuid}".encode("ascii")


def seal(content: bytes, attachment_uuid) -> tuple[str, bytes]:
    """(the file's key as text, to store encrypted; the sealed file)."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, content, _associated_data(attachment_uuid))
    return base64.b64encode(key).decode("ascii"), sealed


def unseal(key_text: str, sealed: bytes, attachment_uuid) -> bytes:
    """The file as it was sealed; cryptography's InvalidTag if the content or key was
    changed or belongs to another attachment."""
    sealed = bytes(sealed)
    return AESGCM(base64.b64decode(key_text)).decrypt(
        sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _associated_data(attachment_uuid))
