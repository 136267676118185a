"""People who use a node from the browser: accounts, roles, invitations, sessions.

Nobody signs up: a coordinator (or the operator at the command line)
creates an account with its roles and hands the person a one-time link;
the person chooses a password there. A forgotten password is a new link
made the same way, so the node needs no mail server.

Secrets are never stored as given: passwords as argon2id hashes, link and
session tokens as SHA-256 digests (a copy of the database opens no
session and no invitation). Every failed login is recorded, and both the
account and the address are throttled from those records, so the limit
holds across processes and restarts.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow
from models.errors import Forbidden, NotFound, UserError

INVITATION_LIFETIME = timedelta(days=7)
#: A session ends after this long without use, and in any case after MAX_SESSION.
SESSION_IDLE = timedelta(days=14)
MAX_SESSION = timedelta(days=90)
#: Failed logins counted over this window.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 10
MAX_PASSWORD = 1024

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")

_hasher = PasswordHasher()


class Role(StrEnum):
    COORDINATOR = "coordinator"
    MEDIATOR = "mediator"
    MEMBER = "member"


class AccountError(UserError):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The login, lower case: letters, digits, '.', '_', '-'.
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    #: argon2id; None until the invited person chooses a password.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    #: 'fr' or 'en'; None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8))
    #: Where password links are mailed when the node has a mail server; optional.
    email: Mapped[str | None] = mapped_column(String(254))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grants: Mapped[list[Grant]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", back_populates="user"
    )


class Grant(Base):
    """One role of one person; a mediator's and a member's name what they act for."""

    __tablename__ = "user_grants"
    __table_args__ = (UniqueConstraint("user_id", "role", "actor_id", "sel_account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    #: For a mediator: the mediator's actor.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("local_actors.id"))
    #: For a member: the member's SEL account.
    sel_account_id: Mapped[int | None] = mapped_column(ForeignKey("sel_accounts.id"))

    user: Mapped[User] = relationship(back_populates="grants")


class Invitation(Base):
    """A one-time link to choose a password (a first one, or after a reset)."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Sent in every form of this session and compared on every POST.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_name_at", "name", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Principal:
    """Who is acting, and what they may act for.

    The command line acts as ``OPERATOR`` (whoever runs it on the server
    already holds everything); the web acts as the logged-in person.
    """

    name: str
    user_id: int | None = None
    coordinator: bool = False
    #: Local actor ids of the mediators this person speaks for.
    mediators: frozenset[int] = field(default_factory=frozenset)
    #: SEL account ids this person holds.
    accounts: frozenset[int] = field(default_factory=frozenset)
    operator: bool = False

    @property
    def roles(self) -> frozenset[Role]:
        out = set()
        if self.coordinator:
            out.add(Role.COORDINATOR)
        if self.mediators:
            out.add(Role.MEDIATOR)
        if self.accounts:
            out.add(Role.MEMBER)
        return frozenset(out)

    def require_coordinator(self) -> None:
        if not self.coordinator:
            raise Forbidden("only a coordinator of this section may do this")

    def require_mediator(self, actor_id: int) -> None:
        """A coordinator may act for any mediator of the section."""
        if not self.coordinator and actor_id not in self.mediators:
            raise Forbidden("you may act only for your own mediator profile")

    def require_account(self, account_id: int) -> None:
        """Members act on their own account only (coordinators administer, not spend)."""
        if not self.operator and account_id not in self.accounts:
            raise Forbidden("you may act only on your own SEL account")


OPERATOR = Principal(name="operator", coordinator=True, operator=True)


