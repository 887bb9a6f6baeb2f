"""Data files (code lists, indicator lists, table definitions, reference data) and their schemas.

Every data file the node reads is checked against a JSON Schema (draft 2020-12) when it
loads. A file that does not match stops the node with its path, the line and the reason,
so a mistake in a country's file shows at start-up rather than as a wrong figure later.

A kind of data file is a `DataKind`: its schema, the folders its files are found in and
their pattern. The apps declare their kinds here (`register`) and load them through
`load`/`DataKind.load_all`; `registered()` lists them all, for checks and documentation.
Nothing here knows about any app.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jsonschema_rs
from django.core.exceptions import ImproperlyConfigured


class DataFileError(ImproperlyConfigured):
    """A data file cannot be read or does not match its schema."""

    def __init__(self, path: Path | str, line: int | None, reason: str):
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class DataKind:
    """One kind of data file: what it is called, its schema and where its files are."""

    name: str
    schema: Path
    # The folders to read, in order (a later file of the same name may replace an earlier
    # one; what "replace" means is the loader's business).
    folders: Callable[[], Iterable[Path]]
    pattern: str = "*.json"
    exclude: frozenset[str] = field(default_factory=frozenset)
    # What the schema cannot say (a name that is the file's name, codes unique…): called
    # with the path and the data, raises DataFileError (see `error_at`).
    check: Callable[[Path, dict], None] | None = None

    def paths(self, folders: Iterable[Path] | None = None) -> list[Path]:
        """The files of this kind, folder by folder (its own folders unless given), each
        folder's files sorted by name."""
        found = []
        for folder in self.folders() if folders is None else folders:
            found += [path for path in sorted(Path(folder).glob(self.pattern))
                      if path.name not in self.exclude and path != self.schema]
        return found

    def load(self, path: Path | str) -> dict:
        """One file of this kind, read and validated."""
        data = load(path, self.schema)
        if self.check is not None:
            self.check(Path(path), data)
        return data

    def load_all(self, folders: Iterable[Path] | None = None) -> dict[Path, dict]:
        """Every file of this kind, read and validated: {path: data}."""
        return {path: self.load(path) for path in self.paths(folders)}


_REGISTRY: dict[str, DataKind] = {}


def register(kind: DataKind) -> DataKind:
    """Declare a kind of data file (once per name; declaring it again replaces it)."""
    _REGISTRY[kind.name] = kind
    return kind


def registered() -> dict[str, DataKind]:
    return dict(_REGISTRY)


def check_all() -> None:
    """Read and validate every file of every registered kind (DataFileError at the first
    bad one)."""
    for kind in _REGISTRY.values():
        kind.load_all()


# --- reading and validating --------------------------------------------------------------

def load(path: Path | str, schema: Path | str) -> dict:
    """The data of a JSON or TOML file (by its suffix), checked against `schema`.

    Raises DataFileError with the file, the line and the reason when the file cannot be
    read, is not valid JSON/TOML, or does not match the schema.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(path, None, f"cannot be read ({error})") from None
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            line = getattr(error, "lineno", None) or _line_in_message(str(error))
            reason = getattr(error, "msg", None) or str(error)
            raise DataFileError(path, line, f"not valid TOML: {reason}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataFileError(path, error.lineno, f"not valid JSON: {error.msg}") from None
    validate(data, schema, path=path, text=text)
    return data


def validate(data, schema: Path | str, *, path: Path | str, text: str = "") -> None:
    """Check `data` (read from `path`, whose `text` locates the line) against `schema`."""
    errors = list(_validator(str(schema)).iter_errors(data))
    if not errors:
        return
    error = errors[0]
    location = list(error.instance_path)
    reason = error.message
    unexpected = getattr(error.kind, "unexpected", None)
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties) \
            and unexpected:
        # Point at the unknown field itself, not at the object that holds it.
        location.append(unexpected[0])
        reason = f"unknown field {unexpected[0]!r}"
    pointer = "/" + "/".join(str(part) for part in location) if location else "the top level"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    line = line_of(text, location, toml=Path(path).suffix == ".toml") if text else None
    raise DataFileError(path, line, f"{pointer}: {reason}{more}")


@cache
def _validator(schema: str):
    document = json.loads(Path(schema).read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(document)


def error_at(path: Path | str, location: list, reason: str) -> DataFileError:
    """The error for the value at `location` (keys and indexes) of a file, with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    line = line_of(text, location, toml=path.suffix == ".toml") if text else None
    pointer = "/" + "/".join(str(part) for part in location) if location else "the top level"
    return DataFileError(path, line, f"{pointer}: {reason}")


def name_is_file_name(field_name: str = "name") -> Callable[[Path, dict], None]:
    """A check that the file's `field_name` is its file name without the suffix."""
    def check(path: Path, data: dict) -> None:
        if data.get(field_name) != path.stem:
            raise error_at(path, [field_name],
                           f"{data.get(field_name)!r} is not the file's name ({path.stem!r})")
    return check


