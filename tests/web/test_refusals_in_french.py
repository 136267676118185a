"""Refusals that carry a value are shown in French on French pages.

The texts here are the ones the domain really raises: each is produced by
calling the code that refuses, so a changed English message that no longer
matches its pattern fails here instead of showing English to a member.
"""

from __future__ import annotations

import re

import pytest

import node.ui  # noqa: F401  (registers the catalogues)
from models.charter.contracts import ContractError, text_line
from models.charter.money import parse_money
from models.errors import UserError
from node.i18n import translate
from node.sel import parse_hours
from node.ui.refusal_messages import FR_PATTERNS


def refusal(call: object, *args: object) -> str:
    with pytest.raises(UserError) as caught:
        call(*args)  # type: ignore[operator]
    return str(caught.value)


def test_a_refusal_with_values_keeps_its_values_and_translates_its_words() -> None:
    text = refusal(parse_hours, "deux heures", "duration")
    assert (
        translate("fr", text)
        == "durée 'deux heures'\u00a0: écrivez des heures comme 1,5, 1h30 ou 90m"
    )
    assert translate("en", text) == text
    with pytest.raises(ContractError) as caught:
        text_line("", "the client's name")
    assert translate("fr", str(caught.value)).startswith("le nom du client")
    assert translate("fr", "the colour is required") == "the colour\u00a0: ce champ est obligatoire"
    text = refusal(parse_money, "douze", "the price")
    assert translate("fr", text).startswith("le prix\u00a0: écrivez un montant")


def test_states_and_hours_inside_a_refusal_are_french() -> None:
    assert (
        translate("fr", "this exchange is confirmed; only a pending one can be withdrawn")
        == "cet échange est confirmé\u00a0: seul un échange en attente peut être retiré"
    )
    assert translate("fr", "'bob' would go above its limit of 1.5 h (balance 0.25 h)") == (
        "'bob' dépasserait sa limite de 1,5 h (solde 0,25 h)"
    )


def test_the_networks_refusals_are_french_too() -> None:
    from datetime import date

    from models.network.obligations import Cadence, parse_period

    today = date(2026, 12, 3)
    text = refusal(parse_period, Cadence.MONTH, "septembre", today)
    assert translate("fr", text) == "'septembre' n'est pas un mois\u00a0: écrivez-le 2026-09"
    text = refusal(parse_period, Cadence.SEMESTER, "S3", today)
    assert translate("fr", text) == "'S3' n'est pas un semestre\u00a0: écrivez-le 2026-S2"
    assert translate(
        "fr",
        "this node already asked siege@siege.example; its coordinator has not answered "
        "yet (to withdraw the request: coopnet peer remove siege@siege.example)",
    ) == (
        "ce nœud a déjà demandé siege@siege.example\u00a0; sa coordination n'a pas encore "
        "répondu (pour retirer la demande\u00a0: coopnet peer remove siege@siege.example)"
    )


def test_the_most_specific_pattern_wins() -> None:
    # "{?} is required" would also match; the longer fixed text is the right one.
    assert translate("fr", "Note: this field is required") == "Note\u00a0: ce champ est obligatoire"


def test_a_message_no_pattern_knows_is_shown_as_it_is() -> None:
    assert translate("fr", "something new went wrong") == "something new went wrong"


def test_every_french_pattern_ends_without_english_left_in_its_fixed_words() -> None:
    english = re.compile(r"\b(the|is|must|only|can|would|write|this|one)\b")
    for target in FR_PATTERNS.values():
        assert not english.search(target.replace("coopnet sel", "")), target
