"""What xpsync says in English: the bots' replies, the profile card's labels, Telegram notices.

Keys are the same in every language (a test checks it); values are str.format
templates whose fields come from the database.
"""

from __future__ import annotations

TEXTS: dict[str, str] = {
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
    # the profile card's labels (Discord embed)
    "label_rank": "Rank",
    "label_xp": "XP",
    "label_coins": "Coins",
    "label_progress": "Progress",
    "label_place": "Place",
    "label_streak": "Streak",
    "label_achievements": "Achievements",
    "label_accounts": "Accounts",
    # Telegram notices sent by the listener
    "notice_rank_up": "🎉 Rank up! You are now {emoji} {name}.",
    "notice_achievement": "🏆 Achievement unlocked: {emoji} {name}",
    # the same, announced in a group for someone the bot may not write to
    "notice_rank_up_group": "🎉 {person} reached {emoji} {name}!",
    "notice_achievement_group": "🏆 {person} unlocked {emoji} {name}",
}
