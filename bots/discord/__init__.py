"""The Discord bot (discord.py 2): slash commands and listeners, one cog per feature."""
