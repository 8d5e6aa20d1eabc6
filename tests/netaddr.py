"""A non-loopback address on this host, for tests of what the server allows
only from loopback (passwords over plaintext) or refuses per host (K-lines).

The fixture binds the address 10.99.0.1/32 to the ``lo`` interface if it is
not there yet: the kernel then routes it locally, yet it is not a loopback
address (127.0.0.0/8), so the server treats a client connecting from it as
remote. ``lo`` rather than a dummy interface, because the dummy module is
often missing in containers. Adding it needs CAP_NET_ADMIN (the test
containers run as root). Where it cannot be added the tests skip, except on
CI (``CI=true``), where that is a failure: the tests must run there.

The root conftest lists it in ``pytest_plugins``, so any test can ask for
the ``non_loopback_address`` fixture.
"""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

ADDRESS = "10.99.0.1"


def _bindable(address: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True


def _add_address(address: str) -> str:
    """Add ``address`` to lo; returns why it failed ('' on success). Another
    test process adding it at the same moment is fine: bindable either way."""
    try:
        result = subprocess.run(
            ["ip", "addr", "add", f"{address}/32", "dev", "lo"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    return result.stderr.strip()


@pytest.fixture(scope="session")
def non_loopback_address() -> str:
    """An address of this host that is not loopback, to listen on and to
    connect from."""
    if not _bindable(ADDRESS):
        error = _add_address(ADDRESS)
        if not _bindable(ADDRESS):
            message = f"cannot add the test address {ADDRESS} to lo: {error or 'not bindable'}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    return ADDRESS
