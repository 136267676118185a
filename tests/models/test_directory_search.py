"""The directory's search column and the defensive reading of a peer's offer (pure code)."""

from __future__ import annotations

from typing import Any

import pytest

from models.network.directory import OfferRefused, parse_offer
from models.network.search import fold, query_words, search_text, stems


def test_folding_drops_case_accents_and_ligatures() -> None:
    assert fold("Électricité ŒUVRE Straße") == "electricite oeuvre strasse"


@pytest.mark.parametrize(
    ("document", "query"),
    [
        ("Formation à l'électricité", "electricite"),
        ("Formation à l'électricité", "ÉLECTRICITÉ"),
        ("Une formation", "formations"),
        ("Website building", "websites"),
        ("Trainings for associations", "training"),
    ],
)
def test_a_query_word_meets_a_token_of_the_document(document: str, query: str) -> None:
    column = search_text(document)
    (word,) = query_words(query)
    assert any(f" {stem}" in column for stem in stems(word) if len(stem) >= 3)


def test_queries_are_bounded_and_hold_no_wildcard() -> None:
    words = query_words("% _ ' \" " + " ".join(f"mot{n}" for n in range(50)) + "x" * 500)
    assert len(words) == 8
    assert all(w.isalnum() and w.isascii() for w in words)


BASE: dict[str, Any] = {
    "id": "https://a.example/offers/1",
    "type": ["Proposal", "Note"],
    "attributedTo": "https://a.example/users/kossi",
    "name": "Cours",
}


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "Note"},
        {"id": 5},
        {"id": "javascript:alert(1)"},
        {"attributedTo": None},
        {"attributedTo": "https://elsewhere.example/users/x"},
        {"name": ["x"]},
        {"name": "<script>x</script>"},
        {"name": ""},
    ],
)
def test_an_offer_without_what_it_cannot_lack_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(OfferRefused):
        parse_offer({**BASE, **changes})


@pytest.mark.parametrize(
    "junk",
    [None, 5, "x", [], {}, [1, 2], {"hasNumericalValue": True}, {"a": {"b": {}}}, "1e400"],
)
def test_optional_fields_of_the_wrong_type_are_dropped(junk: Any) -> None:
    offer = parse_offer(
        {
            **BASE,
            "content": junk,
            "source": junk,
            "category": junk,
            "reciprocal": junk,
            "selReciprocal": junk,
            "location": junk,
            "startTime": junk,
            "endTime": junk,
            "published": junk,
            "updated": junk,
            "url": junk,
            "publishes": junk,
        }
    )
    assert offer.title == "Cours" and offer.category == "other"
    assert offer.price_amount is None and offer.sel_minutes is None
    assert offer.valid_until is None and offer.url is None
