"""The report's figures, counted from real data recorded with a clock the test sets.

Everything goes through the actions the CLI and the pages call (mediators,
certification, hostings, contracts signed by the client, receipts and their
cancellation, satisfaction, SEL exchanges, bulletins), at chosen moments of
2026; the figures for 2026-S2 as of 31 August are then checked one by one,
with what lies outside the period (June, September, cancelled) left out.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, date, datetime

from models.accounts import OPERATOR
from models.base import clock
from models.charter.hostings import Semester
from models.charter.receipts import ReceiptDraft
from models.charter.satisfaction import answer, new_request
from models.mediators import Profile
from models.network.report_figures import FIGURES, compose_figures
from models.sel.accounts import open_account
from models.sel.exchanges import Exchange, Role, State
from models.sel.local import confirm_local, record_local
from node import certification, content
from node.charter import contracts as act
from node.charter import hostings, receipts
from node.network import help, reports
from tests.charter.test_contracts_domain import details, new_contract
from tests.conftest import MakeNode
from tests.node.test_help_requests import person

S2 = Semester(2026, 2)


def at(month: int, day: int, hour: int = 10) -> AbstractContextManager[None]:
    moment = datetime(2026, month, day, hour, tzinfo=UTC)
    return clock(lambda: moment)


async def test_figures_count_the_semester_up_to_the_day_from_the_data(
    make_node: MakeNode,
) -> None:
    rn = await make_node("lome", run_workers=False)
    node = rn.node
    with at(6, 1):
        for name in ("ama", "kossi", "yao"):
            await content.mediator_add(node, name, Profile(name=name.title()), by=OPERATOR)
        await certification.certify(node, "ama", by=OPERATOR)
        await certification.certify(node, "kossi", by=OPERATOR)
        await act.model_save(node, OPERATOR, "contract", "Contrat {client} {price}")
        await act.model_save(node, OPERATOR, "conditions", "Conditions {share}")
        # A bulletin of the previous semester: not counted.
        await content.bulletin_publish(node, "Juin", "Texte.", by=OPERATOR)
    with at(8, 1):
        # Yao leaves during the semester: counted among the semester's mediators only.
        await content.mediator_remove(node, "yao", by=OPERATOR)

    # Hostings: Ama two in the period (and one in June, one in September); Kossi one,
    # and one cancelled.
    for who, day in (
        ("ama", date(2026, 6, 30)),
        ("ama", date(2026, 7, 3)),
        ("ama", date(2026, 8, 2)),
        ("ama", date(2026, 9, 1)),
        ("kossi", date(2026, 7, 20)),
        ("kossi", date(2026, 8, 5)),
    ):
        row = await hostings.hosting_record(
            node, who, day, "site", "10 EUR", by=OPERATOR, today=date(2026, 12, 31)
        )
        if who == "kossi" and day.month == 8:
            await hostings.hosting_cancel(node, row.id, "recorded twice", by=OPERATOR)

    # Contracts: one signed in July and handed in in August, one signed in August.
    with at(7, 15):
        first, token = await new_contract(rn)
        await act.client_sign(node, token, details())
    with at(8, 10):
        second, token = await new_contract(rn)
        await act.client_sign(node, token, details("Kodjo Mensah"))
    with at(8, 20):
        await act.contract_hand_in(node, OPERATOR, first.uuid, "12 EUR")
    with at(9, 2):  # after the as-of day
        await act.contract_hand_in(node, OPERATOR, second.uuid, "12 EUR")

    # Receipts: two standing, one cancelled (the cancelling one counts apart), one in September.
    with at(8, 5):
        await receipts.issue(node, "ama", ReceiptDraft("A", "120 EUR", "site"), by=OPERATOR)
        await receipts.issue(node, "kossi", ReceiptDraft("B", "5000 XOF", "site"), by=OPERATOR)
        wrong = await receipts.issue(node, "ama", ReceiptDraft("C", "99 EUR", "x"), by=OPERATOR)
        await receipts.cancel(node, wrong.receipt.uuid, "wrong sum", by=OPERATOR)
    with at(9, 3):
        await receipts.issue(node, "ama", ReceiptDraft("D", "50 EUR", "site"), by=OPERATOR)

    # Satisfaction: two links given in August, ratings 4 and 5.
    with at(8, 21):
        async with node.write() as session:
            from models.charter.contracts import get_contract

            for ref, rating in ((first.uuid, "4"), (second.uuid, "5")):
                token = await new_request(session, await get_contract(session, ref))
                await answer(session, token, rating, "")

    # SEL: two local exchanges in the period (one of them in June: not counted),
    # and the records that exchanges with two peer sections leave.
    async with node.write() as session:
        for code in ("afi", "kodjo"):
            await open_account(session, code, code.title())
        for day, minutes in ((date(2026, 6, 28), 30), (date(2026, 7, 10), 90)):
            ex, _ = await record_local(
                session, node.urls.base, payer="afi", payee="kodjo", amount=minutes,
                description="jardinage", performed_on=day, now=datetime(2026, 7, 10, tzinfo=UTC),
            )  # fmt: skip
            await confirm_local(session, ex.uuid, now=datetime(2026, 7, 10, tzinfo=UTC))
        mars, lille = "https://mars.example/users/marseille", "https://lille.example/users/lille"
        peers = (
            (mars, Role.ORIGIN, State.SETTLED, 60, "2026-07-11"),
            (mars, Role.RESPONDER, State.COMMITTED, 45, "2026-08-01"),
            (lille, Role.RESPONDER, State.COMMITTED, 30, "2026-08-02"),
            (lille, Role.ORIGIN, State.REJECTED, 90, "2026-08-03"),
            (lille, Role.ORIGIN, State.SETTLED, 90, "2026-09-03"),
        )  # fmt: skip
        for i, (peer, role, state, amount, day_text) in enumerate(peers):
            session.add(
                Exchange(
                    uuid=f"00000000-0000-0000-0000-{i:012d}",
                    uri=f"{peer}/agreements/{i}",
                    role=role,
                    state=state,
                    peer_uri=peer,
                    amount=amount,
                    performed_on=day_text,
                )
            )

    # Bulletins: two in July, one in August, one in August deleted, one in September.
    for month, day, title in ((7, 1, "Juillet"), (7, 20, "Fin juillet"), (8, 3, "Août")):
        with at(month, day):
            await content.bulletin_publish(node, title, "Texte.", by=OPERATOR)
    with at(8, 4):
        gone = await content.bulletin_publish(node, "Erreur", "Texte.", by=OPERATOR)
        await content.bulletin_delete(node, gone.uuid, by=OPERATOR)
    with at(9, 5):
        await content.bulletin_publish(node, "Septembre", "Texte.", by=OPERATOR)

    # Club Aide: Yawa asks once in June (not counted) and twice in July, withdraws
    # one; Koffi, of the same section, offers help on the other, Yawa takes it up
    # and later says it is resolved.
    yawa = await person(rn, "yawa", "Yawa")
    koffi = await person(rn, "koffi", "Koffi")
    with at(6, 20):
        await help.ask(node, yawa, "Avant", "En juin.")
    with at(7, 5):
        wanted = await help.ask(node, yawa, "Un tableur", "Pour les cotisations.")
    with at(7, 6):
        dropped = await help.ask(node, yawa, "Une salle", "Pour l'assemblée.")
        await help.withdraw(node, yawa, dropped.uuid)
    with at(7, 8):
        offered = await help.offer(node, koffi, wanted.uuid, "Je peux vous montrer.")
    with at(7, 9):
        await help.accept(node, yawa, wanted.uuid, offered.uuid)
    with at(7, 30):
        await help.outcome(node, yawa, wanted.uuid, "resolved")

    async with node.sessions() as session:
        figures = await compose_figures(session, node.urls, S2, date(2026, 8, 31))

    assert list(figures) == list(FIGURES)
    assert figures == {
        "mediators": 3,
        "mediators_certified": 2,
        "mediators_active": 2,
        "hostings_bought": 3,
        "hostings_aim": 12,
        "hostings_expected": 4,
        "hostings_per_mediator": 1.5,
        "mediators_on_aim": 1,
        "hostings_behind": {},  # by 31 August only July has ended: one each is enough
        "contracts_signed": 2,
        "contracts_handed_in": 1,
        "contracts_not_handed_in": 1,
        "contract_shares_paid": {"EUR": 1200},
        "receipts_issued": 2,
        "receipts_cancelled": 1,
        "receipts_amounts": {"EUR": 12000, "XOF": 5000},
        "satisfaction_asked": 2,
        "satisfaction_answers": 2,
        "satisfaction_average": 4.5,
        "sel_local_exchanges": 1,
        "sel_local_minutes": 90,
        "sel_peer_exchanges": {"mars.example": 2, "lille.example": 1},
        "sel_peer_minutes_out": {"mars.example": 60},
        "sel_peer_minutes_in": {"mars.example": 45, "lille.example": 30},
        "sel_peer_exchanges_total": 3,
        "sel_peer_minutes_total": 135,
        "bulletins_sent": 3,
        "bulletin_months": 2,
        "help_asked": 2,
        "help_answered": 1,
        "help_accepted": 1,
        "help_withdrawn": 1,
        "help_resolved": 1,
        "help_partly": 0,
        "help_unresolved": 0,
        "help_offers_made": 1,
        "help_offers_accepted": 1,
    }
    # The whole semester (as of its last day) counts September too.
    async with node.sessions() as session:
        later = await compose_figures(session, node.urls, S2, date(2027, 1, 15))
    assert later["hostings_bought"] == 4 and later["hostings_expected"] == 12
    assert later["hostings_behind"] == {"ama": 3, "kossi": 1}  # six months ended, six owed
    assert later["contracts_handed_in"] == 2 and later["contracts_not_handed_in"] == 0
    assert later["receipts_amounts"] == {"EUR": 17000, "XOF": 5000}
    assert later["bulletins_sent"] == 4 and later["bulletin_months"] == 3
    assert later["sel_peer_minutes_out"] == {"mars.example": 60, "lille.example": 90}

    # The action keeps them in the semester's row, with the text; as of the day given.
    row = await reports.report_compose(
        node, S2, "Un **bon** semestre.", by=OPERATOR, today=date(2026, 8, 31)
    )
    assert row.figures == figures and row.as_of == date(2026, 8, 31)
    assert row.text == "Un **bon** semestre."
    # Composing again keeps the text unless a new one is given.
    row = await reports.report_compose(node, S2, by=OPERATOR, today=date(2026, 8, 31))
    assert row.text == "Un **bon** semestre."
