"""Run one tutorial client with its hard-coded port replaced:

    python -u run.py CLIENT_FILE TUTORIAL_PORT TEST_PORT [ARG...]

The file itself stays as the tutorial wrote it; only the number of its port
is swapped in the source it executes, so tests can use an ephemeral port."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def main() -> None:
    path, tutorial_port, test_port, *args = sys.argv[1:]
    source = Path(path).read_text(encoding="utf-8")
    swapped, count = re.subn(rf"\b{tutorial_port}\b", test_port, source)
    if count != 1:
        raise SystemExit(f"{path}: expected the port {tutorial_port} once, found it {count} times")
    sys.argv = [path, *args]
    exec(compile(swapped, path, "exec"), {"__name__": "__main__", "__file__": path})


if __name__ == "__main__":
    main()
