"""What the website says, per language (en, ru), and which language a request gets."""

from __future__ import annotations

LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "site": "Leaderboard",
        "board": "Board",
        "ranks": "Ranks",
        "api": "API",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "signed_in_as": "Signed in as {name}",
        "my_profile": "My profile",
        "period_all": "All time",
        "period_season": "Season",
        "period_month": "This month",
        "period_week": "This week",
        "search": "Search by name",
        "search_button": "Search",
        "place": "Place",
        "name": "Name",
        "rank": "Rank",
        "xp": "XP",
        "coins": "coins",
        "empty_board": "Nobody here yet.",
        "no_season": "No season is running now.",
        "no_match": "Nobody's name starts with “{q}”.",
        "prev": "← Previous",
        "next": "Next →",
        "page": "Page {page}",
        "people_on_board": "{n} on this board",
        "progress": "{remaining} XP to {next}",
        "top_rank": "Top rank reached",
        "platforms": "Platforms",
        "achievements": "Achievements",
        "no_achievements": "No achievements yet.",
        "places": "Places",
        "not_on_board": "—",
        "activity": "XP over the last 30 days",
        "season_xp": "Season XP",
        "privacy": "Privacy",
        "privacy_hidden": "You are hidden: others see no profile of yours and you are on no public board.",
        "privacy_shown": "You are shown on the public boards.",
        "hide_me": "Hide me",
        "show_me": "Show me",
        "ladder_title": "Ranks",
        "min_xp": "XP needed",
        "reward": "Reward",
        "sign_in_title": "Sign in",
        "sign_in_intro": "Sign in with the account you use in the community. Signing in with your other "
                         "platform afterwards links both into one person.",
        "sign_in_discord": "Sign in with Discord",
        "sign_in_none": "Sign-in is not set up on this site.",
        "members_only": "This board is for members: sign in to see it.",
        "site_off": "This board is not public.",
        "link_title": "Link your accounts?",
        "link_intro": "You are signed in with {a}. You just signed in with {b}, which belongs to someone else "
                      "on the board. Linking makes both one person:",
        "link_rules": "XP, coins and stats are added up, achievements united, the longer streak kept; the rank "
                      "follows the sum and rank rewards are not paid again.",
        "link_result": "After linking",
        "link_new_account": "{b} has no progress yet.",
        "link_confirm": "Link them",
        "link_cancel": "Cancel",
        "link_refused": "These accounts cannot be linked: {detail}",
        "linked": "Linked: one person, one progression.",
        "not_found": "Not found",
        "not_found_text": "There is nobody here: the link may be wrong, or the person chose privacy.",
        "bad_request": "That did not work",
        "too_many": "Too many attempts. Try again in {seconds} seconds.",
        "expired_state": "This sign-in took too long or did not start here. Please sign in again.",
        "bad_login": "The sign-in data could not be verified. Please sign in again.",
        "back_home": "Back to the board",
        "error": "Something went wrong",
        "error_text": "Something went wrong on our side. Please try again in a moment.",
        "bad_page": "page must be a whole number from 1.",
        "bad_period": "period must be all, season, month or week.",
        "lang_other": "Русский",
        "you": "you",
    },
    "ru": {
        "site": "Таблица лидеров",
        "board": "Таблица",
        "ranks": "Ранги",
        "api": "API",
        "sign_in": "Войти",
        "sign_out": "Выйти",
        "signed_in_as": "Вы вошли как {name}",
        "my_profile": "Мой профиль",
        "period_all": "За всё время",
        "period_season": "Сезон",
        "period_month": "Этот месяц",
        "period_week": "Эта неделя",
        "search": "Поиск по имени",
        "search_button": "Найти",
        "place": "Место",
        "name": "Имя",
        "rank": "Ранг",
        "xp": "Опыт",
        "coins": "монет",
        "empty_board": "Здесь пока никого нет.",
        "no_season": "Сейчас сезон не идёт.",
        "no_match": "Ни одно имя не начинается с «{q}».",
        "prev": "← Назад",
        "next": "Дальше →",
        "page": "Страница {page}",
        "people_on_board": "В таблице: {n}",
        "progress": "до {next}: {remaining} опыта",
        "top_rank": "Высший ранг достигнут",
        "platforms": "Платформы",
        "achievements": "Достижения",
        "no_achievements": "Достижений пока нет.",
        "places": "Места",
        "not_on_board": "—",
        "activity": "Опыт за последние 30 дней",
        "season_xp": "Опыт за сезон",
        "privacy": "Приватность",
        "privacy_hidden": "Вы скрыты: другие не видят ваш профиль, и вас нет в публичных таблицах.",
        "privacy_shown": "Вас видно в публичных таблицах.",
        "hide_me": "Скрыть меня",
        "show_me": "Показывать меня",
        "ladder_title": "Ранги",
        "min_xp": "Нужно опыта",
        "reward": "Награда",
        "sign_in_title": "Вход",
        "sign_in_intro": "Войдите с аккаунтом, который вы используете в сообществе. Если потом войти со второй "
                         "платформы, оба аккаунта станут одним человеком.",
        "sign_in_discord": "Войти через Discord",
        "sign_in_none": "Вход на этом сайте не настроен.",
        "members_only": "Таблица только для участников: войдите, чтобы её увидеть.",
        "site_off": "Эта таблица не публичная.",
        "link_title": "Связать аккаунты?",
        "link_intro": "Вы вошли как {a}. Сейчас вы вошли через {b}, который принадлежит другому участнику "
                      "таблицы. После связывания это будет один человек:",
        "link_rules": "опыт, монеты и статистика складываются, достижения объединяются, остаётся более длинная "
                      "серия; ранг считается по сумме, награды за ранги повторно не выдаются.",
        "link_result": "После связывания",
        "link_new_account": "У {b} пока нет прогресса.",
        "link_confirm": "Связать",
        "link_cancel": "Отмена",
        "link_refused": "Эти аккаунты нельзя связать: {detail}",
        "linked": "Аккаунты связаны: один человек, один прогресс.",
        "not_found": "Не найдено",
        "not_found_text": "Здесь никого нет: ссылка неверна, или человек скрыл свой профиль.",
        "bad_request": "Не получилось",
        "too_many": "Слишком много попыток. Попробуйте через {seconds} с.",
        "expired_state": "Вход занял слишком много времени или начался не здесь. Войдите ещё раз.",
        "bad_login": "Данные входа не прошли проверку. Войдите ещё раз.",
        "back_home": "К таблице",
        "error": "Что-то пошло не так",
        "error_text": "У нас что-то сломалось. Попробуйте ещё раз чуть позже.",
        "bad_page": "page — целое число от 1.",
        "bad_period": "period — all, season, month или week.",
        "lang_other": "English",
        "you": "вы",
    },
}


def say(language: str, key: str, **values: object) -> str:
    return TEXTS.get(language, TEXTS["en"])[key].format(**values)


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
        if candidate in LANGUAGES:
            return candidate
    return from_accept_language(accept_language) or "en"
