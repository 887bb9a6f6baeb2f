"""One JSON Schema per message type and major version: `schemas/<type>.v<major>.json`, with
its full version (major.minor) in `x-opennrm-version`. A message names its schema version;
a minor version the node does not know yet is validated against the same major version's
schema (minor versions only add optional fields), an unknown major version is rejected.

Apps above the channel (the referral workflow) add their types' schemas with
`register_schema_dir`.
"""

import json
from functools import cache
from pathlib import Path

import jsonschema_rs

from opennrm.transnational.envelope import Rejection

SCHEMA_DIRS = [Path(__file__).resolve().parent / "schemas"]


def register_schema_dir(path: Path) -> None:
    if path not in SCHEMA_DIRS:
        SCHEMA_DIRS.append(path)
        _schemas.cache_clear()


@cache
def _schemas() -> dict[tuple[str, int], dict]:
    found = {}
    for folder in SCHEMA_DIRS:
        for file in sorted(folder.glob("*.v*.json")):
            message_type, _, major = file.stem.rpartition(".v")
            found[(message_type, int(major))] = json.loads(file.read_text(encoding="utf-8"))
    return found


@cache
def _validator(message_type: str, major: int):
    return jsonschema_rs.validator_for(_schemas()[(message_type, major)])


def message_types() -> list[str]:
    return sorted({message_type for message_type, _ in _schemas()})


def schema(message_type: str, major: int) -> dict | None:
    return _schemas().get((message_type, major))


def current_version(message_type: str) -> str:
    """The newest version of a type this node knows (what it sends)."""
    majors = [major for name, major in _schemas() if name == message_type]
    if not majors:
        raise ValueError(f"no schema for message type {message_type!r}")
    return _schemas()[(message_type, max(majors))]["x-opennrm-version"]


def major_of(version: object) -> int:
    if not isinstance(version, str) or version.count(".") != 1:
        raise Rejection("bad_version", f"The schema version {version!r} is not MAJOR.MINOR.")
    major, minor = version.split(".")
    if not (major.isdigit() and minor.isdigit()):
        raise Rejection("bad_version", f"The schema version {version!r} is not MAJOR.MINOR.")
    return int(major)


def validate(message_type: str, version: str, payload: object) -> None:
    """Rejection unless `payload` is valid for the type's schema of that major version."""
    if message_type not in message_types():
        raise Rejection("unknown_type", f"This node knows no message type {message_type!r}.")
    major = major_of(version)
    if (message_type, major) not in _schemas():
        known = ", ".join(str(m) for name, m in sorted(_schemas()) if name == message_type)
        raise Rejection("unsupported_version",
                        f"This node reads {message_type} in major version(s) {known}, "
                        f"not {version}.")
    errors = [f"{'/'.join(map(str, error.instance_path)) or '(payload)'}: {error.message}"
              for error in _validator(message_type, major).iter_errors(payload)]
    if errors:
        raise Rejection("invalid_payload", "; ".join(errors[:5]))
