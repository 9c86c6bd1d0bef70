"""Search: the pages, the API and ``saraban search`` ask the index the same way, as a
user cleared at ``clearance`` (the index leaves out what that user may not see)."""

from __future__ import annotations

from typing import Any, Protocol


class Searchable(Protocol):
    def search(
        self,
        query: str,
        *,
        filters: Any = None,
        sort: str = "relevance",
        limit: int = 10,
        offset: int = 0,
        clearance: str | None = None,
    ) -> Any: ...


def search(
    index: Searchable,
    query: str,
    *,
    clearance: str | None,
    filters: dict[str, Any] | None = None,
    sort: str = "relevance",
    limit: int = 10,
    offset: int = 0,
) -> Any:
    """One page of hits for ``query`` and ``filters`` (the fields of
    :class:`saraban.indexer.SearchFilters`), with the total and the facets."""
    from saraban.indexer import SearchFilters

    return index.search(
        query,
        filters=SearchFilters(**filters) if filters else None,
        sort=sort,
        limit=limit,
        offset=offset,
        clearance=clearance,
    )
