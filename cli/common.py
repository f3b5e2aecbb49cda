"""What every command shares: turning wordvec's errors into one-line messages and JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from wordvec.errors import WordvecError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Print a :class:`WordvecError` (or a ``KeyError`` for an unknown word) as
    ``error: ...`` on stderr and exit with status 1, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WordvecError as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0]) if exc.args else "unknown key") from exc

    return wrapper  # type: ignore[return-value]


def vocabulary_options(command: F) -> F:
    """``--min-count``, ``--max-vocab`` and ``--lowercase``: how every trainer builds its
    vocabulary."""
    options = [
        click.option(
            "--min-count",
            type=click.IntRange(min=1),
            default=5,
            show_default=True,
            help="Ignore words seen fewer times.",
        ),
        click.option(
            "--max-vocab",
            type=click.IntRange(min=1),
            default=None,
            help="Keep at most this many words (the most frequent).",
        ),
        click.option("--lowercase", is_flag=True, help="Lowercase the corpus."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def store_output_options(command: F) -> F:
    """``--dtype``, ``--resume`` and ``--json``: how every trainer writes and reports its
    store."""
    options = [
        click.option(
            "--dtype",
            type=click.Choice(["float32", "float16"]),
            default="float32",
            show_default=True,
            help="Precision of the stored vectors.",
        ),
        click.option(
            "--resume", is_flag=True, help="Continue an interrupted run from its checkpoint."
        ),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON summary."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def format_vector(values: Any) -> str:
    return " ".join(f"{float(x):.6g}" for x in values)
