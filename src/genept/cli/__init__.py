"""The ``genept`` command line: a thin layer over the Python API.

Each module in this package adds one group of subcommands through ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

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


def _leaf_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> set[str]:
    """Long option strings of the (sub)command the user ran, e.g. ``{"--transform", "--layer", ...}``."""
    options: set[str] = set()
    while True:
        options.update(o for a in parser._actions for o in a.option_strings if o.startswith("--"))
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or getattr(args, subs[0].dest, None) not in subs[0].choices:
            return options
        parser = subs[0].choices[getattr(args, subs[0].dest)]


_KWARG = re.compile(r"""(?<![\w.])([a-z][a-z0-9_]*)=(?:'([^']*)'|"([^"]*)"|([\w.+-]+))?""")


def to_cli_words(message: str, options: set[str]) -> str:
    """Rewrite Python keyword advice (``transform='counts'``, ``layer=``) as the command's flags.

    Only keywords that are options of the command run are rewritten, so the advice can be followed.

    Examples
    --------
    >>> to_cli_words("Pass transform='counts' or point layer= at the raw counts.", {"--transform", "--layer"})
    'Pass --transform counts or point --layer at the raw counts.'
    >>> to_cli_words("use_raw=True is not a flag here", {"--layer"})
    'use_raw=True is not a flag here'
    """

    def swap(m: re.Match) -> str:
        flag = "--" + m.group(1).replace("_", "-")
        if flag not in options:
            return m.group(0)
        value = next((g for g in m.groups()[1:] if g is not None), None)
        return flag if not value else f"{flag} {value}"

    return _KWARG.sub(swap, message)


class _Once(logging.Handler):
    """Collects warnings (logging and ``warnings.warn``) and prints each cause once, with a count.

    A cause is a message template (for logging) or a message text (for ``warnings``). Repeats of a
    counted template such as ``"%d of %d texts are longer than %d tokens ..."`` (one per batch) become
    one line whose varying counts are summed.
    """

    def __init__(self, prefix: str, options: set[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.prefix, self.options = prefix, options
        self.causes: dict[Any, list[Any]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        fixed = tuple(a for a in args if isinstance(a, str))  # the cause includes its names, not its counts
        key = (record.name, str(record.msg), fixed)
        self.causes.setdefault(key, []).append((str(record.msg), args, record.getMessage()))

    def warn(self, message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        text = str(message)
        self.causes.setdefault(("warnings", category.__name__, text), []).append((text, (), text))

    def lines(self) -> list[str]:
        out = []
        for seen in self.causes.values():
            template, args, text = seen[-1]
            if len(seen) > 1:
                text = self._merge(template, [a for _, a, _ in seen]) or f"{text} ({len(seen)} times)"
            out.append(f"{self.prefix}warning: {to_cli_words(text, self.options)}")
        return out

    @staticmethod
    def _merge(template: str, all_args: list[tuple]) -> str | None:
        """Sum the varying whole-number arguments of a counted template ("%d of %d ..."); None if it is not one."""
        at = template.find("%d of %d")
        if at < 0 or len({len(a) for a in all_args}) != 1 or not all_args[0]:
            return None
        first = len([m for m in re.findall(r"%[-#0 +]*\d*(?:\.\d+)?[a-z%]", template[:at]) if m != "%%"])
        merged = []
        for i, values in enumerate(zip(*all_args, strict=True)):
            counts = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
            # the "N of M" pair always adds up; another whole number only when it varies (a limit stays as is)
            if counts and (i in (first, first + 1) or len(set(values)) > 1):
                merged.append(sum(values))
            else:
                merged.append(values[-1])
        try:
            return (template % tuple(merged)) + f" (summed over {len(all_args)} reports)"
        except (TypeError, ValueError):
            return None

    def flush_to(self, stream) -> None:
        for line in self.lines():
            print(line, file=stream)
        self.causes.clear()


@contextlib.contextmanager
def _console(prefix: str, options: set[str], verbose: bool) -> Iterator[_Once]:
    """Route log records and Python warnings to the console for the duration of one command.

    Warnings are collected and printed once per cause at the end, without source paths or code
    lines; ``-v`` adds INFO messages (printed as they come) and third-party deprecation notices.
    """
    root = logging.getLogger()
    once = _Once(prefix, options)
    info = logging.StreamHandler(sys.stderr)
    info.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    info.addFilter(lambda r: r.levelno < logging.WARNING)
    old_level = root.level
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.addHandler(once)
    root.addHandler(info)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        if not verbose:
            for cat in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.simplefilter("ignore", cat)
            # genept's own deprecations are advice for this user: keep them
            warnings.filterwarnings("always", category=DeprecationWarning, module=r"genept\.")
        warnings.showwarning = once.warn
        try:
            yield once
        finally:
            root.removeHandler(once)
            root.removeHandler(info)
            root.setLevel(old_level)
            once.flush_to(sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    options = _leaf_options(parser, args)
    name = args.command
    with _console(f"genept {name}: ", options, args.verbose):
        try:
            return int(args.func(args) or 0)
        except (ValueError, FileNotFoundError, ImportError, RuntimeError) as err:
            print(f"genept {name}: error: {to_cli_words(str(err), options)}", file=sys.stderr)
            return 2
        except OSError as err:  # disk full, permissions, unreadable files: outputs are written atomically
            print(f"genept {name}: error: {err}; no output file was left half-written", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted; finished work is kept (caches and completed files)", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
