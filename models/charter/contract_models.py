"""The section's two contract documents, written by a coordinator: the
hosting-contract model and the general hosting conditions.

Both are Markdown with placeholders (``{client}``, ``{price}``…) filled in
for each contract. Every save is a new immutable version (number, text,
author, time): a contract records the versions it was made on, so editing a
model later changes nothing in a contract already made or signed.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.errors import NotFound, UserError

#: What a model may hold, and what each becomes (see contracts.values_of).
PLACEHOLDERS = ("client", "mediator", "service", "price", "duration", "start", "end", "share")
#: Per document: both, rendered, fit in the client's page (under 50 KB).
MAX_MODEL = 16_000
_PLACEHOLDER = re.compile(r"\{([^{}\s]{0,40})\}")
#: Characters with a meaning in Markdown, escaped in a value so a client's
#: name cannot add a link, a heading or emphasis to the contract.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!<>|~-])")


class ModelKind(StrEnum):
    CONTRACT = "contract"
    CONDITIONS = "conditions"


class ContractModelError(UserError):
    pass


class ModelVersion(Base):
    """One saved text of one of the two documents; never changed once written."""

    __tablename__ = "contract_model_versions"
    __table_args__ = (UniqueConstraint("kind", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: 1, 2, 3… per kind.
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    #: The account (or 'operator') that saved it.
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def check_kind(kind: str) -> ModelKind:
    try:
        return ModelKind(kind)
    except ValueError:
        raise ContractModelError(
            f"unknown document {kind!r}: use 'contract' (the hosting-contract model) or "
            "'conditions' (the general hosting conditions)"
        ) from None


def check_text(text: str) -> str:
    """The text as it will be stored, or a refusal naming the unknown placeholders."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ContractModelError("the document is empty: write its text in Markdown")
    if len(text) > MAX_MODEL:
        raise ContractModelError(f"the document is over {MAX_MODEL} characters")
    unknown = sorted({m for m in _PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})
    if unknown:
        listed = ", ".join("{" + p + "}" for p in unknown)
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise ContractModelError(f"unknown placeholder(s) {listed}: the known ones are {known}")
    return text


def escape_value(value: str) -> str:
    """A value as Markdown text that shows exactly as typed (one line)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def fill(text: str, values: dict[str, str]) -> str:
    """The model with every placeholder replaced by its (escaped) value."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return escape_value(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(one, text)


async def save_version(session: AsyncSession, kind: str, text: str, author: str) -> ModelVersion:
    """A new version of one document (the earlier ones stay as they were)."""
    checked_kind = check_kind(kind)
    checked = check_text(text)
    latest = await latest_version(session, checked_kind)
    if latest is not None and latest.text == checked:
        return latest  # the same text saved again is no new version
    row = ModelVersion(
        kind=checked_kind,
        number=(latest.number + 1) if latest else 1,
        text=checked,
        author=author[:64],
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def latest_version(session: AsyncSession, kind: str) -> ModelVersion | None:
    row: ModelVersion | None = await session.scalar(
        select(ModelVersion)
        .where(ModelVersion.kind == kind)
        .order_by(ModelVersion.number.desc())
        .limit(1)
    )
    return row


async def current_versions(session: AsyncSession) -> tuple[ModelVersion, ModelVersion]:
    """The newest contract model and conditions, or a refusal saying who must write them."""
    contract = await latest_version(session, ModelKind.CONTRACT)
    conditions = await latest_version(session, ModelKind.CONDITIONS)
    if contract is None:
        raise ContractModelError(
            "the hosting-contract model has not been written yet: a coordinator writes it "
            "first (Contracts > the contract model, or 'coopnet contract model set')"
        )
    if conditions is None:
        raise ContractModelError(
            "the general conditions have not been written yet: a coordinator writes them "
            "first (Contracts > the contract model, or 'coopnet contract model set')"
        )
    return contract, conditions


async def versions(session: AsyncSession, kind: str) -> list[ModelVersion]:
    return list(
        (
            await session.scalars(
                select(ModelVersion)
                .where(ModelVersion.kind == check_kind(kind))
                .order_by(ModelVersion.number.desc())
            )
        ).all()
    )


async def get_version(session: AsyncSession, version_id: int) -> ModelVersion:
    row = await session.get(ModelVersion, version_id)
    if row is None:
        raise NotFound("no such version of the contract documents")
    return row
