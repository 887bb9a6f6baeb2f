"""One page of a list, as every list route of the API answers it."""

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django.db.models import QuerySet


class PageQuery(Protocol):
    """The query parameters of a list route (its Filters schema)."""

    page: int
    page_size: int


def paginate(rows: QuerySet, query: PageQuery, *,
             render: Callable[[QuerySet], Iterable[Any]] = list,
             count_of: QuerySet | None = None) -> dict:
    """Page `query.page` of `rows`: {"items", "count", "page", "page_size"}.

    `render` turns the page's rows into items; `count_of` is counted instead of `rows` when
    `rows` carries columns the count does not need (values, joins). A page past the end is
    empty, without a query for its rows.
    """
    count = (rows if count_of is None else count_of).count()
    start = (query.page - 1) * query.page_size
    items = list(render(rows[start:start + query.page_size])) if start < count else []
    return {"items": items, "count": count, "page": query.page, "page_size": query.page_size}
