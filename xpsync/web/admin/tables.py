"""/admin/tables: the operator tables (multipliers, seasons, the rank→role mapping and role mode per
guild, achievements and their roles, the ranks' names and rewards, quiz questions, wheel prizes,
quests and the shop's items),
each row editable as a DBA edits it in psql. The table's own checks refuse what is wrong, and its
triggers make the system follow (audited, a new config version, running processes told, roles
resynced). Rank thresholds have a page of their own (thresholds.py): they move people."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from fastapi import APIRouter
from psycopg.types.json import Jsonb
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...errors import XPError
from ..deps import PageError
from .access import Changes, CurrentOperator, reads
from .layout import admin_page

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, int, number, date, moment, choice, json, lines
    choices: tuple[str, ...] = ()
    optional: bool = False  # empty → NULL
    key: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    label: str  # a key of the catalogue
    columns: tuple[Column, ...]
    generated: bool = False  # the key is made by the table (an identity id): not asked on insert
    actions: tuple[str, ...] = ("insert", "update", "delete")

    @property
    def key(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.key)

    def editable(self, action: str) -> tuple[Column, ...]:
        """The columns a form of this action sends: an update never moves a row's key."""
        return tuple(c for c in self.columns if not c.key or (action == "insert" and not self.generated))


PLATFORM = Column("platform", "choice", ("telegram", "discord", "website"), optional=True)
TABLES = {t.name: t for t in (
    Table("multipliers", "admin_table_multipliers", (
        Column("id", "int", key=True), Column("factor", "number"), PLATFORM, Column("chat_id", optional=True),
        Column("starts_at", "moment"), Column("ends_at", "moment"), Column("reason")), generated=True),
    Table("seasons", "admin_table_seasons", (
        Column("id", "int", key=True), Column("name"), Column("starts_on", "date"), Column("ends_on", "date")),
        generated=True),
    Table("rank_roles", "admin_table_rank_roles", (
        Column("guild_id", key=True), Column("rank_id", "int", key=True), Column("role_id"))),
    Table("guild_settings", "admin_table_guild_settings", (
        Column("guild_id", key=True), Column("role_mode", "choice", ("replace", "stack")))),
    Table("achievements", "admin_table_achievements", (
        Column("code", key=True), Column("name"), Column("description"), Column("emoji"),
        Column("criterion", "choice", ("games_won", "streak", "messages", "voice_seconds", "rank", "platforms")),
        Column("threshold", "int"), Column("reward_xp", "int"), Column("reward_coins", "int"),
        Column("translations", "json"))),
    Table("achievement_roles", "admin_table_achievement_roles", (
        Column("guild_id", key=True), Column("code", key=True), Column("role_id"))),
    Table("ranks", "admin_table_ranks", (
        Column("id", "int", key=True), Column("name"), Column("tier"), Column("stars", "int"), Column("color"),
        Column("emoji"), Column("reward_coins", "int")), actions=("update",)),
    Table("quiz_questions", "admin_table_quiz_questions", (
        Column("id", "int", key=True), Column("language", "choice", ("en", "ru")), Column("question"),
        Column("options", "lines"), Column("answer", "int")), generated=True),
    Table("wheel_prizes", "admin_table_wheel_prizes", (
        Column("id", "int", key=True), Column("kind", "choice", ("xp", "coins")), Column("amount", "int"),
        Column("weight", "int")), generated=True),
    Table("quests", "admin_table_quests", (
        Column("code", key=True), Column("title", "json"), Column("description", "json"),
        Column("proof", "choice", ("messages", "voice_minutes", "games_won", "streak", "submission")),
        Column("target", "int"), Column("period", "choice", ("once", "day", "week", "month")),
        Column("per_person", "int"), Column("reward_xp", "int"), Column("reward_coins", "int"),
        Column("starts_at", "moment", optional=True), Column("ends_at", "moment", optional=True),
        Column("active", "choice", ("true", "false")))),
    Table("shop_items", "admin_table_shop_items", (
        Column("code", key=True), Column("kind", "choice", ("discord_role", "telegram_title", "custom")),
        Column("title", "json"), Column("description", "json"), Column("price", "int"),
        Column("stock", "int", optional=True), Column("guild_id", optional=True), Column("role_id", optional=True),
        Column("days", "int", optional=True), Column("needs_approval", "choice", ("true", "false")),
        Column("active", "choice", ("true", "false")))),
)}


