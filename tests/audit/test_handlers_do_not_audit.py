"""Reads and exports are audited inside the service functions, never in a handler."""

import ast
from pathlib import Path

import opennrm

SOURCE = Path(opennrm.__file__).parent
HANDLERS = sorted([*SOURCE.glob("api/*.py"), *SOURCE.glob("*/views.py")])


def _audit_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(SOURCE)}:{node.lineno}" for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "opennrm.audit.services"
            and any(alias.name in ("record_event", "record_events") for alias in node.names)]


def test_it_finds_the_handlers():
    assert len(HANDLERS) > 10


def test_no_view_or_api_handler_records_audit_entries_itself():
    assert [call for path in HANDLERS for call in _audit_calls(path)] == []
