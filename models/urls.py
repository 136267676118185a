"""Where things live on a node.

Domain code needs URIs when it creates objects (a Note's id is fixed at
creation), and the web layer routes the same paths: both read them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Urls:
    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/"))

    @property
    def host(self) -> str:
        """Host as it appears in acct: URIs: includes the port when the URL has one."""
        return urlsplit(self.base).netloc

    def actor(self, username: str) -> str:
        return f"{self.base}/users/{username}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def object(self, uuid: str) -> str:
        return f"{self.base}/objects/{uuid}"

    def activity(self, uuid: str) -> str:
        return f"{self.base}/activities/{uuid}"

    def poll(self, uuid: str) -> str:
        """A poll's page, and its Question's id (the same address answers both)."""
        return f"{self.base}/polls/{uuid}"

    def poll_uuid(self, uri: str) -> str | None:
        """The poll's uuid if ``uri`` is one of our polls' ids, else None."""
        prefix = f"{self.base}/polls/"
        rest = uri[len(prefix) :] if uri.startswith(prefix) else ""
        return rest if 0 < len(rest) <= 36 and "/" not in rest and "#" not in rest else None

    def is_local(self, uri: str) -> bool:
        return uri == self.base or uri.startswith(self.base + "/")

    def local_username(self, uri: str) -> str | None:
        """The username if ``uri`` is one of our actor ids, else None."""
        prefix = f"{self.base}/users/"
        if not uri.startswith(prefix):
            return None
        rest = uri[len(prefix) :]
        return rest if rest and "/" not in rest and "#" not in rest else None
