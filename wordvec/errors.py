"""The error tree shared by every part of wordvec.

Every error a user can cause (bad configuration, a malformed file, a store written by another
version) is a :class:`WordvecError`, so the CLI can turn it into a one-line message and a
non-zero exit without catching programming errors by accident.
"""

from __future__ import annotations

import os


class WordvecError(Exception):
    """Base class of all errors wordvec raises on purpose."""


class ConfigError(WordvecError, ValueError):
    """A parameter is out of range or parameters contradict each other."""


class FormatError(WordvecError):
    """A file does not hold what its format promises.

    The message names the file and, where it is known, the line or record number, so a user can
    open the file at the faulty place.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        problem: str,
        *,
        line: int | None = None,
        record: int | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        self.line = line
        self.record = record
        where = self.path
        if line is not None:
            where += f", line {line}"
        if record is not None:
            where += f", record {record}"
        super().__init__(f"{where}: {problem}")


class StoreError(FormatError):
    """A wordvec store file is missing, truncated, corrupted or not a store at all."""


class StoreVersionError(StoreError):
    """A store was written in a format version this wordvec cannot read."""


class TrainingDivergedError(WordvecError):
    """Training produced non-finite values; lower the learning rate."""
