"""Key paths of a parsed config, and matching them against allowlist patterns.

A path joins mapping keys with "."; the items of a list of mappings add "[]".
Only leaves are reported (a scalar, a list of scalars, null or an empty
container): a typo anywhere above a leaf changes the leaf's path, so checking
leaves is enough. In a pattern, "*" stands for exactly one key of our choosing.
"""

from __future__ import annotations

from typing import Any, Iterator


def leaf_paths(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaf_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list) and any(isinstance(item, (dict, list)) for item in node):
        for item in node:
            yield from leaf_paths(item, f"{prefix}[]")
    else:
        yield prefix


def _segments(path: str) -> list[str]:
    # "a[].b.c" -> ["a", "[]", "b", "c"]
    return [part for part in path.replace("[]", ".[].").split(".") if part]


def matches(pattern: str, path: str) -> bool:
    wanted, actual = _segments(pattern), _segments(path)
    return len(wanted) == len(actual) and all(
        w == a or (w == "*" and a != "[]") for w, a in zip(wanted, actual)
    )


def unlisted(paths: Iterator[str] | list[str], patterns: list[str]) -> list[str]:
    return sorted({p for p in paths if not any(matches(pattern, p) for pattern in patterns)})
