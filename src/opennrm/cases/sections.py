"""The case page's sections that other apps own (identification, referrals, protection).

`cases` sits below those apps and never imports them. Each registers its section here in its
`AppConfig.ready`, as apps register with Django's admin: a name, the function that builds the
section's template context, its place on the page, and the case's lists (reverse relations)
it reads. The case page asks once which of all those lists hold rows
(`services.relations_with_rows`) and passes the answer to every section, which reads only
the lists that do.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# (user, case, present) -> the section's template context; `present` names the case's lists
# that hold rows.
SectionContext = Callable[[object, object, frozenset[str]], dict]


@dataclass(frozen=True)
class CaseSection:
    name: str
    context: SectionContext
    order: int
    relations: tuple[str, ...] = ()


_sections: dict[str, CaseSection] = {}


def register_case_section(name: str, context: SectionContext, order: int, *,
                          relations: Iterable[str] = ()) -> None:
    """Add (or replace, for a repeated `name`) a section of the case page. `context` returns
    the keys the section's template reads; `relations` names the case's lists it reads."""
    _sections[name] = CaseSection(name, context, order, tuple(relations))


def case_sections() -> list[CaseSection]:
    """The registered sections in page order."""
    return sorted(_sections.values(), key=lambda section: (section.order, section.name))


def section_relations() -> tuple[str, ...]:
    """Every case list that some section reads, each once, in page order."""
    return tuple(dict.fromkeys(relation for section in case_sections()
                               for relation in section.relations))


def sections_context(user, case, present: frozenset[str]) -> dict:
    """The template context of every registered section, merged in page order."""
    context: dict = {}
    for section in case_sections():
        context.update(section.context(user, case, present))
    return context
