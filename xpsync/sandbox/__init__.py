"""A loopback stand-in for the Discord and Telegram HTTP APIs, shared by the tests and the demo."""

from __future__ import annotations

from .faults import Fault, Faults
from .limits import Limits, Rate, Window
from .server import Sandbox, SandboxThread

__all__ = ["Fault", "Faults", "Limits", "Rate", "Sandbox", "SandboxThread", "Window"]
