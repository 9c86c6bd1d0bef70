"""The ``saraban`` command line.

Each area adds its own sub-commands through a ``register(subparsers)`` function, so this
module stays a thin dispatcher. Exit status: 0 success, 2 invalid input (errors on stderr),
1 anything else that went wrong.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from saraban import __version__
from saraban.errors import SarabanError

# Modules that contribute sub-commands; each has register(subparsers).
_COMMAND_MODULES = (
    "saraban.templates._cli",
    "saraban.templates._forms_cli",
    "saraban.archive._cli",
    "saraban.archive._signing_cli",
    "saraban.archive._circulars_cli",
    "saraban.indexer._cli",
    "saraban.service._cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saraban",
        description="งานสารบรรณ: Thai official letters, registers, archive and search.",
    )
    parser.add_argument("--version", action="version", version=f"saraban {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SarabanError as exc:
        print(f"saraban: {exc.message}", file=sys.stderr)
        return 2 if 400 <= exc.status < 500 else 1
    except KeyboardInterrupt:
        print("saraban: interrupted / ยกเลิกแล้ว", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
