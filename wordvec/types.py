"""Small shared definitions with no dependencies (the lowest layer with :mod:`wordvec.errors`)."""

from __future__ import annotations

VECTOR_DTYPES = ("float32", "float16")
