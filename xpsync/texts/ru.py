"""What xpsync says in Russian: the bots' replies, the profile card's labels, Telegram notices.

Keys are the same in every language (a test checks it); values are str.format
templates whose fields come from the database.
"""

from __future__ import annotations

TEXTS: dict[str, str] = {
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
    # the profile card's labels (Discord embed)
    "label_rank": "Ранг",
    "label_xp": "Опыт",
    "label_coins": "Монеты",
    "label_progress": "Прогресс",
    "label_place": "Место",
    "label_streak": "Серия",
    "label_achievements": "Достижения",
    "label_accounts": "Аккаунты",
    # Telegram notices sent by the listener
    "notice_rank_up": "🎉 Новый ранг! Теперь вы {emoji} {name}.",
    "notice_achievement": "🏆 Новое достижение: {emoji} {name}",
    # the same, announced in a group for someone the bot may not write to
    "notice_rank_up_group": "🎉 {person} получает ранг {emoji} {name}!",
    "notice_achievement_group": "🏆 {person} получает достижение: {emoji} {name}",
}
