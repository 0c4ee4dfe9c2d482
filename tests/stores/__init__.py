"""Trace-store clients: one interface (base.TraceStore), one normalized model
(model.Trace), an implementation per store the stack can run with."""

from __future__ import annotations

from .base import TraceStore
from .jaeger import JaegerStore
from .tempo import TempoStore

STORES = {"jaeger": JaegerStore, "tempo": TempoStore}


def make_store(kind: str, base_url: str) -> TraceStore:
    try:
        return STORES[kind](base_url)
    except KeyError:
        raise ValueError(f"unknown trace store {kind!r}; choose one of {', '.join(STORES)}") from None
