"""Paged OrderedCollections, newest first, as Mastodon reads them.

The collection itself carries ``totalItems`` and ``first`` (Mastodon hides
a collection without ``first``); pages carry ``orderedItems`` and
``next``/``prev``.
"""

from __future__ import annotations

from typing import Any

from federation.vocab import CONTEXT

PAGE_SIZE = 20


def collection(ident: str, total: int) -> dict[str, Any]:
    last = max(1, -(-total // PAGE_SIZE))
    return {
        "@context": CONTEXT,
        "id": ident,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{ident}?page=1",
        "last": f"{ident}?page={last}",
    }


def page(ident: str, number: int, total: int, items: list[Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"{ident}?page={number}",
        "type": "OrderedCollectionPage",
        "partOf": ident,
        "totalItems": total,
        "orderedItems": items,
    }
    if number * PAGE_SIZE < total:
        doc["next"] = f"{ident}?page={number + 1}"
    if number > 1:
        doc["prev"] = f"{ident}?page={number - 1}"
    return doc


def page_number(raw: str | None) -> int | None:
    """None for the collection itself; a positive page number otherwise (bad input → 1)."""
    if raw is None:
        return None
    try:
        n = int(raw)
    except ValueError:
        return 1
    return min(max(n, 1), 100_000)