def table_of(name: str) -> Table:
    table = TABLES.get(name)
    if table is None:
        raise PageError(404, "web_not_found", "web_not_found_text")
    return table


def value_of(column: Column, raw: str) -> Any:
    """A form field as the column's value; ValueError naming what is wrong."""
    text = raw.strip()
    if text == "" and column.optional:
        return None
    if text == "" and column.kind not in ("text", "lines"):
        raise ValueError("is empty")
    try:
        if column.kind == "int":
            return int(text)
        if column.kind == "number":
            return Decimal(text)
        if column.kind == "date":
            return date.fromisoformat(text)
        if column.kind == "moment":  # the form's datetime-local is UTC
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if column.kind == "json":
            return Jsonb(json.loads(text))
    except (ValueError, InvalidOperation):
        raise ValueError(f"is not a valid {column.kind}") from None
    if column.kind == "choice" and text not in column.choices:
        raise ValueError(f"must be one of {', '.join(column.choices)}")
    if column.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    return raw if column.kind == "text" else text


def fields(columns: tuple[Column, ...], form: FormData, prefix: str = "") -> dict[str, Any]:
    values = {}
    for column in columns:
        raw = form.get(prefix + column.name)
        try:
            values[column.name] = value_of(column, raw if isinstance(raw, str) else "")
        except ValueError as exc:
            raise PageError(400, "admin_refused", "admin_bad_field", field=column.name, problem=str(exc)) from None
    return values


def shown(column: Column, value: Any) -> str:
    """A value as its input shows it."""
    if value is None:
        return ""
    if column.kind == "json":
        return json.dumps(value, ensure_ascii=False)
    if column.kind == "lines":
        return "\n".join(value)
    if column.kind == "moment":
        return str(value)[:16]  # YYYY-MM-DDTHH:MM, as datetime-local takes it
    return str(value)


@router.get("/admin/tables", response_class=HTMLResponse)
async def tables(request: Request, operator: CurrentOperator) -> Response:
    return RedirectResponse("/admin/tables/multipliers", status_code=303)


@router.get("/admin/tables/{name}", response_class=HTMLResponse)
async def table_page(request: Request, name: str, operator: CurrentOperator) -> HTMLResponse:
    table = table_of(name)
    return admin_page(request, "admin/table.html", table=table, tables=TABLES.values(),
                      rows=await reads(request).rows(table.name), shown=shown,
                      flash_text=request.session.pop("admin_flash", None))


@router.post("/admin/tables/{name}/{action}")
async def edit(request: Request, name: str, action: str, changes: Changes) -> Response:
    table = table_of(name)
    if action not in table.actions:
        raise PageError(404, "web_not_found", "web_not_found_text")
    form = await request.form()
    key = fields(table.key, form, "key.") if action != "insert" else {}
    try:
        if action == "insert":
            await changes.insert(table.name, fields(table.editable("insert"), form))
            n = 1
        elif action == "update":
            n = await changes.update(table.name, key, fields(table.editable("update"), form))
        else:
            n = await changes.delete(table.name, key)
    except XPError as exc:
        raise PageError(400, "admin_refused", "admin_refused_text", detail=exc.message) from None
    except (psycopg.IntegrityError, psycopg.DataError) as exc:
        # the table's own checks: a range, a unique name, overlapping seasons, a rank that does not exist
        detail = exc.diag.message_primary or type(exc).__name__
        raise PageError(400, "admin_refused", "admin_refused_text", detail=detail) from None
    request.session["admin_flash"] = ["admin_table_" + action, {"table": table.name, "n": str(n)}]
    return RedirectResponse(f"/admin/tables/{table.name}", status_code=303)
