"""Poll pages: who may open, close and vote; CSRF; bad forms kept and refused.

Every refusal is checked to change nothing (the poll tables are read back).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models.accounts import OPERATOR
from models.charter.polls import Poll, PollBallot, PollVoter
from models.errors import Forbidden
from models.mediators import Profile
from node import content, sel
from node.charter import polls
from tests.charter.test_polls_votes import text_of
from tests.conftest import MakeNode, RunningNode
from tests.web.browsing import Visitor, csrf_of, invite_and_log_in


@pytest.fixture
async def visitors() -> AsyncIterator[list[Visitor]]:
    opened: list[Visitor] = []
    yield opened
    for v in opened:
        await v.close()


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome")
    await sel.account_open(rn.node, "awa", "Awa Diallo", None, None, by=OPERATOR)
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    return rn


async def rows(rn: RunningNode) -> tuple[int, int, int]:
    async with rn.node.sessions() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(Poll)) or 0),
            int(await session.scalar(select(func.count()).select_from(PollVoter)) or 0),
            int(await session.scalar(select(func.count()).select_from(PollBallot)) or 0),
        )


def good_form(**changes: str) -> dict[str, str]:
    closes = datetime.now(UTC) + timedelta(days=2)
    form = {
        "question": "Faut-il ouvrir le local le samedi ?",
        "options": "Oui\nNon",
        "choice": "single",
        "closes_date": closes.strftime("%Y-%m-%d"),
        "closes_time": "18:00",
        "audience": "members",
    }
    form.update(changes)
    return form


async def test_only_coordinators_open_and_close_and_only_members_vote(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    poll = await polls.poll_open(
        rn.node,
        "Oui ou non ?",
        ["Oui", "Non"],
        multiple=False,
        closes_at=datetime.now(UTC) + timedelta(days=1),
        audience="members",
        by=OPERATOR,
    )
    anonymous = Visitor(rn)
    chef = await invite_and_log_in(rn, "chef", ["coordinator"])
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    visitors += [anonymous, chef, ama, awa]

    # Anonymous: sent to the login page, for the pages and the forms.
    for path in ("/admin/polls", "/me/polls"):
        page = await anonymous.get(path)
        assert page.status == 303 and page.headers["Location"].startswith("/login"), path
    page = await anonymous.post("/admin/polls", good_form(), form_page="/login")
    assert page.status == 303 and page.headers["Location"].startswith("/login")
    page = await anonymous.post(f"/admin/polls/{poll.uuid}/close", {}, form_page="/login")
    assert page.status == 303 and page.headers["Location"].startswith("/login")

    # A mediator and a member are no coordinators: 403, and nothing opens or closes.
    for visitor, form_page in ((ama, "/me"), (awa, "/me/polls")):
        assert (await visitor.get("/admin/polls")).status == 403
        refused = await visitor.post("/admin/polls", good_form(), form_page=form_page)
        assert refused.status == 403
        refused = await visitor.post(f"/admin/polls/{poll.uuid}/close", {}, form_page=form_page)
        assert refused.status == 403
    assert await rows(rn) == (1, 0, 0)
    assert (await polls.poll_show(rn.node, poll.uuid, by=OPERATOR)).poll.state == "open"

    # A coordinator who is not a member, and a mediator, do not vote.
    for visitor in (chef, ama):
        page = await visitor.get("/me/polls")
        assert page.status == 403 and "seuls les membres de la section votent" in text_of(page.text)
        refused = await visitor.post(
            f"/me/polls/{poll.uuid}/vote", {"choice": "0"}, form_page="/me"
        )
        assert refused.status == 403
    assert await rows(rn) == (1, 0, 0)
    # Nor does anyone through the actions directly.
    with pytest.raises(Forbidden):
        await polls.poll_vote(rn.node, poll.uuid, [0], by=OPERATOR)
    with pytest.raises(Forbidden):
        await polls.member_polls(rn.node, by=OPERATOR)

    # The coordinator's page: the form, and the nav link; French first, English on asking.
    page = await chef.get("/admin/polls")
    assert page.status == 200 and "Ouvrir un sondage" in page.text
    assert 'href="/admin/polls" aria-current="page"' in page.text
    english = await chef.get("/admin/polls?lang=en")
    assert "Open a poll" in english.text and "Ouvrir un sondage" not in english.text
    assert len(page.text.encode()) < 50_000
    home = await awa.get("/me")
    assert 'href="/me/polls"' in home.text and "Sondages" in home.text
    # The coordinator closes it; a second close is refused with the reason.
    closed = await chef.post(f"/admin/polls/{poll.uuid}/close", {}, form_page="/admin/polls")
    assert closed.status == 303 and "done=poll-closed" in closed.headers["Location"]
    again = await chef.post(f"/admin/polls/{poll.uuid}/close", {}, form_page="/admin/polls")
    assert again.status == 400 and "ce sondage est déjà clos" in text_of(again.text)


async def test_forms_without_their_token_or_from_another_site_are_refused(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    poll = await polls.poll_open(
        rn.node,
        "Oui ou non ?",
        ["Oui", "Non"],
        multiple=False,
        closes_at=datetime.now(UTC) + timedelta(days=1),
        audience="public",
        by=OPERATOR,
    )
    chef = await invite_and_log_in(rn, "chef", ["coordinator"])
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    visitors += [chef, awa]
    attempts = [
        (chef, "/admin/polls", good_form()),
        (chef, f"/admin/polls/{poll.uuid}/close", {}),
        (awa, f"/me/polls/{poll.uuid}/vote", {"choice": "0"}),
    ]
    for visitor, path, form in attempts:
        missing = await visitor.post(path, form, csrf=False)
        assert missing.status == 403, path
        forged = await visitor.post(path, {**form, "csrf": "forged"}, csrf=False)
        assert forged.status == 403, path
        token = csrf_of((await visitor.get("/me")).text)
        async with visitor.http.post(
            rn.url + path,
            data={**form, "csrf": token},
            headers={"Origin": "https://evil.example"},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 403, path
    assert await rows(rn) == (1, 0, 0)
    assert (await polls.poll_show(rn.node, poll.uuid, by=OPERATOR)).poll.state == "open"


BAD_FORMS = [
    ({"options": "Oui"}, "donnez au moins 2 options, une par ligne"),
    ({"options": "\n".join(f"Option {i}" for i in range(21))}, "20 options au plus"),
    ({"options": "Oui\noui"}, "deux options ont le même texte"),
    ({"options": "Oui\n" + "x" * 101}, "option : 100 caractères au plus"),
    ({"question": ""}, "Question\u00a0: ce champ est obligatoire"),
    ({"closes_date": "2020-01-01"}, "la clôture doit être dans 5 minutes au moins"),
    ({"closes_date": "2099-01-01"}, "la clôture doit être dans moins d'un an"),
    ({"closes_date": "demain"}, "Date de clôture : écrivez-la AAAA-MM-JJ et HH:MM"),
    ({"closes_time": "25:00"}, "Date de clôture : écrivez-la AAAA-MM-JJ et HH:MM"),
    ({"audience": "everyone"}, "Qui vote\u00a0: ne fait pas partie des choix proposés"),
    ({"choice": "ranked"}, "Choix\u00a0: ne fait pas partie des choix proposés"),
    ({"question": "Ligne\x07"}, "Question\u00a0: contient un caractère de contrôle"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_FORMS)
async def test_bad_poll_forms_are_refused_and_kept(
    make_node: MakeNode, visitors: list[Visitor], changes: dict[str, str], message: str
) -> None:
    rn = await make_node("lome")
    chef = await invite_and_log_in(rn, "chef", ["coordinator"])
    visitors.append(chef)
    form = good_form(**changes)
    page = await chef.post("/admin/polls", form)
    assert page.status == 400, page.text
    assert message in text_of(page.text), text_of(page.text)
    # What was typed is still in the form.
    if form["question"].isprintable() and form["question"]:
        assert f'value="{form["question"]}"' in page.text.replace("&#39;", "'")
    assert f">{form['options']}</textarea>" in page.text
    assert await rows(rn) == (0, 0, 0)


async def test_bad_votes_change_nothing(make_node: MakeNode, visitors: list[Visitor]) -> None:
    rn = await section(make_node)
    poll = await polls.poll_open(
        rn.node,
        "Un seul choix ?",
        ["Oui", "Non"],
        multiple=False,
        closes_at=datetime.now(UTC) + timedelta(days=1),
        audience="members",
        by=OPERATOR,
    )
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    visitors.append(awa)
    path = f"/me/polls/{poll.uuid}/vote"
    for choices, message in (
        ([], "choisissez une option"),
        (["2"], "cette option n'est pas une de celles du sondage"),
        (["abc"], "cette option n'est pas une de celles du sondage"),
        (["²"], "cette option n'est pas une de celles du sondage"),
        (["0", "1"], "ce sondage n'accepte qu'un seul choix"),
    ):
        token = csrf_of((await awa.get("/me/polls")).text)
        async with awa.http.post(
            rn.url + path,
            data=[("csrf", token), *(("choice", c) for c in choices)],
            headers={"Origin": rn.url},
            allow_redirects=False,
        ) as resp:
            body = await resp.text()
            assert resp.status == 400, (choices, resp.status)
        assert message in text_of(body), (choices, text_of(body))
    unknown = await awa.post(
        "/me/polls/00000000-0000-4000-8000-000000000000/vote",
        {"choice": "0"},
        form_page="/me/polls",
    )
    assert unknown.status == 404
    assert (await awa.get("/me/polls/not-a-uuid/vote")).status in (404, 405)
    assert await rows(rn) == (1, 0, 0)
    # English on asking, for the member too.
    english = await awa.get("/me/polls?lang=en")
    assert "One member, one vote" in english.text


async def test_closing_times_are_entered_and_read_in_the_nodes_time_zone(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    """A node in Marseille (timezone = "Europe/Paris") means 18:00 in Paris: 17:00 UTC in
    winter, kept as UTC, shown back as 18:00 CET on every page and by the CLI."""
    from tests.procs import coopnet

    rn = await make_node("marseille", timezone="Europe/Paris")
    chef = await invite_and_log_in(rn, "chef", ["coordinator"])
    visitors.append(chef)
    page = await chef.get("/admin/polls")
    assert "Europe/Paris" in page.text
    year = datetime.now(UTC).year + 1
    opened = await chef.post(
        "/admin/polls", good_form(closes_date=f"{year}-01-15", closes_time="18:00")
    )
    assert opened.status == 303, opened.text[:500]
    async with rn.node.sessions() as session:
        poll = await session.scalar(select(Poll))
    assert poll is not None
    assert poll.closes_at == datetime(year, 1, 15, 17, 0, tzinfo=UTC)
    page = await chef.get("/admin/polls")
    assert f"{year}-01-15 18:00 CET" in page.text
    # The CLI reads and writes the same zone: 18:00 in July is 16:00 UTC (CEST).
    code, out, err = await coopnet(
        "poll", "open", "--data", str(rn.config.data_dir), "Été ?", "--option", "Oui",
        "--option", "Non", "--closes", f"{year}-07-15T18:00",
    )  # fmt: skip
    assert code == 0, err
    assert f"open until {year}-07-15 18:00 CEST" in out
    async with rn.node.sessions() as session:
        summer = await session.scalar(select(Poll).where(Poll.question == "Été ?"))
    assert summer is not None and summer.closes_at == datetime(year, 7, 15, 16, 0, tzinfo=UTC)
