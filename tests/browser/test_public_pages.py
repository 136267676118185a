"""The public pages in Chromium, in French and in English, at phone and desktop widths.

One section per test process carries the content (made with the actions
the CLI uses: mediators, offers, bulletins, a note, a certification; a
peer section's offer and bulletin are stored as the inbox would store them),
then each page is loaded and checked: status, no console error, axe-core
without a serious or critical violation at 360 and 1280 px, no sideways
scrolling at 360 px, HTML under 50 KB, and screenshots in tests/screenshots/
(NAME-LANG-360.png and NAME-LANG-1280.png) for a person to look at.

These tests are about the pages, not the database: they run once, in the
SQLite pass of ``./dev test`` (``sqlite_only``), not again on PostgreSQL.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from models.accounts import OPERATOR
from models.actors import RemoteActor
from models.base import utcnow
from models.mediators import Profile
from models.offers import OfferDraft
from models.posts import RemoteObject
from node.actions import post_note
from node.certification import certify
from node.content import bulletin_publish, mediator_add, offer_publish
from tests.browser.harness import check_console, check_page
from tests.conftest import RunningNode, node_maker

if TYPE_CHECKING:  # names only: without Playwright the fixtures skip, or fail under CI
    from playwright.async_api import Page, Route

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

LANGS = ["fr", "en"]
AVATAR = "https://kofi.example/kofi.png"
#: A word longer than a phone screen is wide: it must wrap, not push the page sideways.
LONG_URL = "https://www.example.org/" + "tres-long-chemin-sans-espace-" * 4 + "fin.html"


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour, made here (the tests fetch nothing from outside)."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


async def serve_avatar(page: Page) -> None:
    """The browser gets the mediator's picture from the test, not from the network."""
    png = solid_png(192, 192, (46, 125, 50))

    async def fulfill(route: Route) -> None:
        await route.fulfill(status=200, content_type="image/png", body=png)

    await page.route(AVATAR, fulfill)


@dataclass
class Site:
    rn: RunningNode
    paths: dict[str, str]


async def _peer_items(rn: RunningNode) -> None:
    """What a peer section's Create would leave: its actor and one offer, one bulletin."""
    peer = "https://marseille.example/users/marseille"
    async with rn.node.sessions() as session, session.begin():
        session.add(
            RemoteActor(
                uri=peer,
                type="Organization",
                preferred_username="marseille",
                name="Section de Marseille",
                inbox=peer + "/inbox",
            )
        )
        for kind, kind_type, title in (
            ("offer", "Proposal", "Cours d'initiation à Python, le samedi matin"),
            ("bulletin", "Article", "Bulletin de Marseille : l'assemblée de printemps"),
        ):
            session.add(
                RemoteObject(
                    uri=f"https://marseille.example/{kind}s/1",
                    actor_uri=peer,
                    type=kind_type,
                    kind=kind,
                    name=title,
                    summary="",
                    content=f"<p>Ouvert à tous les membres. Détails : {LONG_URL}</p>",
                    url=f"https://marseille.example/{kind}s/1",
                    published=utcnow(),
                    body="{}",
                )
            )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """A section with a little of everything; the pages only read it, so the tests of a
    process share it."""
    async with node_maker(Path(tmp_path_factory.mktemp("site"))) as make:
        rn = await make("lome", run_workers=False)
        node = rn.node
        await _peer_items(rn)
        await mediator_add(
            node,
            "kofi",
            Profile(
                name="Kofi Mensah",
                summary="Médiateur numérique à Lomé : sites web, formation, entraide.",
                skills=["WordPress", "formation", "télétravail"],
                area="Lomé nord",
                contact="https://kofi.example/contact",
                avatar=AVATAR,
            ),
            by=OPERATOR,
        )
        # A picture on plain http: the node's Content-Security-Policy (img-src https:)
        # would block it, so the page must not try to show it.
        await mediator_add(
            node,
            "ama",
            Profile(name="Ama Dossou", avatar="http://ama.example/ama.png"),
            by=OPERATOR,
        )
        certification = await certify(node, "kofi", by=OPERATOR)
        offer = await offer_publish(
            node,
            OfferDraft(
                title="Hébergement de site associatif",
                description=(
                    "Un site **WordPress** hébergé à Lomé, sauvegardes comprises.\n\n"
                    f"- nom de domaine inclus\n- support par courriel\n\nVoir {LONG_URL}"
                ),
                category="hosting",
                price="25 EUR",
                sel_hours="1.5",
                area="Grand Lomé",
                contact="mailto:contact@lome.example",
                valid_from=datetime(2026, 1, 1, tzinfo=UTC),
                valid_until=utcnow() + timedelta(days=365),
            ),
            by=OPERATOR,
        )
        await offer_publish(
            node,
            OfferDraft(
                title="Formation aux outils de télétravail pour les associations du quartier",
                description="Deux demi-journées.",
                category="training",
                sel_hours="3",
            ),
            author="kofi",
            by=OPERATOR,
        )
        bulletin = await bulletin_publish(
            node,
            "Assemblée générale du 14 mars",
            (
                "L'assemblée générale se tiendra **au siège** de la section.\n\n"
                "1. Bilan de l'année\n2. Élection du bureau\n\n"
                "> Venez nombreux !\n\n"
                "```\ncoopnet offer publish --title 'Hébergement' --price '25 EUR' "
                "--sel-hours 1.5 --area 'Grand Lomé'\n```\n\n"
                f"Compte rendu précédent : {LONG_URL}"
            ),
            by=OPERATOR,
        )
        note = await post_note(
            node, f"Bienvenue sur la section de Lomé ! Notre site : {LONG_URL}", by=OPERATOR
        )
        yield Site(
            rn,
            {
                "node": rn.actor_id,
                "offers": f"{rn.url}/offers",
                "offer": offer.uri,
                "bulletins": f"{rn.url}/bulletins",
                "bulletin": bulletin.uri,
                "mediators": f"{rn.url}/mediators",
                "mediator": f"{rn.url}/users/kofi",
                "mediator-plain": f"{rn.url}/users/ama",
                "note": note.uri,
                "certification": certification.uri,
            },
        )


PAGES = [
    "node",
    "offers",
    "offer",
    "bulletins",
    "bulletin",
    "mediators",
    "mediator",
    "mediator-plain",
    "note",
    "certification",
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", PAGES)
async def test_public_page(page: Page, site: Site, name: str, lang: str) -> None:
    await serve_avatar(page)
    await check_page(page, site.paths[name], f"{name}-{lang}", lang=lang)


@pytest.mark.parametrize("lang", LANGS)
async def test_not_found_page(page: Page, site: Site, lang: str) -> None:
    await check_page(page, f"{site.rn.url}/no-such-page", f"404-{lang}", status=404, lang=lang)


async def test_language_links_switch_the_page(page: Page, site: Site) -> None:
    """A French browser gets French; the "English" link (?lang=en) gives the page in English."""
    await page.goto(site.paths["offers"])
    assert await page.get_attribute("html", "lang") == "fr"
    assert await page.locator("h1").inner_text() == "Offres"

    await page.get_by_role("link", name="English", exact=True).click()

    assert page.url.endswith("/offers?lang=en")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.locator("h1").inner_text() == "Offers"
    check_console(page)
