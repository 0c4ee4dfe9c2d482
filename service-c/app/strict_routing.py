"""Routes answer to exactly one spelling (docs/contract.md, "Input rules").

Werkzeug matches the *decoded* path (PATH_INFO) and is forgiving by default:
`//health` matches `/health` (leading slashes are stripped), `/api//process`
is redirected with a 308 (merge_slashes), and `/api%2fprocess` decodes to
`/api/process`. Here a path matches only when the request target spells it
exactly: no percent-encoding, no doubled slash, no trailing slash, no `;`
parameters, same case. Any other spelling is a 404, also for a known route's
wrong method (it is not that route).

The check runs as the first `before_request` hook, ahead of the
instrumentation's (see create_app), and only *marks* the request as unrouted:
the Flask instrumentation then records no `http.route` for it, and the 404 is
raised with the other input rules, in the contract's order
(app/request_context.py).
"""

from __future__ import annotations

from functools import cached_property
from urllib.parse import quote, urlsplit

from flask import Flask, Request, request
from werkzeug.exceptions import NotFound


class ExactPathRequest(Request):
    """`path` and `url` keep the path's leading slashes. Werkzeug strips them
    (`//health` reads as `/health`), which would log `//health` under the route
    `/health` and let the instrumentation's /health exclusion skip its trace."""

    def __init__(self, environ: dict, *args, **kwargs) -> None:
        super().__init__(environ, *args, **kwargs)
        sent = self.environ.get("PATH_INFO", "")
        self.path = "/" * max(1, len(sent) - len(sent.lstrip("/"))) + self.path.lstrip("/")

    @cached_property
    def url(self) -> str:
        url = self.root_url.rstrip("/") + quote(self.path, safe="!$&'()*+,/:;=@%")
        if not self.query_string:
            return url
        return url + "?" + quote(self.query_string, safe="!$&'()*+,/:;=?@%")


def init_app(app: Flask) -> None:
    """Call before any route is registered and before the instrumentation's hooks."""
    # A trailing slash is already a 404 for these rules (strict_slashes); this
    # turns `/a//b` into a 404 too instead of a redirect to `/a/b`.
    app.url_map.merge_slashes = False
    app.request_class = ExactPathRequest
    # No CORS here: OPTIONS is not a method any route serves, so it gets the
    # same 405 as any other unserved method (Flask would answer it itself).
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.before_request(_refuse_other_spellings)


def raw_path(environ: dict) -> str | None:
    """The path of the request target exactly as sent, or None if the server does not say.

    gunicorn and Werkzeug put the request target in RAW_URI (others use
    REQUEST_URI); it may be in absolute form (`http://host/path?query`).
    """
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not target:
        return None
    if target.startswith("/"):
        return target.split("?", 1)[0].split("#", 1)[0]
    try:
        return urlsplit(target).path or "/"
    except ValueError:  # not a URL at all: no route is spelled like it
        return target


def is_exact_spelling(environ: dict) -> bool:
    """The target's path is the routed path as is: nothing decoded, no doubled slash."""
    sent = raw_path(environ)
    if sent is None:
        return True  # nothing to compare with: routing on PATH_INFO is all there is
    return sent == environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "") and "//" not in sent


def _refuse_other_spellings() -> None:
    if not is_exact_spelling(request.environ):
        request.url_rule = None
        request.view_args = None
        request.routing_exception = NotFound()
