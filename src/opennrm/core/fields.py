"""Model fields whose values are encrypted at rest with the node's key ring."""

import json

from django.db import models

from opennrm.core.keyring import KeyRingError, get_keyring, reload_keyring


class EncryptedTextField(models.TextField):
    """Text encrypted with AES-GCM; the database holds only `enc1:<key id>:<ciphertext>`.

    Encrypted values cannot be filtered or ordered on; search goes through a blind index.
    """

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.crypto_context = f"{cls._meta.label}.{name}"

    def serialise(self, value) -> str:
        return str(value)

    def deserialise(self, text: str):
        return text

    def get_prep_value(self, value):
        if value is None or value == "":
            return value
        return get_keyring().encrypt(self.serialise(value), self.crypto_context)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            plaintext = get_keyring().decrypt(value, self.crypto_context)
        except KeyRingError:
            # Another process may have just added a key: read the ring file again, once.
            plaintext = reload_keyring().decrypt(value, self.crypto_context)
        return self.deserialise(plaintext)

    def to_python(self, value):
        return value


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (list or dict) encrypted as a whole."""

    def serialise(self, value) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def deserialise(self, text: str):
        return json.loads(text)

    def get_prep_value(self, value):
        if value is None:
            return None
        return get_keyring().encrypt(self.serialise(value), self.crypto_context)
