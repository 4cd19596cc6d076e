"""Which language a request gets: ?lang=, else the visitor's earlier choice, else Accept-Language."""

from __future__ import annotations

from ..vocabulary import DEFAULT_LANGUAGE, LANGUAGES


def from_accept_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header that we speak, by quality."""
    offered: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip()[:2].lower()
        if language in LANGUAGES and quality > 0:
            offered.append((-quality, i, language))
    return min(offered)[2] if offered else None


def pick(query: str | None, chosen: str | None, accept_language: str | None) -> str:
    """?lang= first, then what the visitor chose before, then the browser's languages, then English."""
    for candidate in (query, chosen):
        if candidate is not None and candidate in LANGUAGES:
            return candidate
    return from_accept_language(accept_language) or DEFAULT_LANGUAGE
