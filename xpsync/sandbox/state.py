"""What the fake platforms hold: Discord guild members and roles, Telegram chats and messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    at: float
    platform: str
    method: str
    path: str
    status: int


@dataclass(frozen=True)
class RoleChange:
    at: float
    guild_id: str
    member_id: str
    role_id: str
    action: str  # "add" | "remove"
    reason: str


@dataclass(frozen=True)
class SentMessage:
    at: float
    chat_id: str
    message_id: int
    text: str  # for a photo, its caption
    reply_markup: Any = None
    photo: bytes | None = None  # sendPhoto: the uploaded image


@dataclass(frozen=True)
class DirectMessage:
    """A message the bot sent a Discord user in their direct-message channel."""

    at: float
    user_id: str
    channel_id: str
    message_id: str
    content: str
    allowed_mentions: Any = None  # what the message may ping (None: Discord's default, every mention)


@dataclass(frozen=True)
class Upload:
    """A file sent with a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InteractionReply:
    interaction_id: str
    type: int
    data: dict[str, Any]
    files: tuple[Upload, ...] = ()  # attachments (multipart: payload_json and files[n])


DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(at: float) -> str:
    """A Discord id made at `at` (Unix seconds): the milliseconds since Discord's epoch, shifted by 22."""
    return str((int(at * 1000) - DISCORD_EPOCH_MS) << 22)


def snowflake_time(snowflake: str) -> float:
    """When a Discord id was made (Unix seconds)."""
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000


@dataclass
class DiscordState:
    token: str
    # guilds where every user is a member and every role exists (benchmarks: no set-up per member)
    open_guilds: set[str] = field(default_factory=set)
    guild_roles: dict[str, set[str]] = field(default_factory=dict)
    # roles placed above the bot's highest role: editing them is 403 Missing Permissions (50013)
    forbidden_roles: dict[str, set[str]] = field(default_factory=dict)
    # guilds the bot was removed from: 403 Missing Access (50001)
    left_guilds: set[str] = field(default_factory=set)
    # users who deleted their account: 404 Unknown User (10013)
    deleted_users: set[str] = field(default_factory=set)
    members: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # users who accept no direct messages from the bot: 403 Cannot send messages to this user (50007)
    dm_closed: set[str] = field(default_factory=set)
    dm_channels: dict[str, str] = field(default_factory=dict)  # user id → their direct-message channel
    direct_messages: list[DirectMessage] = field(default_factory=list)
    role_changes: list[RoleChange] = field(default_factory=list)
    interaction_replies: list[InteractionReply] = field(default_factory=list)
    # called with (guild_id, member_id) after a member's roles changed (the gateway tells the bot)
    role_watchers: list[Callable[[str, str], None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def interaction_id(self, at: float | None = None) -> str:
        """The id Discord gives an interaction created now (or at `at`): its 3 seconds run from there."""
        return snowflake_at(time.time() if at is None else at)

    def roles_changed(self, guild_id: str, member_id: str) -> None:
        for watch in self.role_watchers:
            watch(guild_id, member_id)

    def add_guild(self, guild_id: str, roles: Iterable[str], *, forbidden: Iterable[str] = ()) -> None:
        with self.lock:
            self.guild_roles[guild_id] = set(roles)
            self.forbidden_roles[guild_id] = set(forbidden)
            self.members.setdefault(guild_id, {})

    def add_member(self, guild_id: str, member_id: str, roles: Iterable[str] = ()) -> None:
        with self.lock:
            self.members.setdefault(guild_id, {})[member_id] = set(roles)

    def roles_of(self, guild_id: str, member_id: str) -> set[str]:
        with self.lock:
            return set(self.members.get(guild_id, {}).get(member_id, set()))

    def shares_a_guild(self, user_id: str) -> bool:
        """Whether the user is in a guild of the bot (Discord lets a bot write only to those)."""
        return bool(self.open_guilds) or any(user_id in members for members in self.members.values())

    def messages_to(self, user_id: str) -> list[DirectMessage]:
        with self.lock:
            return [m for m in self.direct_messages if m.user_id == user_id]

    def set_roles(self, guild_id: str, member_id: str, roles: list[str]) -> None:
        """Change a member's roles by hand, as a moderator would (drift)."""
        with self.lock:
            self.members[guild_id][member_id] = set(roles)
        self.roles_changed(guild_id, member_id)


@dataclass
class TelegramState:
    token: str
    # private chats that sent /start: a bot may write only to these (and to groups it is in)
    opened: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)  # 403 bot was blocked by the user
    deactivated: set[str] = field(default_factory=set)  # 403 user is deactivated
    kicked: set[str] = field(default_factory=set)  # groups that removed the bot: 403 bot was kicked
    messages: list[SentMessage] = field(default_factory=list)
    # (chat_id, message_id, new inline keyboard) for every editMessageReplyMarkup
    edits: list[tuple[str, int, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 0

    def edit(self, chat_id: str, message_id: int, reply_markup: Any) -> None:
        with self.lock:
            self.edits.append((chat_id, message_id, reply_markup))

    def record(self, chat_id: str, text: str, reply_markup: Any = None, photo: bytes | None = None) -> SentMessage:
        with self.lock:
            self._next_id += 1
            sent = SentMessage(time.time(), chat_id, self._next_id, text, reply_markup, photo)
            self.messages.append(sent)
            return sent

    def open_chat(self, *chat_ids: str) -> None:
        """These people pressed Start: the bot may write to their private chats."""
        with self.lock:
            self.opened.update(chat_ids)

    def sent_to(self, chat_id: str) -> list[SentMessage]:
        with self.lock:
            return [m for m in self.messages if m.chat_id == chat_id]
