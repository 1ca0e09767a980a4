"""Storing an agent's health or last will by (boot, seq), and its state changes.

The agent's row is read ``FOR UPDATE`` on PostgreSQL (SQLite's BEGIN IMMEDIATE already holds
the write lock), so two cloud instances storing healths of one agent at once keep the newer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agent.contract import Health
from cloud.store.health_order import OrderKey, incoming_key, is_newer
from cloud.store.schema import agents, health_history
from cloud.store.writes import upsert

__all__ = ["write_health"]


def _key_of(boot: int | None, seq: int | None, will: bool) -> OrderKey:
    return OrderKey(boot=boot, seq=seq if seq is not None else -1, will=will)


async def write_health(
    conn: AsyncConnection, club: str, agent: str, health: Health, seen_at: datetime
) -> bool:
    """Store ``health`` if it is newer than the stored one; True when it was stored."""
    where = and_(agents.c.club == club, agents.c.agent == agent)
    query = select(agents.c.state, agents.c.boot, agents.c.seq, agents.c.will).where(where)
    stored_row = (await conn.execute(query.with_for_update())).first()
    if stored_row is None:
        # Claim the row; another instance that got there first leaves it to the comparison.
        placeholder = {
            "club": club,
            "agent": agent,
            "health": "{}",
            "state": "",
            "boot": None,
            "seq": None,
            "will": False,
            "seen_at": seen_at,
        }
        stmt = upsert(conn, agents).on_conflict_do_nothing(index_elements=["club", "agent"])
        await conn.execute(stmt, placeholder)
        stored_row = (await conn.execute(query.with_for_update())).one()
    fresh = stored_row.state == ""
    stored = None if fresh else _key_of(stored_row.boot, stored_row.seq, stored_row.will)
    is_will = health.seq is None and health.state == "offline"
    boot = health.boot if (health.seq is not None or is_will) else None
    incoming = incoming_key(boot, health.seq, stored)
    if not is_newer(incoming, stored):
        return False
    await conn.execute(
        update(agents)
        .where(where)
        .values(
            health=health.model_dump_json(exclude_none=True),
            state=health.state,
            boot=incoming.boot,
            seq=incoming.seq if incoming.boot is not None else None,
            will=incoming.will,
            seen_at=seen_at,
        )
    )
    previous = None if fresh else stored_row.state
    if previous != health.state:
        await conn.execute(
            insert(health_history).values(
                club=club,
                agent=agent,
                state=health.state,
                previous=previous,
                boot=health.boot,
                seq=health.seq,
                at=health.at,
                seen_at=seen_at,
            )
        )
    return True
