"""Translations of user-visible strings: French first, English too.

Message ids are the English text; a catalogue maps them per language.
Pages pick the language from ``?lang=`` or Accept-Language, defaulting to
French (the network's working language).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

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
        # Error pages (node/app.py error_middleware).
        "Too large": "Trop volumineux",
        "Not allowed": "Non autorisé",
        "Refused": "Refusé",
        "Unavailable for a moment": "Momentanément indisponible",
        "Something went wrong": "Une erreur s'est produite",
        "What you sent is too large for this node. Shorten it (a form takes at most 64 KB) "
        "and send it again; use your browser's Back button to find your text.": (
            "Ce que vous avez envoyé est trop volumineux pour ce nœud. Raccourcissez-le "
            "(un formulaire prend au plus 64 Ko) et renvoyez-le\u00a0; le bouton Retour "
            "de votre navigateur vous rend votre texte."
        ),
        "The node cannot reach its database for a moment. Try again in a few seconds.": (
            "Le nœud ne joint pas sa base de données pour l'instant. "
            "Réessayez dans quelques secondes."
        ),
        "Nothing you did caused this. The node's log has the details for its administrator.": (
            "Vous n'y êtes pour rien. Le journal du nœud en donne le détail à son administrateur."
        ),
        "Mediator": "Médiateur",
        "since": "depuis le",
        "Certification revoked": "Certification révoquée",
        "the section is authorised by the seat": "la section est autorisée par le siège",
        "Node": "Nœud",
        # Offers, bulletins, mediators, attestations (pages.py and its templates).
        "Offers": "Offres",
        "Offer": "Offre",
        "Our offers": "Nos offres",
        "All offers": "Toutes les offres",
        "No offers yet.": "Aucune offre pour l'instant.",
        "No offers from peer sections yet.": "Aucune offre des sections pairs pour l'instant.",
        "Offered by": "Proposée par",
        "Available": "Disponible",
        "Price": "Prix",
        "Area": "Zone",
        "Validity": "Validité",
        "Valid from": "Valable du",
        "Valid until": "Valable jusqu'au",
        "until": "au",
        "Contact": "Contact",
        "Updated": "Mis à jour",
        "By": "Par",
        "Bulletins": "Bulletins",
        "Bulletin": "Bulletin",
        "Our bulletins": "Nos bulletins",
        "All bulletins": "Tous les bulletins",
        "No bulletins yet.": "Aucun bulletin pour l'instant.",
        "No bulletins from peer sections yet.": (
            "Aucun bulletin des sections pairs pour l'instant."
        ),
        "From peer sections": "Des sections pairs",
        "(untitled)": "(sans titre)",
        "Atom feed": "Flux Atom",
        "Mediators": "Médiateurs",
        "All mediators": "Tous les médiateurs",
        "No mediators yet.": "Aucun médiateur pour l'instant.",
        "Skills": "Compétences",
        "Certified": "Certifié",
        "Not certified": "Non certifié",
        "Certified by the section": "Certifié par la section",
        "Authorised by the seat to certify mediators": (
            "Autorisée par le siège à certifier des médiateurs"
        ),
        "Picture of": "Photo de",
        "Mediator certification": "Certification de médiateur",
        "Authorisation to certify mediators": "Autorisation de certifier des médiateurs",
        "Issued by": "Émise par",
        "About": "Au sujet de",
        "Issued on": "Émise le",
        "Status": "État",
        "Valid (not revoked)": "Valide (non révoquée)",
        "Signed with the issuer's key; fetch this address as ActivityStreams JSON to check "
        "the proof.": (
            "Signée avec la clé de l'émetteur ; demandez cette adresse en JSON "
            "ActivityStreams pour vérifier la preuve."
        ),
        "Gone": "Supprimé",
        "This offer was withdrawn.": "Cette offre a été retirée.",
        "This offer has expired.": "Cette offre a expiré.",
        "This bulletin was deleted.": "Ce bulletin a été supprimé.",
        "This attestation was revoked.": "Cette attestation a été révoquée.",
        # Offer categories: message ids in pages.CATEGORY_LABELS, French as in models.offers.
        "Hosting": "Hébergement",
        "Training": "Formation",
        "Website building": "Création de site web",
        "Telework": "Télétravail",
        "Mutual help": "Entraide",
        "Other": "Autre",
    },
    "en": {},
}


def register(lang: str, messages: dict[str, str]) -> None:
    """Add a module's own catalogue (each part of the interface keeps its strings)."""
    table = CATALOG.setdefault(lang, {})
    clash = {k for k in messages if k in table and table[k] != messages[k]}
    if clash:
        raise ValueError(f"two translations for {sorted(clash)[:3]}")
    table.update(messages)


