"""Actions on accounts: what the CLI (as the operator) and a coordinator's pages call.

Each takes the acting ``Principal`` first and checks it before anything
is read or written; a refusal is a ``UserError`` with a message to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models.accounts import (
    AccountError,
    Grant,
    Principal,
    Role,
    User,
    accept_invitation,
    authenticate,
    check_email,
    create_user,
    invitation_user,
    list_users,
    new_invitation,
    open_session,
    principal_of,
    revoke_sessions,
    set_disabled,
    user_by_name,
)
from models.actors import LocalActor
from models.sel.accounts import Account, AccountKind
from node import mail
from node.context import Node

ROLE_HELP = (
    "coordinator, mediator:USERNAME (a mediator of this node) or member:CODE (a member's "
    "SEL account)"
)


@dataclass(frozen=True)
class Invited:
    """A one-time link made for ``user``, and what became of mailing it (if the
    node has a mail server and the account an address)."""

    user: User
    link: str
    #: The address the link was mailed to; None when it was not mailed.
    mailed_to: str | None = None
    #: Why mailing failed (the link stands all the same: give it by hand).
    mail_error: str | None = None


async def _deliver_link(node: Node, user: User, link: str) -> Invited:
    """Mail the link when the node can; a failure leaves the link valid and says why."""
    if not user.email or not mail.configured(node.config):
        return Invited(user, link)
    message = mail.password_link_message(
        node.config, user.email, user.display_name or user.name, link, user.language
    )
    try:
        await mail.send(node.config, message)
    except mail.MailFailed as exc:
        return Invited(user, link, mail_error=str(exc))
    return Invited(user, link, mailed_to=user.email)


def invitation_link(node: Node, token: str) -> str:
    return f"{node.urls.base}/invitation/{token}"


async def _grants(session: object, roles: list[str]) -> list[tuple[Role, int | None, int | None]]:
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    out: list[tuple[Role, int | None, int | None]] = []
    for spec in roles:
        kind, _, target = spec.partition(":")
        if kind == Role.COORDINATOR and not target:
            out.append((Role.COORDINATOR, None, None))
        elif kind == Role.MEDIATOR and target:
            actor = await session.scalar(select(LocalActor).where(LocalActor.username == target))
            if actor is None or actor.is_node or actor.deleted_at is not None:
                raise AccountError(
                    f"no mediator {target!r} on this node ('coopnet mediator list' shows them)"
                )
            out.append((Role.MEDIATOR, actor.id, None))
        elif kind == Role.MEMBER and target:
            account = await session.scalar(
                select(Account).where(Account.code == target, Account.kind == AccountKind.MEMBER)
            )
            if account is None:
                raise AccountError(
                    f"no SEL member account {target!r} ('coopnet sel balances' shows them; "
                    "'coopnet sel account' opens one)"
                )
            out.append((Role.MEMBER, None, account.id))
        else:
            raise AccountError(f"unknown role {spec!r}: use {ROLE_HELP}")
    return out


async def user_add(
    node: Node,
    by: Principal,
    name: str,
    roles: list[str],
    display_name: str = "",
    email: str = "",
) -> Invited:
    by.require_coordinator()
    async with node.write() as session:
        grants = await _grants(session, roles)
        user = await create_user(session, name, grants, display_name, email)
        token = await new_invitation(session, user)
    return await _deliver_link(node, user, invitation_link(node, token))


async def user_set_email(node: Node, by: Principal, name: str, email: str) -> User:
    """One's own address, or anyone's for a coordinator; an empty one removes it."""
    address = check_email(email)
    async with node.write() as session:
        user = await user_by_name(session, name)
        if by.user_id != user.id:
            by.require_coordinator()
        user.email = address
    return user


async def user_set_roles(node: Node, by: Principal, name: str, roles: list[str]) -> User:
    """Replace an account's roles; its sessions end, so the new rights apply at once."""
    by.require_coordinator()
    if not roles:
        raise AccountError("give the account at least one role (or disable it)")
    async with node.write() as session:
        user = await user_by_name(session, name)
        grants = await _grants(session, roles)
        if by.user_id == user.id and not any(role == Role.COORDINATOR for role, _, _ in grants):
            raise AccountError("you cannot take the coordinator role from your own account")
        user.grants.clear()
        await session.flush()
        for role, actor_id, account_id in dict.fromkeys(grants):
            user.grants.append(Grant(role=role, actor_id=actor_id, sel_account_id=account_id))
        await revoke_sessions(session, user)
    return user


