"""Translations of user-visible strings: French first, English too.

Message ids are the English text; a catalogue maps them per language.
Pages pick the language from ``?lang=`` or Accept-Language, defaulting to
French (the network's working language).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

LANGUAGES = ("fr", "en")
DEFAULT = "fr"

CATALOG: dict[str, dict[str, str]] = {
    "fr": {
        "Followers": "Abonnés",
        "Following": "Abonnements",
        "Posts": "Publications",
        "Seat": "Siège",
        "Section": "Section",
        "of the coopnet network": "du réseau coopnet",
        "Follow from Mastodon or any fediverse account:": (
            "Suivre depuis Mastodon ou tout compte du fédivers :"
        ),
        "No posts yet.": "Aucune publication pour l'instant.",
        "Published": "Publié",
        "Older": "Plus anciens",
        "Newer": "Plus récents",
        "Back to": "Retour à",
        "Not found": "Introuvable",
        "This page does not exist.": "Cette page n'existe pas.",
        "Mediator": "Médiateur",
        "Node": "Nœud",
    },
    "en": {},
}


def pick_language(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def translator(lang: str) -> Callable[[str], str]:
    table = CATALOG.get(lang, {})
    return lambda msgid: table.get(msgid, msgid)
