"""What the bots say, per language (en, ru). Numbers and names come from the database."""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome": "👋 Welcome, {name}! Chat, play /games and claim /daily to earn XP. "
                   "Link your Discord account with /link to keep one progression on both platforms.",
        "profile": "{emoji} {name} — rank {rank}\nXP {xp} · coins {coins} · place #{place}\n{progress}\n"
                   "Streak {streak} · achievements {achievements}\nAccounts: {accounts}",
        "progress": "{remaining} XP to {next}",
        "top_rank": "Top rank reached",
        "top_title": "🏆 Top — {period}",
        "top_row": "{place}. {name} — {xp} XP",
        "top_empty": "Nobody is on this board yet.",
        "periods": "all time|this season|this month|this week",
        "daily_ok": "🎁 +{xp} XP and +{coins} coins. Streak: {streak} days.",
        "daily_again": "⏳ Already claimed today. Come back at {next} UTC.",
        "link_code": "🔗 Your code: {code}\nSend /link {code} to the bot on the other platform within 10 minutes.",
        "link_done": "✅ Linked: one person, one progression.",
        "link_bad": "❌ That code did not work. Check it, or ask for a new one with /link.",
        "unlink_done": "Unlinked. This account starts over; your progress stays with your other account.",
        "sync_done": "🔄 Your roles will be checked and put right in a moment.",
        "notify_on": "🔔 Notices are on.",
        "notify_off": "🔕 Notices are off.",
        "notify_usage": "Use /notify on or /notify off.",
        "lang_done": "Language: English.",
        "lang_usage": "Use /lang en or /lang ru.",
        "games": "🎮 Pick a game:",
        "game_guess": "Guess the number",
        "game_quiz": "Quiz",
        "game_spin": "Daily wheel",
        "guess_prompt": "🔢 I am thinking of a number from 1 to 100. Tries left: {tries}.{hint}",
        "hint_higher": " It is higher than {last}.",
        "hint_lower": " It is lower than {last}.",
        "guess_won": "🎉 Yes, {number}! +{xp} XP.",
        "guess_lost": "😔 Out of tries. It was {number}.",
        "quiz_right": "✅ Right! +{xp} XP.",
        "quiz_wrong": "❌ Wrong: the answer was {answer}.",
        "game_over": "This game is over. Start another with /games.",
        "spin_won": "🎡 The wheel gives you {amount} {kind}!",
        "spin_again": "🎡 You already spun today. Next spin at {next} UTC.",
        "xp": "XP",
        "coins": "coins",
        "XP001": "I do not know you yet: say something or use /daily first.",
        "XP002": "That did not work: {detail}",
        "XP003": "Not enough balance for that.",
        "XP004": "That was already done with other values.",
        "XP005": "⛔ Too many wrong codes. Try again in 10 minutes.",
        "XP006": "These accounts cannot be linked: {detail}",
        "XP007": "This is your only account: there is nothing to unlink it from.",
        "oops": "😵 Something went wrong on our side. Please try again in a moment.",
    },
    "ru": {
        "welcome": "👋 Привет, {name}! Общайтесь, играйте в /games и забирайте /daily, чтобы получать опыт. "
                   "Свяжите аккаунт Discord через /link — прогресс будет общим на обеих платформах.",
        "profile": "{emoji} {name} — ранг {rank}\nОпыт {xp} · монеты {coins} · место #{place}\n{progress}\n"
                   "Серия {streak} · достижения {achievements}\nАккаунты: {accounts}",
        "progress": "до {next}: {remaining} опыта",
        "top_rank": "Высший ранг достигнут",
        "top_title": "🏆 Топ — {period}",
        "top_row": "{place}. {name} — {xp} опыта",
        "top_empty": "В этой таблице пока никого нет.",
        "periods": "за всё время|за сезон|за месяц|за неделю",
        "daily_ok": "🎁 +{xp} опыта и +{coins} монет. Серия: {streak} дн.",
        "daily_again": "⏳ Сегодня награда уже получена. Возвращайтесь в {next} UTC.",
        "link_code": "🔗 Ваш код: {code}\nОтправьте /link {code} боту на другой платформе в течение 10 минут.",
        "link_done": "✅ Аккаунты связаны: один человек, один прогресс.",
        "link_bad": "❌ Код не подошёл. Проверьте его или получите новый через /link.",
        "unlink_done": "Аккаунт отвязан и начинает с нуля; прогресс остался у другого аккаунта.",
        "sync_done": "🔄 Роли скоро будут проверены и исправлены.",
        "notify_on": "🔔 Уведомления включены.",
        "notify_off": "🔕 Уведомления выключены.",
        "notify_usage": "Используйте /notify on или /notify off.",
        "lang_done": "Язык: русский.",
        "lang_usage": "Используйте /lang en или /lang ru.",
        "games": "🎮 Выберите игру:",
        "game_guess": "Угадай число",
        "game_quiz": "Викторина",
        "game_spin": "Колесо дня",
        "guess_prompt": "🔢 Я загадал число от 1 до 100. Осталось попыток: {tries}.{hint}",
        "hint_higher": " Оно больше {last}.",
        "hint_lower": " Оно меньше {last}.",
        "guess_won": "🎉 Да, {number}! +{xp} опыта.",
        "guess_lost": "😔 Попытки кончились. Это было {number}.",
        "quiz_right": "✅ Верно! +{xp} опыта.",
        "quiz_wrong": "❌ Неверно: правильный ответ — {answer}.",
        "game_over": "Эта игра окончена. Начните новую через /games.",
        "spin_won": "🎡 Колесо дарит вам {amount} {kind}!",
        "spin_again": "🎡 Сегодня вы уже крутили колесо. Следующая попытка в {next} UTC.",
        "xp": "опыта",
        "coins": "монет",
        "XP001": "Я вас пока не знаю: напишите что-нибудь или начните с /daily.",
        "XP002": "Не получилось: {detail}",
        "XP003": "Недостаточно средств.",
        "XP004": "Это уже было сделано с другими значениями.",
        "XP005": "⛔ Слишком много неверных кодов. Попробуйте через 10 минут.",
        "XP006": "Эти аккаунты нельзя связать: {detail}",
        "XP007": "Это ваш единственный аккаунт: отвязывать не от чего.",
        "oops": "😵 У нас что-то сломалось. Попробуйте ещё раз чуть позже.",
    },
}

PERIODS = ("all", "season", "month", "week")


def say(language: str | None, key: str, **values: Any) -> str:
    words = TEXTS.get(language or "en", TEXTS["en"])
    return words[key].format(**values)


def period_name(language: str | None, period: str) -> str:
    return say(language, "periods").split("|")[PERIODS.index(period)]


def pick_language(chosen: str | None, client_hint: str | None) -> str:
    """The person's chosen language, else their app's language when we speak it, else English."""
    if chosen in LANGUAGES:
        return chosen
    hint = (client_hint or "")[:2].lower()
    return hint if hint in LANGUAGES else "en"
