"""The agent's MQTT topics (docs/contract.md, "MQTT topics"), under fiscal/v1/{club}/{agent}/."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from agent.outbox.sync_queue import SyncTopic

__all__ = ["CommandTopic", "Topics"]


class CommandTopic(Enum):
    """What the agent subscribes to."""

    RECEIPT = "receipt"
    SHIFT = "shift"
    CASH = "cash"


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names of one agent."""

    club: str
    agent: str

    @property
    def prefix(self) -> str:
        """``fiscal/v1/{club}/{agent}/``."""
        return f"fiscal/v1/{self.club}/{self.agent}/"

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """``cmd/receipt``, ``cmd/shift`` and ``cmd/cash`` of this club and agent."""
        return tuple(self.command(kind) for kind in CommandTopic)

    @property
    def health(self) -> str:
        """The retained health topic (and the last will's)."""
        return f"{self.prefix}health"

    def command(self, kind: CommandTopic) -> str:
        """``.../cmd/<kind>``."""
        return f"{self.prefix}cmd/{kind.value}"

    def event(self, topic: SyncTopic) -> str:
        """``.../evt/<topic>`` for a sync-queue entry."""
        return f"{self.prefix}evt/{topic.value}"

    def command_of(self, topic: str) -> CommandTopic | None:
        """The command a received topic carries, or None for a topic the agent does not serve."""
        if not topic.startswith(self.prefix + "cmd/"):
            return None
        name = topic[len(self.prefix) + len("cmd/") :]
        try:
            return CommandTopic(name)
        except ValueError:
            return None
