"""Counting the calls of a function while the real one runs: which path a request took."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


class Calls:
    """Replaces ``module.name`` (for the test, through ``monkeypatch``) by a wrapper that counts its calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.count = 0
        real: Callable[..., Any] = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