def pick_language(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked
    session = request.get("web_session")
    chosen = getattr(session, "language", None)
    if chosen in LANGUAGES:
        return str(chosen)
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


#: The language of the page being made, for values formatted in Python before the
#: template sees them (set per request by the session middleware).
PAGE_LANGUAGE: ContextVar[str] = ContextVar("coopnet_page_language", default=DEFAULT)


def show_hours(minutes: int, lang: str | None = None) -> str:
    """Minutes as hours the way the page's language writes them: '1,5 h' in
    French, '1.5 h' in English (what the forms also accept back)."""
    from models.sel.accounts import hours

    return show_hours_text(hours(minutes), lang or PAGE_LANGUAGE.get())


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    holes: tuple[str, ...]
    target: str
    #: How much fixed text it names: the more, the more specific.
    fixed: int = 0


_HOLE = re.compile(r"\{(\?|state|h|)\}")
PATTERNS: dict[str, list[_Pattern]] = {}
FRAGMENTS: dict[str, dict[str, str]] = {}
STATES: dict[str, dict[str, str]] = {}


def register_patterns(
    lang: str, patterns: dict[str, str], fragments: dict[str, str], states: dict[str, str]
) -> None:
    """Add messages with values (see node/ui/refusal_messages.py for the holes)."""
    for source, target in patterns.items():
        holes = tuple(_HOLE.findall(source))
        if tuple(_HOLE.findall(target)) != holes:
            raise ValueError(f"the holes of {target!r} differ from those of {source!r}")
        parts = _HOLE.split(source)[::2]
        regex = "(.+?)".join(re.escape(part) for part in parts)
        compiled = re.compile(f"^{regex}$", re.S)
        fixed = sum(len(part) for part in parts)
        PATTERNS.setdefault(lang, []).append(_Pattern(compiled, holes, target, fixed))
    # The most specific first ("{?}: this field is required" before "{?} is required").
    PATTERNS.setdefault(lang, []).sort(key=lambda p: -p.fixed)
    FRAGMENTS.setdefault(lang, {}).update(fragments)
    STATES.setdefault(lang, {}).update(states)


def _fill(lang: str, pattern: _Pattern, values: tuple[str, ...]) -> str:
    fragments, states = FRAGMENTS.get(lang, {}), STATES.get(lang, {})
    words = CATALOG.get(lang, {})
    shown = iter(
        fragments.get(v, words.get(v, v))
        if hole == "?"
        else states.get(v, v)
        if hole == "state"
        else show_hours_text(v, lang)
        if hole == "h"
        else v
        for hole, v in zip(pattern.holes, values, strict=True)
    )
    return _HOLE.sub(lambda _: next(shown), pattern.target)


def show_hours_text(text: str, lang: str) -> str:
    """'1.5 h' as the language writes it."""
    return text.replace(".", ",") if lang == "fr" else text


def translate(lang: str, msgid: str) -> str:
    """The catalogue's text for ``msgid``; else a pattern's, with its values; else itself."""
    found = CATALOG.get(lang, {}).get(msgid)
    if found is not None:
        return found
    if not isinstance(msgid, str):  # a template's undefined value: shown as it is
        return msgid
    for pattern in PATTERNS.get(lang, ()):
        match = pattern.regex.match(msgid)
        if match:
            return _fill(lang, pattern, match.groups())
    return msgid


def local_time(when: datetime, zone: ZoneInfo) -> str:
    """A moment as people of the node read it: '2027-01-31 18:00 CET' (node.timezone)."""
    local = when.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone.key}"


def translator(lang: str) -> Callable[[str], str]:
    return lambda msgid: translate(lang, msgid)
