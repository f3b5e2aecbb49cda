"""Row codecs: how the rows of a store's matrix are encoded, read and scored without decoding
the whole matrix (fastText's idea of one matrix interface over dense and quantized tables, so
compression changes no caller).

* :class:`DenseRows`: float32 or float16 rows as stored.
* :class:`Int8Rows`: symmetric scalar quantization with one scale per row,
  ``x ~ scale[i] * values[i]`` with ``values`` in ``[-127, 127]``.
* :class:`ProductCodes` (product quantization, Jegou et al., TPAMI 2011): the dimensions
  (optionally after an orthogonal rotation, as in optimized PQ) are split into ``M``
  consecutive sub-spaces (sizes differing by at most one); each sub-vector is replaced by the
  index of one of ``K`` codewords of its sub-space's codebook.
* :class:`AdditiveCodes` (residual/additive quantization): ``x ~ sum_m C_m[code_m]`` with ``M``
  full-dimensional codebooks of ``K`` codewords.

Codebook codes are scored by *asymmetric distance computation*: for a query ``q`` a lookup table
``T[m, k] = q . C_m[k]`` (restricted to the sub-space for PQ) is computed once, then the dot
product with any encoded row is ``sum_m T[m, code_m]``, a gather and a sum over ``M`` numbers
instead of ``dim`` multiplications. Only NumPy is needed here: this is the lookup path.

:class:`WordMatrix` puts a codec behind the array interface word vectors are read through
(``matrix[i]``, ``matrix[a:b]``, ``matrix[ids]``, ``np.asarray(matrix)``), mapping word ids to
rows (frequency pruning shares one row among several words).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

ENCODINGS = ("dense", "int8", "pq", "rq", "hash")
_DECODE_ROWS = 1 << 15

_WIDEN_ROWS = 4096  # float16 rows widened to float32 per step when scoring


class RowCodec(ABC):
    """``n_rows`` encoded vectors of dimension ``dim``; subclasses say how they are stored."""

    encoding = "dense"

    def __init__(self, n_rows: int, dim: int) -> None:
        self.n_rows = n_rows
        self.dim = dim

    @abstractmethod
    def decode(self, rows: NDArray[np.integer[Any]]) -> NDArray[np.float32]:
        """Rows ``rows`` (valid, any order, repeats allowed) as float32 ``(len(rows), dim)``."""
        raise NotImplementedError

    def decode_range(self, start: int, stop: int) -> NDArray[np.float32]:
        """Rows ``start`` to ``stop - 1`` as float32 ``(stop - start, dim)``."""
        return self.decode(np.arange(start, stop, dtype=np.int64))

    @abstractmethod
    def dot(self, queries: NDArray[np.float32], start: int, stop: int) -> NDArray[np.float32]:
        """Dot products of rows ``start..stop-1`` with the columns of ``queries`` (float32
        ``(dim, Q)``): float32 ``(stop - start, Q)``, equal (to rounding) to
        ``decode_range(start, stop) @ queries``."""
        raise NotImplementedError

    def scorer(self, queries: NDArray[np.float32]) -> Callable[[int, int], NDArray[np.float32]]:
        """``f(start, stop) == dot(queries, start, stop)``, with any per-query work (lookup
        tables) done once."""
        return lambda start, stop: self.dot(queries, start, stop)

    @abstractmethod
    def arrays(self) -> dict[str, NDArray[Any]]:
        """The datasets that hold the rows in a store, by name."""
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        """Bytes of the encoded rows (what the matrix costs on disk)."""
        return sum(int(a.nbytes) for a in self.arrays().values())

    def describe(self) -> dict[str, Any]:
        """Parameters of the encoding, for reports."""
        return {"encoding": self.encoding}


class DenseRows(RowCodec):
    """Rows stored as they are (float32 or float16)."""

    def __init__(self, matrix: NDArray[Any]) -> None:
        super().__init__(int(matrix.shape[0]), int(matrix.shape[1]))
        self.matrix = matrix

    def decode(self, rows: NDArray[np.integer[Any]]) -> NDArray[np.float32]:
        return np.asarray(self.matrix[rows], dtype=np.float32)

    def decode_range(self, start: int, stop: int) -> NDArray[np.float32]:
        return np.asarray(self.matrix[start:stop], dtype=np.float32)

    def dot(self, queries: NDArray[np.float32], start: int, stop: int) -> NDArray[np.float32]:
        block = self.matrix[start:stop]
        with np.errstate(all="ignore"):  # a damaged store may hold inf; never warn per block
            if block.dtype == np.float32:
                return np.asarray(block @ queries, dtype=np.float32)
            # float16 rows are widened a few thousand at a time into one reused buffer that
            # stays in cache: 1.6x faster than widening the whole block at once (26 against
            # 41 ms for 50,000 x 300), the conversion itself being most of the cost.
            out = np.empty((block.shape[0], queries.shape[1]), dtype=np.float32)
            buffer = np.empty((min(_WIDEN_ROWS, block.shape[0]), block.shape[1]), np.float32)
            for first in range(0, block.shape[0], _WIDEN_ROWS):
                last = min(first + _WIDEN_ROWS, block.shape[0])
                widened = buffer[: last - first]
                np.copyto(widened, block[first:last], casting="unsafe")
                np.matmul(widened, queries, out=out[first:last])
            return out

    def arrays(self) -> dict[str, NDArray[Any]]:
        return {"vectors": self.matrix}

    def describe(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "dtype": str(self.matrix.dtype)}


class Int8Rows(RowCodec):
    """``x[i] ~ scales[i] * values[i]``: int8 ``values`` ``(n, dim)`` in ``[-127, 127]``,
    float32 ``scales`` ``(n,)`` (the row's largest absolute value / 127)."""

    encoding = "int8"

    def __init__(self, values: NDArray[np.int8], scales: NDArray[np.float32]) -> None:
        super().__init__(int(values.shape[0]), int(values.shape[1]))
        self.values = values
        self.scales = scales

    @classmethod
    def encode(cls, matrix: NDArray[Any]) -> Int8Rows:
        """Quantize float rows (in blocks, so a memory map need not fit in RAM)."""
        n, dim = matrix.shape
        values = np.empty((n, dim), dtype=np.int8)
        scales = np.empty(n, dtype=np.float32)
        for start in range(0, n, _DECODE_ROWS):
            block = np.asarray(matrix[start : start + _DECODE_ROWS], dtype=np.float32)
            peak = np.abs(block).max(axis=1)
            scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
            values[start : start + block.shape[0]] = np.rint(block / scale[:, None])
            scales[start : start + block.shape[0]] = scale
        return cls(values, scales)

    def decode(self, rows: NDArray[np.integer[Any]]) -> NDArray[np.float32]:
        return self.values[rows].astype(np.float32) * self.scales[rows][..., None]

    def decode_range(self, start: int, stop: int) -> NDArray[np.float32]:
        return self.values[start:stop].astype(np.float32) * self.scales[start:stop, None]

    def dot(self, queries: NDArray[np.float32], start: int, stop: int) -> NDArray[np.float32]:
        raw = self.values[start:stop].astype(np.float32) @ queries
        raw *= self.scales[start:stop, None]
        return raw

    def arrays(self) -> dict[str, NDArray[Any]]:
        return {"vectors": self.values, "vector_scales": self.scales}


class CodebookRows(RowCodec):
    """Rows given by ``M`` codes each, indices into ``M`` codebooks of ``K`` codewords; scored
    by asymmetric distance computation over per-query lookup tables."""

    def __init__(
        self, codes: NDArray[np.unsignedinteger[Any]], codebooks: NDArray[np.float32], dim: int
    ) -> None:
        super().__init__(int(codes.shape[0]), dim)
        self.codes = codes
        self.codebooks = codebooks
        self.n_codebooks = int(codebooks.shape[0])
        self.n_codewords = int(codebooks.shape[1])
        # Row m*K + k of a flattened table is codeword k of codebook m.
        self._code_offsets = np.arange(self.n_codebooks, dtype=np.intp) * self.n_codewords

    @abstractmethod
    def tables(self, queries: NDArray[np.float32]) -> NDArray[np.float32]:
        """Lookup tables for the columns of ``queries`` ``(dim, Q)``: float32 ``(M * K, Q)``,
        row ``m * K + k`` holding ``q . C_m[k]``."""
        raise NotImplementedError

    def _flat_codes(self, codes: NDArray[Any]) -> NDArray[np.intp]:
        return codes.astype(np.intp) + self._code_offsets

    def dot(self, queries: NDArray[np.float32], start: int, stop: int) -> NDArray[np.float32]:
        return self.dot_with_tables(self.tables(queries), start, stop)

    def scorer(self, queries: NDArray[np.float32]) -> Callable[[int, int], NDArray[np.float32]]:
        tables = self.tables(queries)
        return lambda start, stop: self.dot_with_tables(tables, start, stop)

    def dot_with_tables(
        self, tables: NDArray[np.float32], start: int, stop: int
    ) -> NDArray[np.float32]:
        """:meth:`dot` with tables from :meth:`tables` (computed once for all blocks)."""
        out = np.empty((stop - start, tables.shape[1]), dtype=np.float32)
        for first in range(start, stop, _DECODE_ROWS):
            last = min(first + _DECODE_ROWS, stop)
            flat = self._flat_codes(self.codes[first:last])
            if tables.shape[1] == 1:
                out[first - start : last - start, 0] = np.take(tables[:, 0], flat).sum(
                    axis=1, dtype=np.float32
                )
            else:
                out[first - start : last - start] = np.take(tables, flat, axis=0).sum(
                    axis=1, dtype=np.float32
                )
        return out

    def arrays(self) -> dict[str, NDArray[Any]]:
        return {"codes": self.codes, "codebooks": self.codebooks}

    def describe(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "codebooks": self.n_codebooks,
            "codewords": self.n_codewords,
            "bytes_per_row": int(self.codes.shape[1] * self.codes.dtype.itemsize),
        }


def subspace_sizes(dim: int, n_codebooks: int) -> NDArray[np.int64]:
    """Dimensions of each PQ sub-space: ``dim // M``, one more for the first ``dim % M``."""
    sizes = np.full(n_codebooks, dim // n_codebooks, dtype=np.int64)
    sizes[: dim % n_codebooks] += 1
    return sizes


class ProductCodes(CodebookRows):
    """Product quantization: codebooks float32 ``(M, K, dsub)`` with ``dsub = ceil(dim / M)``;
    sub-space ``m`` covers the next :func:`subspace_sizes` ``[m]`` dimensions and its
    codewords are zero beyond that size. With a ``rotation`` (orthogonal float32
    ``(dim, dim)``) the codes describe ``x @ rotation`` and a row decodes to
    ``concatenated_codewords @ rotation.T``."""

    encoding = "pq"

    def __init__(
        self,
        codes: NDArray[np.unsignedinteger[Any]],
        codebooks: NDArray[np.float32],
        dim: int,
        rotation: NDArray[np.float32] | None = None,
    ) -> None:
        super().__init__(codes, codebooks, dim)
        self.rotation = rotation
        sizes = subspace_sizes(dim, self.n_codebooks)
        dsub = int(codebooks.shape[2])
        # Position of every real dimension in the padded (M * dsub) layout.
        self.columns = np.concatenate(
            [m * dsub + np.arange(size, dtype=np.intp) for m, size in enumerate(sizes.tolist())]
        )

    def decode(self, rows: NDArray[np.integer[Any]]) -> NDArray[np.float32]:
        codes = self.codes[rows]
        padded = np.take(
            self.codebooks.reshape(-1, self.codebooks.shape[2]), self._flat_codes(codes), axis=0
        )
        rotated = padded.reshape(codes.shape[0], -1)[:, self.columns]
        if self.rotation is not None:
            return np.asarray(rotated @ self.rotation.T, dtype=np.float32)
        return np.ascontiguousarray(rotated)

    def tables(self, queries: NDArray[np.float32]) -> NDArray[np.float32]:
        if self.rotation is not None:  # q . (y R^T) = (R^T q) . y
            queries = np.asarray(self.rotation.T @ queries, dtype=np.float32)
        n_queries = queries.shape[1]
        padded = np.zeros(
            (self.codebooks.shape[0] * self.codebooks.shape[2], n_queries), np.float32
        )
        padded[self.columns] = queries
        padded_3d = padded.reshape(self.codebooks.shape[0], self.codebooks.shape[2], n_queries)
        tables = np.matmul(self.codebooks, padded_3d)  # (M, K, Q)
        return tables.reshape(-1, n_queries)

    def arrays(self) -> dict[str, NDArray[Any]]:
        found = super().arrays()
        if self.rotation is not None:
            found["rotation"] = self.rotation
        return found

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "rotated": self.rotation is not None}


class AdditiveCodes(CodebookRows):
    """Additive (residual) quantization: codebooks float32 ``(M, K, dim)``, a row is the sum of
    one codeword of each codebook."""

    encoding = "rq"

    def decode(self, rows: NDArray[np.integer[Any]]) -> NDArray[np.float32]:
        codes = self.codes[rows]
        out = np.zeros((codes.shape[0], self.dim), dtype=np.float32)
        for m in range(self.n_codebooks):
            out += self.codebooks[m][codes[:, m]]
        return out

    def tables(self, queries: NDArray[np.float32]) -> NDArray[np.float32]:
        tables = np.matmul(self.codebooks, queries)  # (M, K, Q)
        return tables.reshape(-1, queries.shape[1])


def row_norms(codec: RowCodec) -> NDArray[np.float32]:
    """Euclidean norm of every decoded row, float32 ``(n_rows,)`` (computed block by block)."""
    norms = np.empty(codec.n_rows, dtype=np.float32)
    for start in range(0, codec.n_rows, _DECODE_ROWS):
        stop = min(start + _DECODE_ROWS, codec.n_rows)
        block = codec.decode_range(start, stop)
        norms[start:stop] = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))
    return norms


