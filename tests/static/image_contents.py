"""What a service image holds, read from its Dockerfile and .dockerignore
without Docker, and what its entrypoint needs from the build context.

Docker's rules, as far as the services' files use them: a .dockerignore
pattern matches a path or any of its parent folders, `**` spans folders, the
last matching pattern wins and `!` puts a path back; a `COPY` source is a
context path or a glob of one, and a folder is copied whole.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from .repo_files import REPO

_INSTRUCTION = re.compile(r"^(?P<word>[A-Z]+)\s+(?P<rest>.*)$", re.I)


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in joined.splitlines():
        match = _INSTRUCTION.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            result.append((match["word"].upper(), match["rest"].strip()))
    return result


def tracked_files(context: Path) -> list[str]:
    """The context's files as git has them, relative to the context."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", "."], cwd=context, capture_output=True,
                            check=True).stdout.decode()
    return sorted(name for name in listed.split("\0") if name)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for segment in re.split(r"(\*\*/?|\*|\?)", pattern):
        parts.append({"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(segment, re.escape(segment)))
    return re.compile("".join(parts) + r"\Z")


@dataclass(frozen=True)
class DockerIgnore:
    rules: tuple[tuple[bool, re.Pattern[str]], ...]  # (excludes, pattern) in file order

    @classmethod
    def read(cls, context: Path) -> "DockerIgnore":
        path = context / ".dockerignore"
        rules = []
        for line in (path.read_text().splitlines() if path.exists() else []):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            cleaned = str(PurePosixPath(line.lstrip("!").strip("/")))
            rules.append((not negated, _pattern_regex(cleaned)))
        return cls(tuple(rules))

    def excludes(self, path: str) -> bool:
        candidates = [str(p) for p in (PurePosixPath(path), *PurePosixPath(path).parents) if str(p) != "."]
        excluded = False
        for excludes, pattern in self.rules:
            if any(pattern.match(candidate) for candidate in candidates):
                excluded = excludes
        return excluded


@dataclass(frozen=True)
class Stage:
    name: str
    copied: frozenset[str]  # context files this stage copies in
    cmd: list[str]


def stages(context: Path) -> list[Stage]:
    """Each build stage with the context files its COPY/ADD instructions take."""
    ignore = DockerIgnore.read(context)
    in_context = [name for name in tracked_files(context) if not ignore.excludes(name)]
    result: list[Stage] = []
    for word, rest in _instructions(context / "Dockerfile"):
        if word == "FROM":
            alias = re.search(r"\s+AS\s+(\S+)", rest, re.I)
            result.append(Stage(alias[1] if alias else str(len(result)), frozenset(), []))
        elif word in ("COPY", "ADD") and "--from=" not in rest:
            sources = [arg for arg in shlex.split(rest) if not arg.startswith("--")][:-1]
            taken = {name for name in in_context for source in sources if _copies(source, name)}
            last = result[-1]
            result[-1] = Stage(last.name, last.copied | taken, last.cmd)
        elif word in ("CMD", "ENTRYPOINT"):
            last = result[-1]
            result[-1] = Stage(last.name, last.copied, _exec_form(rest))
    return result


def _exec_form(rest: str) -> list[str]:
    return ast.literal_eval(rest) if rest.startswith("[") else shlex.split(rest)


def _copies(source: str, name: str) -> bool:
    source = source.strip("/") if source not in (".", "./") else ""
    if not source:
        return True
    return fnmatch.fnmatchcase(name, source) or name.startswith(source + "/")


# ------------------------------------------------------- what an entrypoint needs

def _closure(entries: list[str], neighbours: Callable[[str], list[str]]) -> set[str]:
    """Every path reachable from the entries (a file's neighbours: what it loads)."""
    needed: set[str] = set()
    queue = list(entries)
    while queue:
        path = queue.pop()
        if path not in needed:
            needed.add(path)
            queue += neighbours(path)
    return needed


def python_closure(context: Path, entries: list[str]) -> set[str]:
    """Local modules (files of the context) that the entry files import, transitively."""
    local = set(tracked_files(context))

    def imports(path: str) -> list[str]:
        found: list[str] = []
        package = PurePosixPath(path).parent
        for node in ast.walk(ast.parse((context / path).read_text(), path)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package
                    for _ in range(node.level - 1):
                        anchor = anchor.parent
                    base = ".".join(p for p in (*anchor.parts, *base.split(".")) if p)
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for name in names:
                parts = name.split(".")
                for depth in range(1, len(parts) + 1):  # a package's __init__ runs before its modules
                    stem = "/".join(parts[:depth])
                    found += [candidate for candidate in (f"{stem}.py", f"{stem}/__init__.py") if candidate in local]
        return found

    return _closure([entry for entry in entries if entry in local], imports)


_REQUIRE = re.compile(r"""require\(\s*['"](\.{1,2}/[^'"]+)['"]\s*\)""")


def node_closure(context: Path, entries: list[str]) -> set[str]:
    """Files the entry files `require` by relative path, transitively (a missing one included)."""
    local = set(tracked_files(context))

    def requires(path: str) -> list[str]:
        if not path.endswith(".js") or path not in local:
            return []
        found = []
        for target in _REQUIRE.findall((context / path).read_text()):
            resolved = _normalise((PurePosixPath(path).parent / target).as_posix())
            found.append(next((c for c in (resolved, f"{resolved}.js", f"{resolved}.json", f"{resolved}/index.js")
                               if c in local), resolved))
        return found

    return _closure(entries, requires)


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def go_closure(context: Path) -> set[str]:
    """go.mod, go.sum and every non-test Go file of the main package and of the
    module's own packages it imports, transitively."""
    local = set(tracked_files(context))
    module = re.search(r"^module\s+(\S+)", (context / "go.mod").read_text(), re.M)[1]

    def package_files(folder: str) -> list[str]:
        return [n for n in local if str(PurePosixPath(n).parent) == (folder or ".")
                and n.endswith(".go") and not n.endswith("_test.go")]

    def imported_packages(folder: str) -> list[str]:
        return [imported[len(module) + 1:] for name in package_files(folder)
                for imported in re.findall(r'"(' + re.escape(module) + r'/[^"]+)"', (context / name).read_text())]

    folders = _closure([""], imported_packages)
    return {"go.mod", "go.sum"} | {name for folder in folders for name in package_files(folder)}
