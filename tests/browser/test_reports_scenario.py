"""The report to the seat and the network dashboard, in a real browser.

Lomé's coordinator writes the semester's text, sees the figures, sends the
report and sees it acknowledged; Marseille sends its own; the seat's
coordinator opens the network dashboard: both sections side by side, the
network's totals, two charts drawn as inline SVG. Each page is checked
(axe at 360 and 1280 px, no sideways scroll at 360 px, weight, console) and
photographed. A page test, so it runs once, in the SQLite pass.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR
from models.mediators import Profile
from models.network.reports import ReportDirection, ReportState
from node import content
from node.charter import hostings
from node.network import reports
from tests.browser.harness import check_console, check_page
from tests.browser.test_coordinator_scenario import log_in_through_link
from tests.conftest import MakeNode, RunningNode
from tests.network.test_reports import SEMESTER, ally, state_of, stored
from tests.node.test_sel_exchanges import until

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]


async def mediators(rn: RunningNode, names: list[str], bought: int) -> None:
    today = reports.today_utc()
    first = SEMESTER.first_day
    for name in names:
        await content.mediator_add(rn.node, name, Profile(name=name.title()), by=OPERATOR)
    for i in range(bought):
        day = date(first.year, first.month + min(i, (today.month - first.month)), 1)
        await hostings.hosting_record(rn.node, names[i % len(names)], min(day, today), "site",
                                      by=OPERATOR)  # fmt: skip


async def test_reports_page_and_network_dashboard(make_node: MakeNode, page: Page) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    marseille = await make_node("marseille")
    await ally(seat, lome)
    await ally(seat, marseille)
    await mediators(lome, ["ama", "kossi"], 5)
    await mediators(marseille, ["lea", "hugo", "ines"], 4)

    await log_in_through_link(page, lome, "coco")
    await check_page(page, f"{lome.url}/admin/reports", "reports-empty", lang="fr")
    await page.fill("#text", "## Le semestre\n\nDeux **nouveaux** clients à Lomé.")
    await page.click("form[action='/admin/reports/compose'] button")
    await page.wait_for_url("**/admin/reports?done=report-composed*")
    main = await page.inner_text("main")
    assert "Hébergements par médiateur" in main and "2,5" in main
    await check_page(page, page.url, "reports-composed", lang="fr")
    await page.click("form[action='/admin/reports/send'] button")
    await page.wait_for_url("**/admin/reports?done=report-sent*")

    async def acknowledged() -> bool:
        return await state_of(lome) == ReportState.ACKNOWLEDGED

    await until(acknowledged, "the seat's acknowledgement")
    await check_page(page, f"{lome.url}/admin/reports", "reports-acknowledged", lang="fr")
    assert "accusé de réception reçu" in await page.inner_text("main")
    await check_page(page, f"{lome.url}/admin/reports?lang=en", "reports-en", lang="en")

    await reports.report_compose(marseille.node, SEMESTER, "Une *bonne* saison.", by=OPERATOR)
    await reports.report_send(marseille.node, SEMESTER, by=OPERATOR)

    async def both() -> bool:
        return len(await stored(seat, ReportDirection.RECEIVED)) == 2

    await until(both, "both reports at the seat")
    await log_in_through_link(page, seat, "claire")
    await check_page(page, f"{seat.url}/admin/dashboard", "dashboard", lang="fr")
    main = await page.inner_text("main")
    assert "Lome" in main and "Marseille" in main and "Réseau" in main
    assert await page.locator("svg.chart[role=img]").count() == 2
    assert await page.locator("svg.chart title").count() == 2
    await check_page(page, f"{seat.url}/admin/dashboard?lang=en", "dashboard-en", lang="en")
    assert "Hostings per mediator" in await page.inner_text("main")
    check_console(page)