class WordMatrix:
    """The ``(n_words, dim)`` float32 matrix of word vectors over a codec, decoded on access.

    Supports what readers of a plain matrix use: ``m[i]``, ``m[a:b]``, ``m[ids]`` (any integer
    array), ``m[rows, cols]``, ``len(m)``, ``m.shape``, ``np.asarray(m)``. ``word_rows`` maps
    word ids to codec rows (``None``: word ``i`` is row ``i``).
    """

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, codec: RowCodec, word_rows: NDArray[np.int32] | None, n_words: int) -> None:
        self.codec = codec
        self.word_rows = word_rows
        self.shape = (n_words, codec.dim)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"WordMatrix({self.codec.encoding}, shape={self.shape})"

    def rows_of(self, word_ids: NDArray[np.integer[Any]]) -> NDArray[np.int64]:
        """The codec rows of ``word_ids`` (valid ids)."""
        ids = np.asarray(word_ids, dtype=np.int64)
        if self.word_rows is None:
            return ids
        return self.word_rows[ids].astype(np.int64)

    def __getitem__(self, key: Any) -> NDArray[np.float32]:
        if isinstance(key, tuple):
            if len(key) == 0:
                return np.asarray(self)
            rows = self[key[0]]
            return rows[(slice(None),) * (rows.ndim - 1) + key[1:]] if len(key) > 1 else rows
        n = self.shape[0]
        if isinstance(key, (int, np.integer)):
            index = int(key)
            if not -n <= index < n:
                raise IndexError(f"index {index} is out of bounds for {n} words")
            return self.codec.decode(self.rows_of(np.array([index % n])))[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step == 1 and self.word_rows is None:
                return self.codec.decode_range(start, max(start, stop))
            ids = np.arange(start, stop, step, dtype=np.int64)
        else:
            ids = np.asarray(key)
            if ids.size == 0:
                ids = ids.astype(np.int64)
            if ids.dtype == np.bool_:
                ids = np.flatnonzero(ids)
            elif not np.issubdtype(ids.dtype, np.integer):
                raise IndexError(f"word matrix indices must be integers (got {ids.dtype})")
            ids = ids.astype(np.int64)
            if ids.size and (ids.min() < -n or ids.max() >= n):
                raise IndexError(f"index out of bounds for {n} words")
            ids = ids % n if ids.size else ids
        flat = ids.reshape(-1)
        out = self._decode_ids(flat)
        return out.reshape((*ids.shape, self.shape[1]))

    def _decode_ids(self, ids: NDArray[np.int64]) -> NDArray[np.float32]:
        out = np.empty((ids.shape[0], self.shape[1]), dtype=np.float32)
        for start in range(0, ids.shape[0], _DECODE_ROWS):
            chunk = ids[start : start + _DECODE_ROWS]
            out[start : start + chunk.shape[0]] = self.codec.decode(self.rows_of(chunk))
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        whole = self[0 : self.shape[0]]
        return whole if dtype is None else whole.astype(dtype)