async def user_reset(node: Node, by: Principal, name: str) -> Invited:
    """A new one-time link to choose a password; the old password keeps working until then."""
    by.require_coordinator()
    async with node.write() as session:
        user = await user_by_name(session, name)
        token = await new_invitation(session, user)
    return await _deliver_link(node, user, invitation_link(node, token))


async def user_disable(node: Node, by: Principal, name: str, disabled: bool = True) -> User:
    by.require_coordinator()
    async with node.write() as session:
        user = await user_by_name(session, name)
        if disabled and by.user_id == user.id:
            raise AccountError("you cannot disable your own account")
        await set_disabled(session, user, disabled)
    return user


async def user_logout_everywhere(node: Node, by: Principal, name: str) -> int:
    """End every session of an account: one's own, or anyone's for a coordinator."""
    async with node.write() as session:
        user = await user_by_name(session, name)
        if by.user_id != user.id:
            by.require_coordinator()
        return await revoke_sessions(session, user)


async def set_language(node: Node, by: Principal, language: str) -> None:
    """One's own interface language: 'fr', 'en', or '' to follow the browser."""
    from node.i18n import LANGUAGES

    if language and language not in LANGUAGES:
        raise AccountError(f"unknown language {language[:8]!r}: choose one of {LANGUAGES}")
    if by.user_id is None:
        raise AccountError("only a person with an account has a language setting")
    async with node.write() as session:
        user = await session.get(User, by.user_id)
        if user is None:
            raise AccountError("this account does not exist any more")
        user.language = language or None


async def user_list(node: Node, by: Principal) -> list[User]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await list_users(session)


async def user_get(node: Node, by: Principal, name: str) -> User:
    by.require_coordinator()
    async with node.sessions() as session:
        return await user_by_name(session, name)


@dataclass(frozen=True)
class RoleChoices:
    """What a new account may be given, as (value, label) pairs for select lists."""

    mediators: list[tuple[str, str]]
    members: list[tuple[str, str]]


async def role_choices(node: Node, by: Principal) -> RoleChoices:
    """The section's active mediators and open SEL member accounts."""
    from models.sel.accounts import AccountStatus

    by.require_coordinator()
    async with node.sessions() as session:
        mediators = await session.execute(
            select(LocalActor.username, LocalActor.name)
            .where(LocalActor.type == "Person", LocalActor.deleted_at.is_(None))
            .order_by(LocalActor.username)
        )
        members = await session.execute(
            select(Account.code, Account.name)
            .where(Account.kind == AccountKind.MEMBER, Account.status != AccountStatus.CLOSED)
            .order_by(Account.code)
        )
        return RoleChoices(
            [(u, n or u) for u, n in mediators.tuples()],
            [(c, n or c) for c, n in members.tuples()],
        )


async def describe_grants(node: Node, user: User) -> list[str]:
    """'coordinator', 'mediator:ama', 'member:bob': the roles as ``--role`` takes them."""
    out = []
    async with node.sessions() as session:
        for g in user.grants:
            if g.role == Role.MEDIATOR and g.actor_id is not None:
                actor = await session.get(LocalActor, g.actor_id)
                out.append(f"mediator:{actor.username if actor else '?'}")
            elif g.role == Role.MEMBER and g.sel_account_id is not None:
                account = await session.get(Account, g.sel_account_id)
                out.append(f"member:{account.code if account else '?'}")
            else:
                out.append(g.role)
    return out


async def invitation_for(node: Node, token: str) -> User:
    async with node.sessions() as session:
        return await invitation_user(session, token)


async def set_password(node: Node, token: str, password: str) -> tuple[str, Principal]:
    """Choose the password through a link; returns a new session's token (logged in)."""
    async with node.write(urgent=True) as session:
        user = await accept_invitation(session, token, password)
        cookie, _ = await open_session(session, user)
        return cookie, principal_of(user)


async def log_in(node: Node, name: str, password: str, address: str) -> tuple[str, Principal]:
    """A new session for the right password. A refusal still records the failed
    attempt, so it is committed before the error goes up."""
    from models.accounts import LoginRefused

    refused: LoginRefused | None = None
    cookie = ""
    principal: Principal | None = None
    async with node.write(urgent=True) as session:
        try:
            user = await authenticate(session, name, password, address)
        except LoginRefused as exc:
            refused = exc
        else:
            cookie, _ = await open_session(session, user)
            principal = principal_of(user)
    if refused is not None:
        raise refused
    assert principal is not None
    return cookie, principal
