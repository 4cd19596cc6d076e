"""The Discord bot's cogs, one feature per file, each loaded as an extension by its setup().

Every number a cog shows comes from the SQL API (the bot's Xp); every word from xpsync.texts.
"""
