"""The one error evaluation adds to :mod:`wordvec.errors`."""

from __future__ import annotations

from wordvec.errors import WordvecError


class EvaluationError(WordvecError, ValueError):
    """An evaluation cannot produce a number: no pair, question or word of the dataset is
    covered by the vectors, or the scores are constant so a correlation is undefined.

    Raised instead of returning NaN; the message names the dataset and what was missing.
    """
