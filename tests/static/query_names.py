"""The names a PromQL or LogQL expression refers to, for cross-checking them
against what the stack actually produces. Not a parser: the expressions in this
repository are simple, and the tests that use this module also test it."""

from __future__ import annotations

import re

# A metric selector is a name directly followed by {matchers} or [range].
_METRIC = re.compile(r"(?<![\w$])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{\[])")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*[\"`]")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
_SELECTOR = re.compile(r"\{([^{}]*)\}")


def promql_metrics(expr: str) -> set[str]:
    return set(_METRIC.findall(expr))


def promql_labels(expr: str) -> set[str]:
    grouped = {name.strip() for group in _GROUPING.findall(expr) for name in group.split(",")}
    return (set(_MATCHER.findall(expr)) | grouped) - {""}


def logql_stream_labels(expr: str) -> set[str]:
    """Labels in the stream selector: the first {...} that holds matchers."""
    for body in _SELECTOR.findall(expr):
        found = set(_MATCHER.findall(body))
        if found:
            return found
    return set()


def logql_filter_labels(expr: str) -> set[str]:
    """Names compared after the selector: `| name="value"` label filters."""
    _, _, pipeline = expr.partition("}")
    return set(re.findall(r"\|\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", pipeline))
