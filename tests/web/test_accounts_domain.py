"""Accounts, invitations, sessions and throttling, on the backend under test.

These drive node/users.py and models/accounts.py directly; the pages that
use them are tested over HTTP in test_auth_pages.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    OPERATOR,
    AccountError,
    LoginRefused,
    Principal,
    User,
    WebSession,
    session_for,
)
from models.base import clock as clock_set
from models.errors import Forbidden
from models.mediators import Profile
from node import sel, users
from node.content import mediator_add
from tests.clock import FakeClock
from tests.conftest import MakeNode, RunningNode

PASSWORD = "correct horse battery"


async def member_node(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome", run_workers=False)
    await sel.account_open(rn.node, "awa", "Awa", None, None, by=OPERATOR)
    await sel.account_open(rn.node, "bob", "Bob", None, None, by=OPERATOR)
    await mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    return rn


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


async def test_an_invited_person_sets_a_password_once_and_is_logged_in(
    make_node: MakeNode,
) -> None:
    rn = await member_node(make_node)
    invited = await users.user_add(rn.node, OPERATOR, "Awa", ["member:awa", "mediator:ama"])
    assert invited.user.name == "awa"
    assert invited.link.startswith(f"{rn.url}/invitation/")
    token = token_of(invited.link)
    cookie, who = await users.set_password(rn.node, token, PASSWORD)
    assert who.name == "awa" and not who.coordinator
    assert len(who.accounts) == 1 and len(who.mediators) == 1
    async with rn.node.sessions() as session:
        assert await session_for(session, cookie) is not None
        stored = (await session.execute(select(User))).scalar_one()
        # Neither the password nor the link's token is stored as given.
        assert stored.password_hash and PASSWORD not in stored.password_hash
        assert stored.password_hash.startswith("$argon2id$")
        tokens = (await session.execute(select(WebSession.token_hash))).scalars().all()
        assert cookie not in tokens
    with pytest.raises(AccountError, match="not valid any more"):
        await users.set_password(rn.node, token, "another password 123")
    _, again = await users.log_in(rn.node, "awa", PASSWORD, "127.0.0.1")
    assert again.user_id == who.user_id


async def test_a_link_used_by_two_requests_at_once_sets_one_password(make_node: MakeNode) -> None:
    rn = await member_node(make_node)
    token = token_of((await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).link)
    results = await asyncio.gather(
        users.set_password(rn.node, token, "first password 1"),
        users.set_password(rn.node, token, "second password 2"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, tuple) for r in results) == 1
    assert sum(isinstance(r, AccountError) for r in results) == 1


async def test_links_expire_after_seven_days_and_a_reset_replaces_them(
    make_node: MakeNode,
) -> None:
    rn = await member_node(make_node)
    first = token_of((await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).link)
    second = token_of((await users.user_reset(rn.node, OPERATOR, "awa")).link)
    with pytest.raises(AccountError, match="not valid any more"):
        await users.invitation_for(rn.node, first)  # replaced by the reset
    clock = FakeClock()
    with clock_set(clock):
        clock.advance(timedelta(days=7, seconds=1))
        with pytest.raises(AccountError, match="older than 7 days"):
            await users.set_password(rn.node, second, PASSWORD)


async def test_weak_or_huge_passwords_are_refused_and_nothing_changes(
    make_node: MakeNode,
) -> None:
    rn = await member_node(make_node)
    token = token_of((await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).link)
    for bad in ("short", "x" * 1025):
        with pytest.raises(AccountError, match="password must have"):
            await users.set_password(rn.node, token, bad)
    await users.set_password(rn.node, token, PASSWORD)  # the link still works


async def test_wrong_passwords_are_throttled_per_account_and_say_nothing_more(
    make_node: MakeNode,
) -> None:
    rn = await member_node(make_node)
    token = token_of((await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).link)
    await users.set_password(rn.node, token, PASSWORD)
    with pytest.raises(LoginRefused) as unknown:
        await users.log_in(rn.node, "nobody", PASSWORD, "10.0.0.9")
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(LoginRefused) as wrong:
            await users.log_in(rn.node, "awa", "wrong password!", "10.0.0.1")
    # The same words whether the account exists or not.
    assert str(unknown.value) == str(wrong.value) == "wrong account name or password"
    # Now even the right password is refused, from any address, for a while.
    with pytest.raises(LoginRefused, match="too many failed attempts"):
        await users.log_in(rn.node, "awa", PASSWORD, "10.0.0.2")
    clock = FakeClock()
    with clock_set(clock):
        clock.advance(timedelta(minutes=16))
        await users.log_in(rn.node, "awa", PASSWORD, "10.0.0.2")


async def test_disabling_and_logging_out_everywhere_end_sessions(make_node: MakeNode) -> None:
    rn = await member_node(make_node)
    token = token_of((await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).link)
    cookie, awa = await users.set_password(rn.node, token, PASSWORD)
    other, _ = await users.log_in(rn.node, "awa", PASSWORD, "127.0.0.1")
    assert await users.user_logout_everywhere(rn.node, awa, "awa") == 2
    async with rn.node.sessions() as session:
        assert await session_for(session, cookie) is None
        assert await session_for(session, other) is None
    cookie, _ = await users.log_in(rn.node, "awa", PASSWORD, "127.0.0.1")
    await users.user_disable(rn.node, OPERATOR, "awa")
    async with rn.node.sessions() as session:
        assert await session_for(session, cookie) is None
    with pytest.raises(LoginRefused):
        await users.log_in(rn.node, "awa", PASSWORD, "127.0.0.1")
    await users.user_disable(rn.node, OPERATOR, "awa", disabled=False)
    await users.log_in(rn.node, "awa", PASSWORD, "127.0.0.1")


async def test_only_a_coordinator_manages_accounts(make_node: MakeNode) -> None:
    rn = await member_node(make_node)
    token = token_of((await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).link)
    _, awa = await users.set_password(rn.node, token, PASSWORD)
    token = token_of((await users.user_add(rn.node, OPERATOR, "chef", ["coordinator"])).link)
    _, chef = await users.set_password(rn.node, token, PASSWORD)
    for action in (
        users.user_add(rn.node, awa, "eve", ["coordinator"]),
        users.user_reset(rn.node, awa, "chef"),
        users.user_disable(rn.node, awa, "chef"),
        users.user_list(rn.node, awa),
        users.user_logout_everywhere(rn.node, awa, "chef"),
    ):
        with pytest.raises(Forbidden):
            await action
    assert [u.name for u in await users.user_list(rn.node, chef)] == ["awa", "chef"]
    with pytest.raises(AccountError, match="your own account"):
        await users.user_disable(rn.node, chef, "chef")
    await users.user_disable(rn.node, chef, "awa")


def test_a_principal_acts_only_for_what_it_holds() -> None:
    member = Principal(name="awa", user_id=1, accounts=frozenset({7}))
    member.require_account(7)
    with pytest.raises(Forbidden):
        member.require_account(8)
    with pytest.raises(Forbidden):
        member.require_mediator(3)
    with pytest.raises(Forbidden):
        member.require_coordinator()
    coordinator = Principal(name="chef", user_id=2, coordinator=True)
    coordinator.require_mediator(3)  # a coordinator may act for any mediator
    with pytest.raises(Forbidden):
        coordinator.require_account(7)  # ...but does not spend members' hours
    OPERATOR.require_account(7)


async def test_a_coordinator_changes_an_accounts_roles_and_its_sessions_end(
    make_node: MakeNode,
) -> None:
    rn = await member_node(make_node)
    token = token_of((await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).link)
    cookie, awa = await users.set_password(rn.node, token, PASSWORD)
    chef_token = token_of((await users.user_add(rn.node, OPERATOR, "chef", ["coordinator"])).link)
    _, chef = await users.set_password(rn.node, chef_token, PASSWORD)
    with pytest.raises(Forbidden):
        await users.user_set_roles(rn.node, awa, "awa", ["coordinator"])
    for bad, words in (([], "at least one role"), (["mediator:nobody"], "no mediator")):
        with pytest.raises(AccountError, match=words):
            await users.user_set_roles(rn.node, chef, "awa", bad)
    with pytest.raises(AccountError, match="your own account"):
        await users.user_set_roles(rn.node, chef, "chef", ["member:bob"])
    async with rn.node.sessions() as session:
        assert await session_for(session, cookie) is not None  # refusals changed nothing
    user = await users.user_set_roles(
        rn.node, chef, "awa", ["mediator:ama", "member:awa", "member:awa"]
    )
    assert sorted(await users.describe_grants(rn.node, user)) == ["mediator:ama", "member:awa"]
    async with rn.node.sessions() as session:
        assert await session_for(session, cookie) is None
    _, again = await users.log_in(rn.node, "awa", PASSWORD, "127.0.0.1")
    assert again.mediators and again.accounts and not again.coordinator
