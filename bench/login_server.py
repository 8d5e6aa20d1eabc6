#!/usr/bin/env python3
"""``hubbub serve`` with N accounts b0..b<N-1> made beforehand, for benchmarks
whose clients log in (``hubbub bench --login``).

The accounts get argon2's cheapest parameters, and the server hashes with
them too (a class attribute, as the tests set it): with the default 64 MiB
hash, logging 1,000 clients in takes minutes, and a login with a cheaper hash
than the server's would be re-hashed at the default cost. Only the cost of
logging in changes; what the benchmark measures (relaying, storing) does not.

  bench/login_server.py --accounts 1000 --password PW -- serve --config FILE
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tomllib
from pathlib import Path

from argon2 import PasswordHasher, profiles

from hubbub.cli import main as hubbub_main
from hubbub.server.app import Server
from hubbub.store import open_store
from hubbub.store.passwords import MIN_SCRAM_ITERATIONS

CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)


async def make_accounts(database: Path, count: int, password: str) -> None:
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = await open_store(database, hasher=CHEAP, scram_iterations=MIN_SCRAM_ITERATIONS)
    try:
        for n in range(count):
            await store.accounts.create(f"b{n}", password)
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--config", type=Path, required=True, help="the server's TOML config")
    args, rest = parser.parse_known_args()
    config = tomllib.loads(args.config.read_text())
    database = Path(config["server"]["data_dir"]) / "hubbub.db"
    asyncio.run(make_accounts(database, args.accounts, args.password))
    Server.password_hasher = CHEAP
    sys.argv = ["hubbub", "serve", "--config", str(args.config), *rest]
    hubbub_main()


if __name__ == "__main__":
    main()
