"""Lookups remembered for the length of one unit of work (an import chunk), so a service that asks the
database the same question for every row asks it once per chunk. Outside a `scope` nothing is remembered:
an interactive write always sees the current settings."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_cache: ContextVar[dict | None] = ContextVar("krug_memo", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """Within this block, `remembered` computes each key once."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    cache = _cache.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def forget(key: Hashable) -> None:
    """Drop one remembered answer (after a write that changes it)."""
    cache = _cache.get()
    if cache is not None:
        cache.pop(key, None)
