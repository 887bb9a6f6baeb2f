"""Groups of countries as data (`country_groups/NAME.json`): the EU member states, for one.

A change of membership is a new version of the file, not a change to the code.
"""

from functools import cache
from pathlib import Path

from opennrm.core import datafiles

GROUP_DIR = Path(__file__).parent / "country_groups"

COUNTRY_GROUPS = datafiles.register(datafiles.DataKind(
    name="country group",
    schema=Path(__file__).parent / "schemas" / "country_group.schema.json",
    folders=lambda: [GROUP_DIR],
    check=datafiles.name_is_file_name(),
))


@cache
def load(name: str) -> dict:
    """The group file `name` (its version, source and members)."""
    # Only names of files in the folder: a name is never turned into an arbitrary path.
    if name not in {path.stem for path in COUNTRY_GROUPS.paths()}:
        raise KeyError(f"unknown country group {name!r}")
    return COUNTRY_GROUPS.load(GROUP_DIR / f"{name}.json")


def members(name: str) -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes of the group's members."""
    return frozenset(load(name)["members"])
