"""/admin/settings: every setting of xp.settings with an input that fits its rule, checked by the
table on save (the same check a psql UPDATE meets), and, live, which running listeners and bots took
the change up (their heartbeats carry the config version they run with)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...errors import XPError
from ..deps import PageError
from .access import Changes, CurrentOperator, reads
from .layout import admin_page

router = APIRouter(include_in_schema=False)


def input_kind(setting: dict[str, Any]) -> str:
    """How the page asks for a value: number, choice, text, lines (a list of strings) or json."""
    rule = setting["rule"] or {}
    kind = rule.get("type")
    if "enum" in rule:
        return "choice"
    if kind in ("integer", "number"):
        return "number"
    if kind == "string":
        return "text"
    if kind == "boolean":
        return "choice"
    if kind == "array" and "items" in rule:
        return "lines"
    return "json"


def choices(setting: dict[str, Any]) -> list[Any]:
    rule = setting["rule"] or {}
    return list(rule["enum"]) if "enum" in rule else [True, False]


def shown(setting: dict[str, Any]) -> str:
    """The value as the input shows it."""
    kind, value = input_kind(setting), setting["value"]
    if kind == "lines":
        return "\n".join(str(v) for v in value)
    if kind == "text":
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def parse(setting: dict[str, Any], text: str) -> Any:
    """What the operator typed as the setting's JSON value; ValueError naming the problem."""
    kind = input_kind(setting)
    if kind == "text":
        return text
    if kind == "choice":
        for choice in choices(setting):
            if text == (choice if isinstance(choice, str) else json.dumps(choice)):
                return choice
        raise ValueError("must be one of " + ", ".join(map(json.dumps, choices(setting))))
    if kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError("not a number" if kind == "number" else "not valid JSON") from None
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError("not a number")
    return value


async def context(request: Request) -> dict[str, Any]:
    settings = await reads(request).settings()
    return {"settings": settings, "kind": input_kind, "choices": choices, "shown": shown,
            "version": await reads(request).config_version(), "processes": await reads(request).processes(),
            "flash_text": request.session.pop("admin_flash", None)}


@router.get("/admin/settings", response_class=HTMLResponse)
async def settings_page(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/settings.html", **await context(request))


@router.get("/admin/fragments/processes", response_class=HTMLResponse)
async def processes_live(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/processes.html", version=await reads(request).config_version(),
                      processes=await reads(request).processes())


@router.post("/admin/settings/{key}")
async def save(request: Request, key: str, changes: Changes, value: str = Form("")) -> Response:
    setting = next((s for s in await reads(request).settings() if s["key"] == key), None)
    if setting is None:
        raise PageError(404, "web_not_found", "web_not_found_text")
    try:
        parsed = parse(setting, value)
    except ValueError as exc:
        raise PageError(400, "admin_refused", "admin_bad_setting", setting=key, problem=str(exc)) from None
    try:
        await changes.set_setting(key, parsed)
    except XPError as exc:
        raise PageError(400, "admin_refused", "admin_refused_text", detail=exc.message) from None
    request.session["admin_flash"] = ["admin_saved", {"setting": key, "value": json.dumps(parsed, ensure_ascii=False),
                                                      "version": str(await reads(request).config_version())}]
    return RedirectResponse("/admin/settings#processes", status_code=303)
