"""Accept any TLS client certificate, so SASL EXTERNAL can use self-signed ones.

Python's ``ssl`` module has no verify callback: with ``CERT_OPTIONAL`` a
client certificate that does not chain to a loaded CA fails the handshake,
and IRC client certificates are self-signed. We are not verifying an
identity here, only reading the certificate's fingerprint (which accounts
bind with NickServ CERT ADD), so the server context gets OpenSSL's own
``SSL_CTX_set_verify`` with a callback that accepts every certificate.

The ``SSL_CTX*`` is read out of the ``SSLContext`` object through ``ctypes``.
That is guarded: the libssl we load must be the one ``_ssl`` uses (same
version string), and the pointer must behave like the context's (its verify
mode follows ``SSLContext.verify_mode``). If any check fails, client
certificates are simply not requested and EXTERNAL reports that no
certificate was presented.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import ssl
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SSL_VERIFY_NONE = 0
_SSL_VERIFY_PEER = 1
_VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


def _accept(preverify_ok: int, store_ctx: int | None) -> int:
    return 1


_accept_any = _VERIFY_CALLBACK(_accept)  # kept alive for as long as OpenSSL may call it


_libssl: Any = None
_loaded = False


def _candidate_paths() -> list[str]:
    """The libssl mapped into this process (Linux), then the usual names."""
    found: list[str] = []
    maps = Path("/proc/self/maps")
    try:
        for line in maps.read_text().splitlines():
            path = line.split()[-1] if " /" in line else ""
            if "libssl" in Path(path).name and path not in found:
                found.append(path)
    except OSError:
        pass
    name = ctypes.util.find_library("ssl")
    found.extend(x for x in (name, "libssl.so.3", "libssl.so") if x and x not in found)
    return found


def _load_libssl() -> Any:
    global _libssl, _loaded
    if _loaded:
        return _libssl
    _loaded = True
    for path in _candidate_paths():
        try:
            lib = ctypes.CDLL(path)
            lib.OpenSSL_version.restype = ctypes.c_char_p
            lib.OpenSSL_version.argtypes = [ctypes.c_int]
            version = lib.OpenSSL_version(0).decode()
        except (OSError, AttributeError):
            continue
        if version != ssl.OPENSSL_VERSION:
            continue
        lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
        lib.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_set_verify.restype = None
        lib.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CALLBACK]
        _libssl = lib
        break
    return _libssl


def _ctx_pointer(context: ssl.SSLContext, lib: Any) -> int | None:
    """The SSL_CTX* of ``context``: the first field after the object header."""
    pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not pointer:
        return None
    saved = context.verify_mode
    try:
        context.verify_mode = ssl.CERT_NONE
        if lib.SSL_CTX_get_verify_mode(pointer) != _SSL_VERIFY_NONE:
            return None
        context.verify_mode = ssl.CERT_OPTIONAL
        if lib.SSL_CTX_get_verify_mode(pointer) != _SSL_VERIFY_PEER:
            return None
    finally:
        context.verify_mode = saved
    return int(pointer)


def request_client_certificates(context: ssl.SSLContext) -> bool:
    """Ask TLS clients for a certificate and accept whatever they present.

    Returns False (and leaves ``context`` as it was) when this Python's ssl
    module cannot be adjusted safely.
    """
    lib = _load_libssl()
    if lib is None:
        log.warning("TLS client certificates disabled: the process's libssl was not found")
        return False
    pointer = _ctx_pointer(context, lib)
    if pointer is None:
        log.warning("TLS client certificates disabled: unexpected ssl.SSLContext layout")
        return False
    context.verify_mode = ssl.CERT_OPTIONAL
    lib.SSL_CTX_set_verify(pointer, _SSL_VERIFY_PEER, _accept_any)
    # CPython keeps the installed callback when verify_mode is set again.
    context.verify_mode = ssl.CERT_OPTIONAL
    return True


def peer_fingerprint(transport: Any) -> str | None:
    """SHA-256 (lower-case hex) of the certificate the TLS peer presented."""
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    return hashlib.sha256(der).hexdigest()
