"""``python -m esb.testing.table connector|source KIND``: the options table of an installed
plugin, to paste into its README (the contract suite checks the README holds it)."""

from __future__ import annotations

import sys

from esb.connectors import load_registry
from esb.sdk import options_table


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("connector", "source"):
        print("usage: python -m esb.testing.table connector|source KIND", file=sys.stderr)
        return 2
    registry = load_registry()
    models = registry.configs if argv[0] == "connector" else registry.inbound_configs
    if argv[1] not in models:
        print(f"no {argv[0]} {argv[1]!r} is installed: {sorted(models)}", file=sys.stderr)
        return 1
    print(options_table(models[argv[1]]), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
