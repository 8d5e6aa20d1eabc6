"""The web client's files, served on plain HTTP GETs to the WebSocket listener.

The files are read from the ``hubbub.web`` package once, into a table keyed
by file name; a request path is only ever looked up in that table, never
joined to a directory, so ``..``, ``%2e%2e`` or an absolute path simply
names no file (404). Every answer carries the security headers: a strict
Content-Security-Policy (no inline script or style, no innerHTML through
Trusted Types, connections only to this origin, images from this origin,
data: and, with ``[web] remote_avatars``, https:), nosniff, no referrer,
no framing. ``/settings.json`` tells the page the ``[web]`` settings it
must follow (no inline script can carry them).
"""

from __future__ import annotations

import contextlib
import hashlib
import http
import ipaddress
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}
# A Host header we are willing to echo into the CSP: host or [v6], optional port.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


SETTINGS_NAME = "settings.json"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, name: str, body: bytes) -> Asset:
        suffix = name[name.rfind(".") :]
        digest = hashlib.sha256(body).hexdigest()[:20]
        return cls(body, CONTENT_TYPES.get(suffix, "application/octet-stream"), f'"{digest}"')


@dataclass(frozen=True, slots=True)
class PageSettings:
    """The ``[web]`` settings the page follows, read per request so that a
    rehash applies to the next page load."""

    remote_avatars: bool

    @property
    def img_src(self) -> str:
        # data: avatars are bounded by [metadata] max_value_bytes; https: ones
        # are fetched by the viewer's browser from a host another user chose.
        return "'self' https: data:" if self.remote_avatars else "'self' data:"

    def asset(self) -> Asset:
        body = json.dumps({"remoteAvatars": self.remote_avatars}).encode()
        return Asset.of(SETTINGS_NAME, body)


class WebAssets:
    """The client's files by name; ``/`` is ``index.html``."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._assets = {name: Asset.of(name, body) for name, body in files.items()}

    @classmethod
    def from_package(cls) -> WebAssets:
        root = resources.files("hubbub.web")
        files = {
            item.name: item.read_bytes()
            for item in root.iterdir()
            if item.is_file() and item.name[item.name.rfind(".") :] in CONTENT_TYPES
        }
        return cls(files)

    def lookup(self, path: str) -> Asset | None:
        name = asset_name(path)
        return None if name is None else self._assets.get(name)


def asset_name(path: str) -> str | None:
    """The file a request path names (``/`` is ``index.html``), None if none."""
    name = path.split("?", 1)[0].split("#", 1)[0]
    if name == "/":
        name = "/index.html"
    return name[1:] if name.startswith("/") else None


def security_headers(host: str | None, tls: bool, settings: PageSettings) -> list[tuple[str, str]]:
    connect = "'self'"
    if host is not None and _HOST.match(host):
        connect += f" {'wss' if tls else 'ws'}://{host}"
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {settings.img_src}; "
        f"connect-src {connect}; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"
    )
    return [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ]


def _plain(status: http.HTTPStatus, headers: list[tuple[str, str]]) -> Response:
    body = f"{status.value} {status.phrase}\n".encode()
    headers = [
        *headers,
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    return Response(status.value, status.phrase, Headers(headers), body)


def serve_file(assets: WebAssets, request: Request, tls: bool, settings: PageSettings) -> Response:
    """The answer to a plain (non-WebSocket) GET or HEAD."""
    headers = security_headers(request.headers.get("Host"), tls, settings)
    if request.method not in ("GET", "HEAD"):
        return _plain(http.HTTPStatus.METHOD_NOT_ALLOWED, [*headers, ("Allow", "GET, HEAD")])
    if asset_name(request.path) == SETTINGS_NAME:
        asset: Asset | None = settings.asset()
    else:
        asset = assets.lookup(request.path)
    if asset is None:
        return _plain(http.HTTPStatus.NOT_FOUND, headers)
    # no-cache: the browser keeps the file but asks each time (a 304 when
    # the ETag still matches), so an upgraded server is never mixed with an
    # old cached script.
    headers += [("Cache-Control", "no-cache"), ("ETag", asset.etag)]
    if asset.etag in _etags(request.headers.get("If-None-Match")):
        return Response(304, "Not Modified", Headers(headers), b"")
    headers += [("Content-Type", asset.content_type), ("Content-Length", str(len(asset.body)))]
    body = b"" if request.method == "HEAD" else asset.body
    return Response(200, "OK", Headers(headers), body)


def _etags(header: str | None) -> list[str]:
    if not header:
        return []
    return [tag.strip().removeprefix("W/") for tag in header.split(",")]


def is_websocket_request(request: Request) -> bool:
    return "websocket" in request.headers.get("Upgrade", "").lower()


def origin_allowed(
    origin: str | None,
    host: str | None,
    tls: bool,
    allowed: Collection[str],
    *,
    loopback_only: bool = False,
) -> bool:
    """Browsers always send Origin: it must be the page's own origin (the
    scheme of this listener and the Host asked for) or be listed in
    ``[web] allowed_origins``. Non-browser clients send none and pass.

    ``loopback_only`` (a listener on a loopback address): the page's own
    origin counts only under a loopback name, so a DNS-rebinding page
    (evil.example resolved to 127.0.0.1, same "origin" as its Host) is refused.
    """
    if origin is None:
        return True
    origin = origin.lower().rstrip("/")
    if origin in allowed:
        return True
    if host is None or origin != f"{'https' if tls else 'http'}://{host.lower()}":
        return False
    return not loopback_only or is_loopback_name(host)


def is_loopback_name(host: str) -> bool:
    """``localhost``, ``127.0.0.1``, ``::1``, ``[::1]`` (with or without a port)."""
    name = host.lower()
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(name).is_loopback  # a bare address
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    else:
        name = name.rsplit(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def forbidden(tls: bool, host: str | None, settings: PageSettings) -> Response:
    return _plain(http.HTTPStatus.FORBIDDEN, security_headers(host, tls, settings))
