"""Per-request DataLoaders, so nested fields cost one Cypher per level, not one per parent.

Loaders live on the request's Context (created on first use), so their cache lasts one request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.context import Context
from kg.queries.knowledge import DiseaseView, disease_relatives


def context_loader(
    info: Info[Context, None], name: str, load: Callable[[list[Any]], Awaitable[list[Any]]]
) -> DataLoader:
    """The request's loader called ``name``, made from ``load`` the first time it is asked for."""
    loaders: dict[str, DataLoader] = vars(info.context).setdefault("loaders", {})
    if name not in loaders:
        loaders[name] = DataLoader(load_fn=load)
    return loaders[name]


def disease_relatives_loader(info: Info[Context, None], direction: str, as_of: str | None) -> DataLoader:
    """Parents or children (IS_A) of many diseases in one query: ``direction`` is parents|children,
    ``as_of`` the knowledge state of the disease asked about (one loader per state)."""

    async def load(ids: list[str]) -> list[list[DiseaseView]]:
        state = await info.context.state(as_of)
        found = await info.context.run(disease_relatives, list(ids), direction, state)
        return [found[i] for i in ids]

    return context_loader(info, f"disease-{direction}-{as_of or ''}", load)
