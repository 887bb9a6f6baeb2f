"""Indicator lists: the built-in ILO/EC files plus a country's own (OPENNRM_INDICATOR_DIRS).

A list is identified by id and version. A new version is a new file; screenings keep the
version they were made with, so old results never change. Every file, a country's too, is
checked against `indicators/schema.json` when it loads: a bad file stops the node with its
path, the line and the reason (core.datafiles.DataFileError).
"""

from functools import cache
from pathlib import Path

from django.conf import settings

from opennrm.core import datafiles
from opennrm.screening.engine import IndicatorSet

BUILT_IN = Path(__file__).parent / "indicators"


def _check_indicators(path: Path, data: dict) -> None:
    """Indicator codes are unique within a list, and an indicator placed in another
    dimension or tier than its source says must say why (`departure`)."""
    seen = set()
    for d, dimension in enumerate(data["dimensions"]):
        for i, indicator in enumerate(dimension["indicators"]):
            where = ["dimensions", d, "indicators", i]
            if indicator["code"] in seen:
                raise datafiles.error_at(path, [*where, "code"],
                                         f"indicator code {indicator['code']!r} appears twice")
            seen.add(indicator["code"])
            source = indicator.get("source")
            if source and not indicator.get("departure") and (
                    (source["dimension"], source["tier"])
                    != (dimension["code"], indicator["strength"])):
                raise datafiles.error_at(
                    path, [*where, "source"],
                    f"{indicator['code']!r} is {indicator['strength']} in {dimension['code']} "
                    f"but {source['tier']} in {source['dimension']} in its source "
                    f"{source['document']}: correct it or say why in 'departure'")


INDICATOR_LISTS = datafiles.register(datafiles.DataKind(
    name="indicator list",
    schema=BUILT_IN / "schema.json",
    folders=lambda: [BUILT_IN, *map(Path, settings.OPENNRM_INDICATOR_DIRS)],
    exclude=frozenset({"schema.json"}),
    check=_check_indicators,
))


class UnknownIndicatorSet(LookupError):
    pass


@cache
def _load(folders: tuple[str, ...]) -> dict[tuple[str, str], IndicatorSet]:
    sets = {}
    for data in INDICATOR_LISTS.load_all([BUILT_IN, *map(Path, folders)]).values():
        indicator_set = IndicatorSet(data)
        sets[indicator_set.key] = indicator_set
    return sets


def all_sets() -> dict[tuple[str, str], IndicatorSet]:
    return _load(tuple(settings.OPENNRM_INDICATOR_DIRS))


def get(set_id: str, version: str) -> IndicatorSet:
    try:
        return all_sets()[(set_id, version)]
    except KeyError:
        raise UnknownIndicatorSet(f"no indicator list {set_id!r} version {version!r}") from None


def current() -> list[IndicatorSet]:
    """The newest version of each list, for new screenings (adults first, labour first)."""
    newest: dict[str, IndicatorSet] = {}
    for (set_id, version), indicator_set in all_sets().items():
        known = newest.get(set_id)
        if known is None or _version_key(version) > _version_key(known.data["version"]):
            newest[set_id] = indicator_set
    return sorted(newest.values(), key=lambda s: (s.data["population"] != "adult",
                                                  s.data["exploitation"] != "labour",
                                                  s.data["id"]))


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))