def principal_of(user: User) -> Principal:
    grants = user.grants
    return Principal(
        name=user.name,
        user_id=user.id,
        coordinator=any(g.role == Role.COORDINATOR for g in grants),
        mediators=frozenset(
            g.actor_id for g in grants if g.role == Role.MEDIATOR and g.actor_id is not None
        ),
        accounts=frozenset(
            g.sel_account_id
            for g in grants
            if g.role == Role.MEMBER and g.sel_account_id is not None
        ),
    )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise AccountError(
            f"invalid account name {name!r}: use 1 to 64 lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return name


#: One address, as people type it: something@domain.tld, no spaces, no angle
#: brackets or commas (nothing that could add a second recipient or a header).
EMAIL_RE = re.compile(
    r"[^@\s<>,;:\\\"()\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?"
)


def check_email(email: str) -> str | None:
    """The address as stored (None for an empty one), or a refusal that says why."""
    email = email.strip()
    if not email:
        return None
    if len(email) > 254 or not EMAIL_RE.fullmatch(email) or "." not in email.split("@")[1]:
        raise AccountError("this is not an e-mail address: write it as name@example.org")
    if any(ord(c) < 32 or ord(c) == 127 for c in email):
        raise AccountError("an e-mail address cannot hold control characters")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")
    return password


async def user_by_name(session: AsyncSession, name: str) -> User:
    user = await session.scalar(select(User).where(User.name == name.lower()))
    if user is None:
        raise NotFound(f"no account named {name!r} ('coopnet user list' shows them)")
    return user


async def create_user(
    session: AsyncSession,
    name: str,
    grants: list[tuple[Role, int | None, int | None]],
    display_name: str = "",
    email: str = "",
) -> User:
    """A new account with its roles; the caller then makes its invitation."""
    name = check_name(name.lower())
    address = check_email(email)
    if not grants:
        raise AccountError("give the account at least one role")
    if await session.scalar(select(User.id).where(User.name == name)) is not None:
        raise AccountError(f"an account named {name!r} already exists")
    user = User(name=name, display_name=display_name.strip()[:200], email=address, grants=[])
    for role, actor_id, account_id in grants:
        user.grants.append(Grant(role=role, actor_id=actor_id, sel_account_id=account_id))
    session.add(user)
    await session.flush()
    return user


async def new_invitation(session: AsyncSession, user: User) -> str:
    """A fresh one-time token for ``user``; earlier unused links stop working."""
    now = utcnow()
    await session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        Invitation(
            user_id=user.id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    await session.flush()
    return token


async def invitation_user(session: AsyncSession, token: str) -> User:
    """The account a still-valid link is for (the link is not used up by looking)."""
    row = await session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise AccountError(
            "this link is not valid any more (used, replaced or older than 7 days): "
            "ask your coordinator for a new one"
        )
    user = await session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        raise AccountError("this account is disabled: ask your coordinator")
    return user


async def accept_invitation(session: AsyncSession, token: str, password: str) -> User:
    """Set the password through a link, once; every earlier session ends."""
    check_password(password)
    user = await invitation_user(session, token)
    now = utcnow()
    # Used up in the same statement that checks it: two submissions of one
    # link cannot both succeed, even from two processes.
    used = await session.execute(
        update(Invitation)
        .where(Invitation.token_hash == digest(token), Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise AccountError("this link has just been used: log in, or ask for a new one")
    user.password_hash = _hasher.hash(password)
    await revoke_sessions(session, user)
    return user


async def login_blocked(session: AsyncSession, name: str, address: str) -> bool:
    since = utcnow() - THROTTLE_WINDOW
    by_name = await session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.name == name.lower()[:64], LoginFailure.at > since)
    )
    by_address = await session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.address == address[:64], LoginFailure.at > since)
    )
    return (by_name or 0) >= MAX_FAILURES_PER_ACCOUNT or (
        by_address or 0
    ) >= MAX_FAILURES_PER_ADDRESS


class LoginRefused(UserError):
    pass


async def authenticate(session: AsyncSession, name: str, password: str, address: str) -> User:
    """The account, if the password is right and neither it nor the address is throttled.

    Every refusal says the same thing whether the account exists or not,
    and a missing account costs a hash too, so neither the message nor the
    time tells who has an account.
    """
    name = name.strip().lower()[:64]
    if await login_blocked(session, name, address):
        raise LoginRefused(
            "too many failed attempts: wait 15 minutes, or ask your coordinator for a new link"
        )
    user = await session.scalar(select(User).where(User.name == name))
    ok = False
    if user is not None and user.password_hash and user.disabled_at is None:
        try:
            ok = _hasher.verify(user.password_hash, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password[:MAX_PASSWORD])  # as long as a real check
    if not ok or user is None:
        session.add(LoginFailure(name=name, address=address[:64], at=utcnow()))
        raise LoginRefused("wrong account name or password")
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    return user


async def open_session(session: AsyncSession, user: User) -> tuple[str, WebSession]:
    """A new session (a new token at every login: no fixation)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        user_id=user.id,
        token_hash=digest(token),
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    await session.flush()
    return token, row


async def session_for(session: AsyncSession, token: str) -> WebSession | None:
    """The live session of a cookie, or None (unknown, revoked, idle or too old)."""
    row = await session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or row.user.disabled_at is not None
        or row.last_seen_at + SESSION_IDLE <= now
        or row.created_at + MAX_SESSION <= now
    ):
        return None
    return row


async def revoke_sessions(session: AsyncSession, user: User) -> int:
    result = await session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def set_disabled(session: AsyncSession, user: User, disabled: bool) -> None:
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        await revoke_sessions(session, user)


async def list_users(session: AsyncSession) -> list[User]:
    return list((await session.scalars(select(User).order_by(User.name))).all())


__all__ = [
    "OPERATOR",
    "AccountError",
    "Forbidden",
    "Grant",
    "Invitation",
    "LoginFailure",
    "LoginRefused",
    "Principal",
    "Role",
    "User",
    "WebSession",
]
