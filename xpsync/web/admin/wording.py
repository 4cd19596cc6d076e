"""/admin/texts: the operators' wording of the bots' and listeners' texts, per language, next to the
code's words; a preview fills the text's samples in before anything is saved, and saving is refused
(one line naming the problem) for a placeholder the text does not have. Running bots and listeners
take a change up within a second (xp_config)."""

from __future__ import annotations

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...errors import XPError
from ...texts import CATALOGUE
from ...vocabulary import LANGUAGES
from ..deps import PageError
from .access import Changes, CheckedOperator, CurrentOperator, reads
from .layout import admin_page

router = APIRouter(include_in_schema=False)


def checked(key: str, language: str) -> None:
    if language not in LANGUAGES or len(key) > 60:
        raise PageError(400, "web_bad_request", "admin_bad_filter")


@router.get("/admin/texts", response_class=HTMLResponse)
async def texts(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/texts.html", catalogue=await reads(request).text_catalogue(),
                      defaults=CATALOGUE, languages=LANGUAGES, flash_text=request.session.pop("admin_flash", None))


@router.post("/admin/texts/preview", response_class=HTMLResponse)
async def preview(request: Request, operator: CheckedOperator, key: str = Form(""), language: str = Form(""),
                  body: str = Form("")) -> HTMLResponse:
    checked(key, language)
    try:
        shown, problem = await reads(request).preview_text(key, body), None
    except XPError as exc:
        shown, problem = None, exc.message
    return admin_page(request, "admin/text_preview.html", shown=shown, problem=problem,
                      status=200 if problem is None else 400)


@router.post("/admin/texts/save")
async def save(request: Request, changes: Changes, key: str = Form(""), language: str = Form(""),
               body: str = Form(""), reset: str = Form("")) -> Response:
    checked(key, language)
    try:
        await changes.set_text(key, language, None if reset == "yes" else body)
    except XPError as exc:
        raise PageError(400, "admin_refused", "admin_refused_text", detail=exc.message) from None
    request.session["admin_flash"] = ["admin_text_saved", {"text": key, "lang_code": language}]
    return RedirectResponse(f"/admin/texts#text-{key}", status_code=303)
