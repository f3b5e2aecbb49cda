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


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def format_vector(values: Any) -> str:
    return " ".join(f"{float(x):.6g}" for x in values)
