"""The key ring gains the audit key and the node's signing keys without losing a key."""

import json

import pytest

from opennrm.core.keyring import KeyRing, KeyRingError


def _format_1_ring(path):
    KeyRing.create(path)
    raw = json.loads(path.read_text())
    old = {"format": 1, "active": raw["active"], "data_keys": raw["data_keys"],
           "index_key": raw["index_key"]}
    path.write_text(json.dumps(old))
    return old


def test_an_old_ring_is_upgraded_on_load_keeping_its_keys(tmp_path):
    path = tmp_path / "keyring.json"
    old = _format_1_ring(path)
    ring = KeyRing.load(path)
    raw = json.loads(path.read_text())
    assert raw["format"] == 2
    assert raw["data_keys"] == old["data_keys"] and raw["index_key"] == old["index_key"]
    assert raw["active"] == old["active"]
    assert len(ring.audit_key) == 32
    assert ring.active_signing_key_id in raw["node_signing_keys"]
    again = KeyRing.load(path)  # the upgrade happens once: the audit key stays
    assert again.audit_key == ring.audit_key
    assert again.active_signing_key_id == ring.active_signing_key_id


def test_signing_keys_rotate_and_retired_ones_still_verify(tmp_path):
    ring = KeyRing.create(tmp_path / "keyring.json")
    first = ring.active_signing_key_id
    second = ring.add_signing_key()
    assert ring.active_signing_key_id == second != first
    with pytest.raises(KeyRingError):
        ring.retire_signing_key(second)
    ring.retire_signing_key(first)
    reloaded = KeyRing.load(ring.path)
    assert reloaded.signing_keys[first]["private"] is None
    assert reloaded.signing_public_key(first) is not None
    assert reloaded.signing_private_key()[0] == second
