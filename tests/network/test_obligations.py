"""The charter's obligations computed from data, with a clock the test controls (issue 11, item 5).

Dates are years ahead of the real one (2031): the nodes are created now,
and nothing is owed for a time before its owner existed, so every period
looked at here is one the node has lived through. The seat's view runs two
real nodes on loopback, allied by writing the alliance rows (``allied``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from models.accounts import OPERATOR, Principal
from models.base import clock, utcnow
from models.charter.contracts import Contract
from models.charter.hostings import Semester
from models.charter.receipts import ReceiptDraft
from models.errors import Forbidden, NotFound
from models.mediators import Profile
from models.network.alliances import alliance_with
from models.network.obligation_records import ObligationError, ObligationRecord
from models.network.obligations import (
    State,
    hand_in_state,
    hosting_state,
    monthly_state,
    report_deadline,
    report_state,
)
from models.network.reports import ReportDirection, ReportState, SectionReport
from models.posts import RemoteObject
from node import certification, content
from node.charter import contracts as act
from node.charter import hostings, receipts
from node.network import obligations
from tests.allies import ally
from tests.charter.test_contracts_domain import details, new_contract
from tests.conftest import MakeNode, RunningNode
from tests.node.test_sel_exchanges import until


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def states(items: list[obligations.Item], key: str, who: str | None = None) -> dict[str, State]:
    """period → state of one obligation (of one subject)."""
    return {i.period: i.state for i in items if i.key == key and (who is None or i.subject == who)}


# ----------------------------------------------------------------------------- pure rules


def test_the_pure_rules_read_periods_and_deadlines() -> None:
    today = date(2031, 3, 15)
    assert monthly_state({"2031-02"}, "2031-02", today) is State.DONE
    assert monthly_state(set(), "2031-02", today) is State.LATE
    assert monthly_state(set(), "2031-03", today) is State.DUE
    s2 = Semester(2030, 2)
    assert report_deadline(s2) == date(2031, 1, 31)
    assert report_deadline(Semester(2031, 1)) == date(2031, 7, 31)
    assert report_state(False, s2, date(2031, 1, 31)) is State.DUE
    assert report_state(False, s2, date(2031, 2, 1)) is State.LATE
    assert report_state(True, s2, date(2031, 2, 1)) is State.DONE
    signed = date(2031, 1, 5)
    assert hand_in_state(signed, False, signed + timedelta(days=30)) is State.DUE
    assert hand_in_state(signed, False, signed + timedelta(days=31)) is State.LATE
    assert hand_in_state(signed, True, signed + timedelta(days=90)) is State.DONE
    s1 = Semester(2031, 1)
    # Two months ended, one hosting: behind. Two: on track, this month still due.
    state, detail = hosting_state([date(2031, 1, 9)], s1, today)
    assert state is State.LATE and str(detail) == "behind: 1 bought, 2 month(s) ended"
    assert hosting_state([date(2031, 1, 9), date(2031, 2, 9)], s1, today)[0] is State.DUE
    # Joined in March: nothing owed for January and February.
    assert hosting_state([], s1, today, since=date(2031, 3, 1))[0] is State.DUE
    assert hosting_state([date(2031, m, 2) for m in range(1, 7)], s1, today)[0] is State.DONE


# ----------------------------------------------------------------------------- a section


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome")
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    await content.mediator_add(rn.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    return rn


async def test_a_month_without_a_bulletin_is_late_and_one_with_a_bulletin_done(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    with clock(lambda: at(date(2031, 2, 10))):
        await content.bulletin_publish(
            rn.node, "Bulletin de février", "Des nouvelles.", by=OPERATOR
        )
        seen = await obligations.obligations_of(rn.node, by=OPERATOR)
    assert states(seen, "section.bulletin") == {"2031-02": State.DONE, "2031-01": State.LATE}
    # In April: March had none (late), April runs (due), February is no longer shown.
    with clock(lambda: at(date(2031, 4, 2))):
        seen = await obligations.obligations_of(rn.node, by=OPERATOR)
    assert states(seen, "section.bulletin") == {"2031-04": State.DUE, "2031-03": State.LATE}
    # --as-of looks at another day with the same data, whatever the clock says.
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 3, 1))
    assert states(seen, "section.bulletin") == {"2031-03": State.DUE, "2031-02": State.DONE}
    # Late ones first.
    assert seen[0].state is State.LATE and seen[-1].state in (State.DONE, State.NOT_APPLICABLE)


async def test_a_mediator_under_one_hosting_a_month_is_behind(make_node: MakeNode) -> None:
    rn = await section(make_node)
    today = date(2031, 4, 15)
    for day in (date(2031, 1, 8), date(2031, 2, 8), date(2031, 3, 8)):
        await hostings.hosting_record(rn.node, "ama", day, "Site", by=OPERATOR, today=today)
    await hostings.hosting_record(
        rn.node, "kossi", date(2031, 1, 20), "Site", by=OPERATOR, today=today
    )
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=today)
    ama = next(
        i
        for i in seen
        if i.key == "mediator.hosting" and i.subject == "ama" and i.period == "2031-S1"
    )
    kossi = next(
        i
        for i in seen
        if i.key == "mediator.hosting" and i.subject == "kossi" and i.period == "2031-S1"
    )
    assert ama.state is State.DUE  # three months ended, three bought; April still runs
    assert kossi.state is State.LATE and "behind: 1 bought, 3 month(s) ended" in kossi.detail
    # The mediator sees their own, and only their own.
    ids = {m.username: m.id for m in await content.mediator_list(rn.node)}
    as_kossi = Principal(name="kossi", mediators=frozenset({ids["kossi"]}))
    own = await obligations.mediator_obligations(rn.node, "kossi", by=as_kossi, as_of=today)
    assert {i.subject for i in own} == {"kossi"} and "mediator.hosting" in {i.key for i in own}
    with pytest.raises(Forbidden):
        await obligations.mediator_obligations(rn.node, "ama", by=as_kossi, as_of=today)
    with pytest.raises(Forbidden):
        await obligations.obligations_of(rn.node, by=as_kossi)


async def test_a_report_not_delivered_after_the_deadline_is_late_until_sent(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    s2 = "2030-S2"
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 1, 31))
    assert states(seen, "section.report")[s2] is State.DUE
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 2, 1))
    assert states(seen, "section.report") == {s2: State.LATE, "2031-S1": State.DUE}
    # A draft is not delivered; the row the sending writes is.
    async with rn.node.write() as session:
        ident = str(uuid.uuid4())
        report = SectionReport(
            uuid=ident,
            uri=f"{rn.url}/reports/{ident}",
            section_uri=rn.actor_id,
            section_name="lome",
            period=s2,
            direction=ReportDirection.SENT,
            state=ReportState.DRAFT,
        )
        session.add(report)
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 2, 1))
    assert states(seen, "section.report")[s2] is State.LATE
    async with rn.node.write() as session:
        await session.execute(
            update(SectionReport).values(state=ReportState.SENT, sent_at=at(date(2031, 2, 3)))
        )
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 2, 5))
    assert states(seen, "section.report")[s2] is State.DONE


async def signed_in_2031(rn: RunningNode, day: date) -> str:
    await act.model_save(rn.node, OPERATOR, "contract", "Contrat {client} {price}")
    await act.model_save(rn.node, OPERATOR, "conditions", "Conditions {share}")
    with clock(lambda: at(day)):
        contract, token = await new_contract(rn)
        await act.client_sign(rn.node, token, details())
    return contract.uuid


async def test_a_signed_contract_not_handed_in_is_late_and_a_paid_one_needs_a_receipt(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    ref = await signed_in_2031(rn, date(2031, 1, 5))
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 1, 20))
    assert states(seen, "mediator.contract_handed_in", "ama") == {"2031-01": State.DUE}
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 3, 20))
    [late] = [i for i in seen if i.key == "mediator.contract_handed_in"]
    assert late.state is State.LATE and "Lumière" in late.detail and late.who == "Ama"
    assert not [i for i in seen if i.key == "mediator.receipt"]  # not paid yet: nothing asked
    # Handed in with the share: done; but the client's payment has no receipt.
    with clock(lambda: at(date(2031, 3, 21))):
        await act.contract_hand_in(rn.node, OPERATOR, ref, "12")
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 3, 22))
    assert states(seen, "mediator.contract_handed_in") == {"2031-01": State.DONE}
    assert states(seen, "mediator.receipt") == {"2031-03": State.LATE}
    # Months later, still flagged: a missing receipt does not age out of view.
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 9, 1))
    assert states(seen, "mediator.receipt") == {"2031-03": State.LATE}
    assert "mediator.contract_handed_in" not in {i.key for i in seen}  # done, months ago
    draft = ReceiptDraft(payer="Afi Dossou", amount="120 EUR", purpose="Site", contract=ref)
    await receipts.issue(rn.node, "ama", draft, by=OPERATOR)
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 3, 22))
    assert states(seen, "mediator.receipt") == {"2031-03": State.DONE}
    # A contract paid with an article asks no receipt.
    async with rn.node.write() as session:
        await session.execute(update(Contract).values(counterpart="article"))
    await receipts.cancel(
        rn.node,
        (await receipts.receipts_for_contract(rn.node, ref, by=OPERATOR))[0].number,
        "erreur",
        by=OPERATOR,
    )
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=date(2031, 3, 22))
    assert states(seen, "mediator.receipt") == {"2031-03": State.NOT_APPLICABLE}


async def test_the_list_of_mediators_is_current_when_each_listed_one_is_certified(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    today = date(2031, 5, 4)
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=today)
    [listed] = [i for i in seen if i.key == "section.mediators_listed"]
    assert listed.state is State.LATE and "ama (not certified)" in listed.detail
    await certification.certify(rn.node, "ama", by=OPERATOR)
    await certification.certify(rn.node, "kossi", by=OPERATOR)
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=today)
    assert states(seen, "section.mediators_listed") == {"2031-05": State.DONE}
    await certification.revoke_attestation(rn.node, "kossi", by=OPERATOR)
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=today)
    [listed] = [i for i in seen if i.key == "section.mediators_listed"]
    assert listed.state is State.LATE and listed.detail == "kossi (certification revoked)"


async def test_a_manual_record_turns_an_obligation_done_and_its_cancellation_undoes_it(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    today = date(2031, 5, 4)
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=today)
    assert states(seen, "mediator.coordination", "kossi") == {
        "2031-05": State.DUE,
        "2031-04": State.LATE,
    }
    row = await obligations.obligation_record(
        rn.node,
        "mediator.coordination",
        "2031-04",
        "kossi",
        date(2031, 4, 28),
        "séance du 28",
        by=OPERATOR,
        as_of=today,
    )
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=today)
    assert states(seen, "mediator.coordination", "kossi")["2031-04"] is State.DONE
    done = next(
        i
        for i in seen
        if i.key == "mediator.coordination" and i.period == "2031-04" and i.subject == "kossi"
    )
    assert done.record_id == row.id
    # The same one twice is refused; so is what does not fit the catalogue.
    with pytest.raises(ObligationError, match="already recorded"):
        await obligations.obligation_record(
            rn.node, "mediator.coordination", "2031-04", "kossi", None, by=OPERATOR, as_of=today
        )
    refusals = [
        (("section.bulletin", "2031-04", "", None), "not recorded by hand"),
        (("nothing", "2031-04", "", None), "not recorded by hand"),
        (("mediator.coordination", "2031-13", "kossi", None), "write it as 2026-09"),
        (("mediator.coordination", "avril", "kossi", None), "write it as 2026-09"),
        (("mediator.coordination", "2031-06", "kossi", None), "has not begun"),
        (("mediator.coordination", "2031-04", "nobody", None), "say whom"),
        (("mediator.coordination", "2031-04", "", None), "say whom"),
        (("mediator.coordination", "2031-03", "kossi", date(2031, 6, 1)), "in the future"),
        (("section.training", "2031-04", "kossi", None), "done once"),
        (("seat.delegates", "2031-S1", "", None), "not recorded by hand"),  # a seat's
    ]
    for (key, period, who, day), message in refusals:
        with pytest.raises(ObligationError, match=message):
            await obligations.obligation_record(
                rn.node, key, period, who, day, by=OPERATOR, as_of=today
            )
    ids = {m.username: m.id for m in await content.mediator_list(rn.node)}
    with pytest.raises(Forbidden):
        await obligations.obligation_record(
            rn.node,
            "mediator.coordination",
            "2031-05",
            "kossi",
            None,
            by=Principal(name="kossi", mediators=frozenset({ids["kossi"]})),
            as_of=today,
        )
    assert await rn.count(ObligationRecord) == 1

    with pytest.raises(ObligationError, match="reason"):
        await obligations.obligation_cancel(rn.node, row.id, "  ", by=OPERATOR)
    await obligations.obligation_cancel(rn.node, row.id, "pas venu, erreur", by=OPERATOR)
    with pytest.raises(ObligationError, match="already cancelled"):
        await obligations.obligation_cancel(rn.node, row.id, "encore", by=OPERATOR)
    with pytest.raises(NotFound):
        await obligations.obligation_cancel(rn.node, 999, "rien", by=OPERATOR)
    seen = await obligations.obligations_of(rn.node, by=OPERATOR, as_of=today)
    assert states(seen, "mediator.coordination", "kossi")["2031-04"] is State.LATE
    # Cancelled, it stays listed; a new record may be made.
    again = await obligations.obligation_record(
        rn.node, "mediator.coordination", "2031-04", "kossi", None, by=OPERATOR, as_of=today
    )
    listed = await obligations.obligation_records(rn.node, by=OPERATOR)
    assert [(r.id, r.cancelled_at is not None) for r in listed] == [
        (again.id, False),
        (row.id, True),
    ]
    # A one-time obligation of the section itself needs no --who.
    once = await obligations.obligation_record(
        rn.node, "section.pricing", "", "", None, "article publié", by=OPERATOR, as_of=today
    )
    assert (once.period, once.subject) == ("once", "")


# ----------------------------------------------------------------------------- the seat


async def allied(seat: RunningNode, section_node: RunningNode, since: datetime) -> None:
    """Seat and section allied through the real protocol (tests/allies.py), then the
    alliance dated back to ``since`` on both sides: nothing is owed for the time
    before an alliance, and the test looks at last month."""
    await ally(section_node, seat)
    for here, there in ((seat, section_node), (section_node, seat)):
        async with here.node.write() as session:
            row = await alliance_with(session, there.actor_id)
            assert row is not None
            row.created_at = row.updated_at = row.accepted_at = since


async def test_the_seat_sees_each_section_late_when_it_sent_no_bulletin_last_month(
    make_node: MakeNode,
) -> None:
    seat = await make_node("siege", role="seat")
    lome = await make_node("lome")
    now = utcnow()
    await allied(seat, lome, now - timedelta(days=70))
    bulletin = await content.bulletin_publish(lome.node, "Bulletin", "Des nouvelles.", by=OPERATOR)

    async def arrived() -> bool:
        return await seat.count(RemoteObject, RemoteObject.uri == bulletin.uri) == 1

    await until(arrived, "the section's bulletin at the seat")
    this_month = f"{now.year}-{now.month:02d}"
    first_of_next = (now.replace(day=1) + timedelta(days=32)).replace(day=1).date()
    two_later = (first_of_next + timedelta(days=32)).replace(day=3)
    seen = await obligations.obligations_of(seat.node, by=OPERATOR, as_of=first_of_next)
    mine = [i for i in seen if i.section == "Lome"]
    assert states(mine, "section.bulletin") == {
        this_month: State.DONE,
        f"{first_of_next.year}-{first_of_next.month:02d}": State.DUE,
    }
    seen = await obligations.obligations_of(seat.node, by=OPERATOR, as_of=two_later)
    late_month = f"{first_of_next.year}-{first_of_next.month:02d}"
    mine = [i for i in seen if i.section == "Lome"]
    assert states(mine, "section.bulletin")[late_month] is State.LATE
    # The seat's own bulletin is its own obligation, not the section's.
    assert {i.section for i in seen if i.key == "seat.bulletin"} == {""}

    # Reports received, and the hostings inside them.
    period = str(Semester.of(now.date()))
    async with seat.node.write() as session:
        ident = str(uuid.uuid4())
        session.add(
            SectionReport(
                uuid=ident,
                uri=f"{lome.url}/reports/{ident}",
                section_uri=lome.actor_id,
                section_name="lome",
                period=period,
                direction=ReportDirection.RECEIVED,
                state=ReportState.SENT,
                figures_json='{"hostings_behind": {"kossi": 1}}',
                received_at=now,
            )
        )
    after = Semester.of(now.date()).last_day + timedelta(days=1)
    seen = await obligations.obligations_of(seat.node, by=OPERATOR, as_of=after)
    assert states(seen, "section.report", lome.actor_id)[period] is State.DONE
    [figures] = [i for i in seen if i.key == "section.hostings_reported"]
    assert figures.state is State.LATE and figures.detail.startswith("behind: kossi")
    # A report that says no mediator is behind: done; one without the figure: not applicable.
    for figures_json, expected in (
        ('{"hostings_behind": {}}', State.DONE),
        ('{"mediators": 2}', State.NOT_APPLICABLE),
        ('{"hostings_behind": [1, 2]}', State.NOT_APPLICABLE),
    ):
        async with seat.node.write() as session:
            row = await session.scalar(select(SectionReport).where(SectionReport.uuid == ident))
            assert row is not None
            row.figures_json = figures_json
        seen = await obligations.obligations_of(seat.node, by=OPERATOR, as_of=after)
        [figures] = [i for i in seen if i.key == "section.hostings_reported"]
        assert figures.state is expected, figures_json
    # The seat records a section's coordination by hand, naming it by its handle.
    row = await obligations.obligation_record(
        seat.node, "section.coordination", late_month, lome.acct, None, by=OPERATOR, as_of=two_later
    )
    assert row.subject == lome.actor_id
    seen = await obligations.obligations_of(seat.node, by=OPERATOR, as_of=two_later)
    assert states(seen, "section.coordination", lome.actor_id)[late_month] is State.DONE
    # On the section, the seat's monthly bulletin is watched the same way.
    seen = await obligations.obligations_of(lome.node, by=OPERATOR, as_of=two_later)
    assert states(seen, "seat.bulletin")[late_month] is State.LATE


# ----------------------------------------------------------------------------- page and CLI


async def test_the_page_shows_late_first_and_records_and_cancels(make_node: MakeNode) -> None:
    from node import users
    from tests.web.test_mediator_pages import (
        csrf_of,
        log_in_with_link,
        new_browser,
        page,
        post,
        text_of,
    )

    rn = await section(make_node)
    async with new_browser() as browser:
        link = (await users.user_add(rn.node, OPERATOR, "coco", ["coordinator"])).link
        await log_in_with_link(browser, rn, link)
        shown, _ = await page(browser, f"{rn.url}/admin/obligations")
        words = text_of(shown)
        assert "Obligations de la charte" in words and "Médiateur → section" in words
        assert "En retard" in words or "À faire" in words
        assert 'href="/admin/obligations" aria-current="page"' in shown
        # Refusals re-render the page with the message; nothing is written.
        for form, message in [
            ({"key": "mediator.coordination", "period": "2099-01", "who": "kossi"}, "pas commencé"),
            ({"key": "section.bulletin", "period": "", "who": ""}, "choix proposés"),
            (
                {"key": "mediator.coordination", "period": "x", "who": "kossi", "done_on": "hier"},
                "AAAA-MM-JJ",
            ),
        ]:
            status, _, refused = await post(
                browser, rn, "/admin/obligations", form, token=csrf_of(shown)
            )
            assert status == 400 and message in text_of(refused), (form, text_of(refused)[:300])
        assert await rn.count(ObligationRecord) == 0
        month = obligations.today().isoformat()[:7]
        status, location, _ = await post(
            browser,
            rn,
            "/admin/obligations",
            {
                "key": "mediator.coordination",
                "period": month,
                "who": "kossi",
                "done_on": "",
                "note": "<b>ok</b>",
            },
            token=csrf_of(shown),
        )
        assert status == 303 and "done=obligation-recorded" in location
        after, _ = await page(browser, f"{rn.url}{location}")
        assert "Saisie enregistrée" in text_of(after) and "&lt;b&gt;ok&lt;/b&gt;" in after
        [row] = await obligations.obligation_records(rn.node, by=OPERATOR)
        status, _, _ = await post(
            browser, rn, f"/admin/obligations/{row.id}/cancel", {"reason": ""}, token=csrf_of(after)
        )
        assert status == 400
        status, _, _ = await post(
            browser, rn, "/admin/obligations/abc/cancel", {"reason": "x"}, token=csrf_of(after)
        )
        assert status == 404
        status, location, _ = await post(
            browser,
            rn,
            f"/admin/obligations/{row.id}/cancel",
            {"reason": "erreur"},
            token=csrf_of(after),
        )
        assert status == 303 and "done=obligation-cancelled" in location
        # English by choice.
        english, _ = await page(browser, f"{rn.url}/admin/obligations?lang=en")
        assert "Obligations of the charter" in text_of(english) and "Cancelled: erreur" in text_of(
            english
        )

        # A mediator sees their own on their offers page, and not the coordinator's page.
        async with new_browser() as mediator:
            kossi = (await users.user_add(rn.node, OPERATOR, "kossi", ["mediator:kossi"])).link
            await log_in_with_link(mediator, rn, kossi)
            offers, _ = await page(mediator, f"{rn.url}/me/mediator/kossi/offers")
            assert "Mes obligations" in text_of(offers)
            assert "Un hébergement acheté par mois" in text_of(offers)
            status = (
                await mediator.get(f"{rn.url}/admin/obligations", allow_redirects=False)
            ).status
            assert status == 403


async def test_the_cli_shows_records_and_cancels(make_node: MakeNode) -> None:
    from tests.procs import coopnet

    rn = await section(make_node)
    await hostings.hosting_record(
        rn.node, "ama", date(2031, 1, 8), "Site", by=OPERATOR, today=date(2031, 4, 1)
    )
    data = str(rn.config.data_dir)
    code, out, err = await coopnet("obligations", "--data", data, "--as-of", "2031-04-15")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "obligations as of 2031-04-15 (section lome)"
    assert lines[1].split()[:6] == ["relation", "obligation", "period", "who", "state", "detail"]
    ama = next(
        line for line in lines if "One hosting" in line and "Ama" in line and "2031-S1" in line
    )
    assert "LATE" in ama and "behind: 1 bought, 3 month(s) ended" in ama
    assert "Monthly bulletin to the section's members" in out
    code, late, err = await coopnet(
        "obligations", "--data", data, "--as-of", "2031-04-15", "--late"
    )
    assert code == 0 and all(" LATE " in line for line in late.splitlines()[2:])
    assert " due " not in late

    code, out, err = await coopnet(
        "obligation",
        "record",
        "--data",
        data,
        "mediator.coordination",
        "--period",
        "2026-11",
        "--who",
        "kossi",
        "--done-on",
        "2026-11-28",
        "--note",
        "séance",
    )
    assert code == 0, err
    assert out.startswith("recorded #1: mediator.coordination 2026-11 for kossi done on 2026-11-28")
    code, out, err = await coopnet("obligation", "list", "--data", data)
    assert code == 0 and "#1" in out and "kossi" in out and "séance" in out
    code, out, err = await coopnet(
        "obligation", "cancel", "--data", data, "1", "--reason", "erreur"
    )
    assert code == 0 and "cancelled (erreur)" in out
    code, out, err = await coopnet("obligation", "list", "--data", data)
    assert "CANCELLED: erreur" in out

    # Wrong arguments: a message that says what to do, exit 1 (argparse's own: 2), nothing written.
    for argv, message, status in [
        (["obligations", "--as-of", "2031-13-01"], "write YYYY-MM-DD", 1),
        (["obligations", "--as-of", "15/04/2031"], "write YYYY-MM-DD", 1),
        (
            [
                "obligation",
                "record",
                "mediator.coordination",
                "--period",
                "2026-11",
                "--who",
                "kossi",
                "--done-on",
                "demain",
            ],
            "write YYYY-MM-DD",
            1,
        ),
        (["obligation", "record", "section.bulletin"], "not recorded by hand", 1),
        (
            ["obligation", "record", "mediator.coordination", "--period", "nov", "--who", "kossi"],
            "2026-09",
            1,
        ),
        (
            [
                "obligation",
                "record",
                "mediator.coordination",
                "--period",
                "2026-11",
                "--who",
                "nobody",
            ],
            "say whom",
            1,
        ),
        (["obligation", "cancel", "1", "--reason", "encore"], "already cancelled", 1),
        (["obligation", "cancel", "99", "--reason", "x"], "no obligation record", 1),
        (["obligation", "cancel", "1"], "--reason", 2),
    ]:
        code, out, err = (
            await coopnet(argv[0], argv[1], "--data", data, *argv[2:])
            if argv[0] == "obligation"
            else await coopnet(argv[0], "--data", data, *argv[1:])
        )
        assert code == status and message in err, (argv, code, err)
    assert await rn.count(ObligationRecord) == 1
    code, out, _ = await coopnet("obligations", "--help")
    assert code == 0 and "--as-of" in out and "--late" in out
