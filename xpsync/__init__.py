"""xpsync: one person, one progression, two platforms."""

from __future__ import annotations

__version__ = "0.1.0"
