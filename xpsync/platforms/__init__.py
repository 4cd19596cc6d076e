"""The one place that builds each platform's client and words a rejected token.

The bots and the listeners both use these, so that a Discord or Telegram
client is configured one way (`DISCORD_API_BASE`, `TELEGRAM_API_BASE`) and a
token the platform refuses is one line naming its variable.
"""