def unique(list_name: str, field_name: str) -> Callable[[Path, dict], None]:
    """A check that the items of the list `list_name` have different `field_name`s."""
    def check(path: Path, data: dict) -> None:
        seen = set()
        for index, item in enumerate(data.get(list_name, [])):
            value = item.get(field_name)
            if value in seen:
                raise error_at(path, [list_name, index, field_name],
                               f"{field_name} {value!r} appears twice")
            seen.add(value)
    return check


def checks(*functions: Callable[[Path, dict], None]) -> Callable[[Path, dict], None]:
    """Several checks, in order."""
    def check(path: Path, data: dict) -> None:
        for function in functions:
            function(path, data)
    return check


def _line_in_message(message: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else None


# --- lines -------------------------------------------------------------------------------

def line_of(text: str, location: list, *, toml: bool = False) -> int | None:
    """The line (1-based) of the value at `location` (keys and indexes) in the file's text:
    the deepest part of the location that can be found."""
    return _toml_line(text, location) if toml else _json_line(text, location)


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def _json_line(text: str, location: list) -> int | None:
    """Walk the JSON text along `location`, noting where each value starts."""
    decode_string = json.decoder.scanstring
    index = _WHITESPACE.match(text, 0).end()
    found = index
    for part in location:
        if index >= len(text) or text[index] not in "[{":
            break
        opening = text[index]
        index += 1
        position = 0
        located = False
        while True:
            index = _WHITESPACE.match(text, index).end()
            if index >= len(text) or text[index] in "]}":
                break
            if opening == "{":
                key, index = decode_string(text, index + 1)
                index = _WHITESPACE.match(text, index).end() + 1  # the colon
                index = _WHITESPACE.match(text, index).end()
                if key == str(part):
                    located = True
                    found = index  # where its value starts: on the key's line as we write
                    break
            else:
                if position == part:
                    located = True
                    found = index
                    break
                position += 1
            index = _skip_value(text, index)
            index = _WHITESPACE.match(text, index).end()
            if index < len(text) and text[index] == ",":
                index += 1
        if not located:
            break
    return text.count("\n", 0, found) + 1


def _skip_value(text: str, index: int) -> int:
    """The index just after the JSON value that starts at `index`."""
    character = text[index]
    if character == '"':
        return json.decoder.scanstring(text, index + 1)[1]
    if character in "[{":
        depth = 0
        while index < len(text):
            character = text[index]
            if character == '"':
                index = json.decoder.scanstring(text, index + 1)[1]
                continue
            if character in "[{":
                depth += 1
            elif character in "]}":
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
        return index
    matched = _SCALAR.match(text, index)
    return matched.end() if matched else index + 1


def _toml_line(text: str, location: list) -> int | None:
    """Find the line of a key in TOML text: headers ([a.b], [[a]]) for tables and arrays of
    tables, `key =` lines (or `key =` inside an inline table) for values. Files as we write
    them (one inline table a line in a multi-line array) are located exactly."""
    lines = text.splitlines()
    headers = [(number, _header(line)) for number, line in enumerate(lines)]
    found = 0
    prefix: list[str] = []  # the dotted table path of the last header reached
    inline_from: int | None = None  # the line of a key whose value is an inline array/table
    for part in location:
        if isinstance(part, int):
            array_headers = [n for n, h in headers if h and h[0] == "[[" and h[1] == prefix]
            if inline_from is None and len(array_headers) > part:
                found = array_headers[part]
                continue
            # A multi-line array: its items one a line after the opening line.
            start = inline_from if inline_from is not None else found
            items = [n for n in range(start + 1, len(lines))
                     if lines[n].strip() and not lines[n].strip().startswith(("#", "]"))]
            if lines[start].rstrip().endswith("[") and len(items) > part:
                found = inline_from = items[part]
            continue
        key = str(part)
        if inline_from is None:
            target = [*prefix, key]
            header = next((n for n, h in headers if h and h[1][:len(target)] == target
                           and n >= found), None)
            value_line = _key_line(lines, key, found, headers)
            if value_line is not None:
                found, inline_from = value_line, value_line
                continue
            if header is not None:
                found, prefix = header, target
                continue
            break
        else:
            line = lines[inline_from] if inline_from < len(lines) else ""
            if re.search(rf"(^|[{{,\s]){re.escape(key)}\s*=", line):
                found = inline_from
            continue
    return found + 1


def _header(line: str) -> tuple[str, list[str]] | None:
    matched = re.match(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
    if not matched:
        return None
    return matched.group(1), [part.strip().strip('"') for part in matched.group(2).split(".")]


def _key_line(lines: list[str], key: str, start: int, headers) -> int | None:
    """The line of `key = …` in the table that starts at line `start` (before the next
    header)."""
    pattern = re.compile(rf'\s*"?{re.escape(key)}"?\s*=')
    for number in range(start, len(lines)):
        if number > start and headers[number][1]:
            return None
        if number == start and headers[number][1]:
            continue
        if pattern.match(lines[number]):
            return number
    return None
