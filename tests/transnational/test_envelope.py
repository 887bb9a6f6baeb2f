"""The envelope opens every message the channel accepts: up to OPENNRM_TRM_MAX_MESSAGE_BYTES,
not only up to the 64 KiB joserfc opens by default (a cross-border linkage chunk or a
statistics release is larger)."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings

from opennrm.transnational import envelope


def test_a_message_near_the_channel_limit_is_sealed_opened_and_verified():
    signing, encryption = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    # Base64 of the payload, then of the signature's payload: the sealed message grows by
    # about 16/9; a payload of half the limit stays under it.
    text = "x" * (settings.OPENNRM_TRM_MAX_MESSAGE_BYTES // 2)
    sealed = envelope.seal({"payload": {"text": text}}, signing, "sig-1",
                           encryption.public_key(), "enc-1")
    assert 65536 * 2 < len(sealed.sealed) < settings.OPENNRM_TRM_MAX_MESSAGE_BYTES
    signed = envelope.decrypt(sealed.sealed.encode("ascii"),
                              lambda kid: encryption if kid == "enc-1" else None)
    content = envelope.verify(signed, signing.public_key())
    assert content["payload"]["text"] == text
