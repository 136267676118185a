"""Three real nodes (a seat, two sections) set up their network with ``coopnet peer``.

The commands are the real ``coopnet`` program in a subprocess, against the
data directories of nodes served on loopback: the CLI queues the activity,
the serving node's worker delivers it. Then SEL peering on top of the
alliances: refused before, allowed after, and no new exchange once ended.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.network.alliances import Alliance, AllianceState, alliance_with
from models.sel.exchanges import Exchange, ExchangeError
from node import sel
from tests.allies import follows, state_at, wait_for
from tests.conftest import MakeNode, RunningNode
from tests.procs import coopnet


async def peer(*args: str) -> tuple[int, str, str]:
    return await coopnet("peer", *args)


def data(rn: RunningNode) -> str:
    return str(rn.config.data_dir)


async def reach(a: RunningNode, b: RunningNode, state: AllianceState) -> None:
    async def there() -> bool:
        return await state_at(a, b) == state

    await wait_for(there, f"{b.acct} {state} at {a.acct}")


async def test_a_seat_and_two_sections_ally_from_the_cli(make_node: MakeNode) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    mars = await make_node("marseille")

    code, out, err = await peer("add", "--data", data(lome), seat.acct, "--note", "Bonjour")
    assert code == 0, err
    assert out.startswith("requested: " + seat.acct), out
    code, out, err = await peer("add", "--data", data(mars), seat.acct)
    assert code == 0, err
    await reach(seat, lome, AllianceState.PENDING)
    await reach(seat, mars, AllianceState.PENDING)
    code, out, err = await peer("list", "--data", data(seat))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.startswith("pending   section") for line in lines), out
    assert "asked by them  (Bonjour)" in out

    code, out, err = await peer("approve", "--data", data(seat), lome.acct)
    assert code == 0, err
    assert out.startswith(f"accepted: {lome.acct} (section)"), out
    code, out, err = await peer("reject", "--data", data(seat), mars.acct, "--note", "Pas encore")
    assert code == 0, err
    await reach(lome, seat, AllianceState.ACCEPTED)
    await reach(mars, seat, AllianceState.REJECTED)
    await wait_for(lambda: follows(lome, seat), "lome following the seat")  # type: ignore[arg-type]

    # Refusals say what to do, exit 1, change nothing.
    for args, words in (
        (("approve", "--data", data(seat), mars.acct), "no request waiting"),
        (("approve", "--data", data(seat), "nobody@nowhere.example"), "coopnet peer list"),
        (("add", "--data", data(lome), seat.acct), "already an ally"),
        (("add", "--data", data(lome), lome.acct), "cannot ally with itself"),
        (("add", "--data", data(lome), "not a handle"), "neither name@host"),
        (("remove", "--data", data(seat), mars.acct), "not an ally"),
        (("reject", "--data", data(lome), seat.acct), "peer remove"),
    ):
        code, out, err = await peer(*args)
        assert code == 1, (args, out, err)
        assert err.startswith("coopnet peer: error: ") and words in err, (args, err)
        assert out == "", (args, out)

    # Marseille asks again after the refusal, and the seat approves.
    code, out, err = await peer("add", "--data", data(mars), seat.acct)
    assert code == 0, err
    await reach(seat, mars, AllianceState.PENDING)
    assert (await peer("approve", "--data", data(seat), mars.actor_id))[0] == 0
    await reach(mars, seat, AllianceState.ACCEPTED)
    code, out, err = await peer("list", "--data", data(seat))
    assert [line.split()[:2] for line in out.splitlines()] == [["accepted", "section"]] * 2, out

    # The two sections ally with each other; SEL peering builds on it.
    code, out, err = await coopnet(
        "sel", "peer", "--data", data(lome), "--max-deficit", "5", "--max-surplus", "5", mars.acct
    )
    assert code == 1 and f"coopnet peer add {mars.acct}" in err, err
    assert (await peer("add", "--data", data(lome), mars.acct))[0] == 0
    await reach(mars, lome, AllianceState.PENDING)
    assert (await peer("approve", "--data", data(mars), lome.acct))[0] == 0
    await reach(lome, mars, AllianceState.ACCEPTED)
    for a, b in ((lome, mars), (mars, lome)):
        await sel.peer_add(a.node, b.acct, "5", "5", by=OPERATOR)
    await sel.account_open(lome.node, "ama", "Ama", None, None, by=OPERATOR)
    await sel.account_open(mars.node, "bob", "Bob", None, None, by=OPERATOR)
    host = mars.url.split("://", 1)[1]

    # Lomé ends it: no new exchange either way; the clearing account stays.
    code, out, err = await peer("remove", "--data", data(lome), mars.acct, "--note", "fin")
    assert code == 0 and out.startswith(f"ended: the alliance with {mars.acct}"), (out, err)
    await reach(mars, lome, AllianceState.ENDED)
    with pytest.raises(ExchangeError, match="no longer an ally"):
        await sel.exchange(lome.node, "ama", f"bob@{host}", "1", "aide", by=OPERATOR)
    # A section that has not heard of the end yet (its row put back by hand) asks:
    # the other side refuses, as it would a node that never peered.
    async with lome.node.write() as session:
        row = await alliance_with(session, mars.actor_id)
        assert row is not None
        row.state = AllianceState.ACCEPTED
    ex, _ = await sel.exchange(lome.node, "ama", f"bob@{host}", "1", "aide", by=OPERATOR)

    async def refused() -> bool:
        async with lome.node.sessions() as session:
            state = await session.scalar(select(Exchange.state).where(Exchange.uuid == ex.uuid))
        return state == "rejected"

    await wait_for(refused, "the exchange refused by the former ally")
    assert await mars.count(Alliance, Alliance.state == AllianceState.ENDED) == 1
    assert (await sel.accounts(lome.node, by=OPERATOR))[0].kind == "clearing"
