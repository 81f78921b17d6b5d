"""The ``genept`` command line: a thin layer over the Python API.

Each module in this package adds one group of subcommands through ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from genept import __version__

# Subcommand groups, each a module of this package with a ``register`` function.
COMMAND_MODULES = ("genes", "cells", "bench", "query", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genept",
        description="Gene and single-cell embeddings from written knowledge about genes (GenePT).",
    )
    parser.add_argument("--version", action="version", version=f"genept {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"genept.cli.{name}")
        except ModuleNotFoundError as err:  # a group still being written
            if err.name != f"genept.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as err:
        print(f"genept {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # disk full, permissions, unreadable files: outputs are written atomically
        print(f"genept {args.command}: error: {err}; no output file was left half-written", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished work is kept (caches and completed files)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
