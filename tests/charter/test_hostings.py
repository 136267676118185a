"""Hostings bought by mediators, counted against the charter's aim (issue 10, item 5).

The counting is a pure function of purchase days and "today", tested as a
table; the actions, the coordinator's page and the CLI run on a real node.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.accounts import OPERATOR, Principal
from models.charter.hostings import HostingError, Semester, tally
from models.errors import Forbidden, NotFound
from models.mediators import MediatorError, Profile
from node import content, sel, users
from node.charter import hostings
from tests.conftest import MakeNode, RunningNode
from tests.procs import coopnet
from tests.web.test_mediator_pages import (
    csrf_of,
    log_in_with_link,
    new_browser,
    page,
    post,
    text_of,
)

S2 = Semester(2026, 2)


# ----------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("days", "today", "total", "expected", "missed", "behind"),
    [
        # Nothing bought, first day of the semester: one due, not behind yet.
        ([], date(2026, 7, 1), 0, 1, [], False),
        # One in July, on 2 August: August is due but not missed while it runs.
        ([date(2026, 7, 10)], date(2026, 8, 2), 1, 2, [], False),
        # None in July, seen in September: July and August missed.
        ([date(2026, 9, 1)], date(2026, 9, 15), 1, 3, ["2026-07", "2026-08"], True),
        # Six in one month keep the semester's aim (the count is what the charter reads).
        ([date(2026, 7, d) for d in range(1, 7)], date(2026, 9, 30), 6, 3, ["2026-08"], False),
        # One a month all semester, looked at afterwards: all six, nothing missed.
        ([date(2026, m, 5) for m in range(7, 13)], date(2027, 3, 1), 6, 6, [], False),
        # Purchases of another semester do not count.
        ([date(2026, 6, 30), date(2027, 1, 1)], date(2026, 7, 20), 0, 1, [], False),
        # A semester not begun asks nothing.
        ([], date(2026, 6, 30), 0, 0, [], False),
    ],
)
def test_the_tally_counts_months_begun_and_misses_only_months_ended(
    days: list[date], today: date, total: int, expected: int, missed: list[str], behind: bool
) -> None:
    t = tally(days, S2, today)
    assert (t.total, t.expected, t.months_missed, t.behind) == (total, expected, missed, behind)
    assert t.due_now == (total < expected)
    assert list(t.per_month) == [f"2026-{m:02d}" for m in range(7, 13)]
    assert sum(t.per_month.values()) == total


def test_semesters_are_written_and_read_the_same_way() -> None:
    assert Semester.parse("2026-S2") == S2 == Semester.parse("2026s2")
    assert str(S2) == "2026-S2" and Semester.of(date(2026, 6, 30)) == Semester(2026, 1)
    assert S2.previous() == Semester(2026, 1) and S2.following() == Semester(2027, 1)
    assert Semester(2026, 1).previous() == Semester(2025, 2)
    assert (S2.first_day, S2.last_day) == (date(2026, 7, 1), date(2026, 12, 31))
    for bad in ("2026", "2026-S3", "S2-2026", "1999-S1", "2026-S2; drop", ""):
        with pytest.raises(HostingError, match="write it as 2026-S2"):
            Semester.parse(bad)


# ----------------------------------------------------------------------------- actions


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome")
    await content.mediator_add(rn.node, "ama", Profile(name="Ama Mensah"), by=OPERATOR)
    await content.mediator_add(rn.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    return rn


async def test_coordinators_record_and_cancel_and_the_tally_follows(make_node: MakeNode) -> None:
    rn = await section(make_node)
    today = date(2026, 9, 15)
    july = await hostings.hosting_record(
        rn.node,
        "ama",
        date(2026, 7, 3),
        "Site de l'association Yovo",
        "10 EUR",
        by=OPERATOR,
        today=today,
    )
    assert (july.amount, july.currency, july.recorded_by) == ("10.00", "EUR", "operator")
    await hostings.hosting_record(
        rn.node, "ama", date(2026, 8, 3), "Domaine yovo.tg", by=OPERATOR, today=today
    )
    wrong = await hostings.hosting_record(
        rn.node, "kossi", date(2026, 9, 1), "Saisi par erreur", by=OPERATOR, today=today
    )
    tallies = {
        t.username: t.tally
        for t in await hostings.hosting_tallies(rn.node, S2, by=OPERATOR, today=today)
    }
    assert (tallies["ama"].total, tallies["ama"].months_missed) == (2, [])
    assert tallies["kossi"].total == 1

    cancelled = await hostings.hosting_cancel(rn.node, wrong.id, "pas Kossi", by=OPERATOR)
    assert cancelled.cancel_reason == "pas Kossi"
    with pytest.raises(HostingError, match="already cancelled"):
        await hostings.hosting_cancel(rn.node, wrong.id, "encore", by=OPERATOR)
    with pytest.raises(NotFound):
        await hostings.hosting_cancel(rn.node, 999, "rien", by=OPERATOR)
    tallies = {
        t.username: t.tally
        for t in await hostings.hosting_tallies(rn.node, S2, by=OPERATOR, today=today)
    }
    assert tallies["kossi"].total == 0
    assert tallies["kossi"].months_missed == ["2026-07", "2026-08"] and tallies["kossi"].behind
    # Listed all the same, cancelled, newest first.
    listed = await hostings.hosting_list(rn.node, S2, by=OPERATOR)
    assert [(n, r.id, r.cancelled_at is not None) for n, r in listed] == [
        ("kossi", wrong.id, True),
        ("ama", july.id + 1, False),
        ("ama", july.id, False),
    ]


async def test_bad_purchases_are_refused_and_change_nothing(make_node: MakeNode) -> None:
    rn = await section(make_node)
    today = date(2026, 9, 15)
    cases: list[tuple[str, date, str, str, type[Exception], str]] = [
        ("ama", today + timedelta(days=1), "Site", "", HostingError, "in the future"),
        ("ama", date(1999, 1, 1), "Site", "", HostingError, "too far in the past"),
        ("ama", today, "   ", "", HostingError, "say what was bought"),
        ("ama", today, "x" * 301, "", HostingError, "over 300 characters"),
        ("ama", today, "Site", "dix euros", HostingError, "write an amount"),
        ("ama", today, "Site", "-5 EUR", HostingError, "between 0"),
        ("nobody", today, "Site", "", MediatorError, "no mediator"),
        ("lome", today, "Site", "", MediatorError, "no mediator"),  # the node actor
    ]
    for username, day, what, price, error, message in cases:
        with pytest.raises(error, match=message):
            await hostings.hosting_record(
                rn.node, username, day, what, price, by=OPERATOR, today=today
            )
    await content.mediator_remove(rn.node, "kossi", by=OPERATOR)
    with pytest.raises(MediatorError, match="was removed"):
        await hostings.hosting_record(rn.node, "kossi", today, "Site", by=OPERATOR, today=today)
    assert await hostings.hosting_list(rn.node, S2, by=OPERATOR) == []


async def test_only_coordinators_record_and_a_mediator_reads_only_their_own(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    actors = {m.username: m.id for m in await content.mediator_list(rn.node)}
    ama = Principal(name="ama", mediators=frozenset({actors["ama"]}))
    member = Principal(name="awa", accounts=frozenset({1}))
    for who in (ama, member):
        with pytest.raises(Forbidden):
            await hostings.hosting_record(rn.node, "ama", date.today(), "Site", by=who)
        with pytest.raises(Forbidden):
            await hostings.hosting_tallies(rn.node, S2, by=who)
        with pytest.raises(Forbidden):
            await hostings.hosting_list(rn.node, S2, by=who)
    record = await hostings.hosting_record(rn.node, "ama", date.today(), "Site", by=OPERATOR)
    with pytest.raises(Forbidden):
        await hostings.hosting_cancel(rn.node, record.id, "non", by=ama)
    assert (await hostings.hosting_tally_of(rn.node, "ama", by=ama)).total == 1
    with pytest.raises(Forbidden):
        await hostings.hosting_tally_of(rn.node, "kossi", by=ama)


# ----------------------------------------------------------------------------- page and CLI


async def test_a_coordinator_records_from_the_page_and_the_mediator_sees_it(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    await sel.account_open(rn.node, "awa", "Awa", None, None, by=OPERATOR)
    today = hostings.today_utc()
    async with new_browser() as browser:
        link = (await users.user_add(rn.node, OPERATOR, "coco", ["coordinator"])).link
        await log_in_with_link(browser, rn, link)
        form, _ = await page(browser, f"{rn.url}/admin/hostings")
        assert "six par semestre" in text_of(form) and str(Semester.of(today)) in form
        # A date in the future: refused, the form keeps what was typed, nothing written.
        status, _, refused = await post(
            browser,
            rn,
            "/admin/hostings",
            {
                "mediator": "ama",
                "what": "Site de Yovo",
                "bought_on": (today + timedelta(days=2)).isoformat(),
                "price": "10 EUR",
            },
            token=csrf_of(form),
        )
        assert status == 400 and "dans le futur" in text_of(refused)
        assert 'value="Site de Yovo"' in refused and 'value="10 EUR"' in refused
        status, _, refused = await post(
            browser,
            rn,
            "/admin/hostings",
            {"mediator": "ama", "what": "Site", "bought_on": "15/09/2026"},
            token=csrf_of(form),
        )
        assert status == 400 and "AAAA-MM-JJ" in text_of(refused)
        status, _, refused = await post(
            browser,
            rn,
            "/admin/hostings",
            {"mediator": "pirate", "what": "Site", "bought_on": today.isoformat()},
            token=csrf_of(form),
        )
        assert status == 400
        assert await hostings.hosting_list(rn.node, Semester.of(today), by=OPERATOR) == []

        status, location, _ = await post(
            browser,
            rn,
            "/admin/hostings",
            {"mediator": "ama", "what": "Site de Yovo", "bought_on": today.isoformat()},
            token=csrf_of(form),
        )
        assert status == 303 and "done=hosting-recorded" in location
        shown, _ = await page(browser, f"{rn.url}{location}")
        assert "Hébergement enregistré" in text_of(shown) and "Site de Yovo" in shown
        [(_, row)] = await hostings.hosting_list(rn.node, Semester.of(today), by=OPERATOR)
        status, location, _ = await post(
            browser, rn, f"/admin/hostings/{row.id}/cancel", {"reason": ""}, token=csrf_of(shown)
        )
        assert status == 400

        # The mediator sees where they stand on their own offers page.
        async with new_browser() as mediator:
            ama_link = (await users.user_add(rn.node, OPERATOR, "ama", ["mediator:ama"])).link
            await log_in_with_link(mediator, rn, ama_link)
            offers, _ = await page(mediator, f"{rn.url}/me/mediator/ama/offers")
            assert "Hébergements achetés à la section ce semestre : 1" in text_of(offers)

        status, location, _ = await post(
            browser,
            rn,
            f"/admin/hostings/{row.id}/cancel",
            {"reason": "saisi deux fois"},
            token=csrf_of(shown),
        )
        assert status == 303 and "done=hosting-cancelled" in location
        after, _ = await page(browser, f"{rn.url}{location}")
        assert "Annulé : saisi deux fois" in text_of(after)
        status, _, _ = await post(
            browser, rn, "/admin/hostings/abc/cancel", {"reason": "x"}, token=csrf_of(after)
        )
        assert status == 404
        # Another semester is a link away; a nonsense one shows the current semester.
        older, _ = await page(browser, f"{rn.url}/admin/hostings?semester=2020-S1")
        assert "2020-S1" in older and "Aucun hébergement enregistré" in text_of(older)
        await page(browser, f"{rn.url}/admin/hostings?semester=%3Cscript%3E")


async def test_the_cli_records_lists_summarises_and_cancels(make_node: MakeNode) -> None:
    rn = await section(make_node)
    data = str(rn.config.data_dir)
    code, out, err = await coopnet(
        "hosting",
        "record",
        "--data",
        data,
        "--mediator",
        "ama",
        "--what",
        "Site de Yovo",
        "--date",
        "2026-07-03",
        "--price",
        "10 EUR",
    )
    assert code == 0, err
    assert "recorded #1: ama bought 'Site de Yovo' on 2026-07-03" in out
    code, out, err = await coopnet("hosting", "list", "--data", data, "--semester", "2026-S2")
    assert code == 0 and "#1" in out and "10.00 EUR" in out and "Site de Yovo" in out
    code, out, err = await coopnet("hosting", "summary", "--data", data, "--semester", "2026-S2")
    assert code == 0, err
    ama = next(line for line in out.splitlines() if line.startswith("ama "))
    assert ama.split()[1:8] == ["1", "0", "0", "0", "0", "0", "1"]
    code, out, err = await coopnet("hosting", "cancel", "--data", data, "1", "--reason", "erreur")
    assert code == 0 and "no longer counts" in out
    code, out, err = await coopnet("hosting", "list", "--data", data, "--semester", "2026-S2")
    assert "CANCELLED: erreur" in out

    # Wrong arguments: a clear message, a non-zero status, nothing written.
    for argv, message in [
        (["record", "--mediator", "ama", "--what", "x", "--date", "03/07/2026"], "YYYY-MM-DD"),
        (["record", "--mediator", "nobody", "--what", "x"], "no mediator"),
        (["record", "--mediator", "ama", "--what", "x", "--date", "2099-01-01"], "future"),
        (["list", "--semester", "2026-S9"], "2026-S2"),
        (["cancel", "1", "--reason", "encore"], "already cancelled"),
        (["record", "--what", "x"], "--mediator"),
    ]:
        code, out, err = await coopnet("hosting", argv[0], "--data", data, *argv[1:])
        assert code != 0 and message in err, (argv, err)
    listed = await hostings.hosting_list(rn.node, S2, by=OPERATOR)
    assert [r.id for _, r in listed] == [1]
