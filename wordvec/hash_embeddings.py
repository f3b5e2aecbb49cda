"""Hash (Bloom) embeddings: every word and its character n-grams hashed into one small table.

floret's idea (spaCy's Bloom embeddings, Miranda et al. 2022) for any trainer here: there are no
per-word rows at all. A word's vector is the mean of the table rows of its *bag*, so every word,
seen in training or not, has a vector, and the model is only ``table_rows x dim`` floats.

The scheme, exactly (``scheme = "fnv1a32-splitmix64-v1"`` in stores):

* the *pieces* of a word are ``"<" + word + ">"`` (the whole word with fastText's boundary
  markers) followed by its character n-grams from ``min_n`` to ``max_n`` characters, in
  :func:`wordvec.subwords.char_ngrams` order (fastText's);
* each piece is hashed once with fastText's 32-bit FNV-1a (:func:`wordvec.subwords.fasttext_hash`,
  sign-extended bytes), giving ``h``;
* hash function ``k`` (``0 <= k < n_hashes``) maps ``h`` to the row
  ``splitmix64(((h XOR (k << 32)) + (seed + 1) * 0x9E3779B97F4A7C15) mod 2**64) % table_rows``
  where ``splitmix64(z)`` is the finaliser ``z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
  z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31`` (all mod ``2**64``);
* the bag of a word lists, piece by piece, its ``n_hashes`` rows (repeats kept); the word's
  vector is the float32 sum of the bag's rows in that order divided by the bag size
  (:func:`bag_vectors`).

Everything here is NumPy only (the lookup path): n-grams of a whole vocabulary are cut and
hashed with vectorised array operations, so the trainer, the store and an out-of-vocabulary
query all compute the same bags with the same code, and the same vectors bit for bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError
from wordvec.quantized import RowCodec
from wordvec.subwords import BOW, EOW, FNV_OFFSET_BASIS, FNV_PRIME, char_ngrams, fasttext_hash

HASH_SCHEME = "fnv1a32-splitmix64-v1"
MAX_HASHES = 8
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_FEW_WORDS = 4  # up to this many words, pieces are cut and hashed in plain Python
_BAG_BLOCK = 1024  # words per gather in bag_vectors: bounds the temporary (words x bag x dim)


@dataclass(frozen=True)
class HashParams:
    """How words map to table rows (see the module docstring)."""

    table_rows: int
    n_hashes: int
    min_n: int
    max_n: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.table_rows < 1 or self.table_rows >= 2**31:
            raise ConfigError(f"hash table rows must be in 1..2**31-1 (got {self.table_rows})")
        if not 1 <= self.n_hashes <= MAX_HASHES:
            raise ConfigError(f"n_hashes must be between 1 and {MAX_HASHES} (got {self.n_hashes})")
        if not 1 <= self.min_n <= self.max_n <= 64:
            raise ConfigError(
                f"hash embeddings need 1 <= min_n <= max_n <= 64 (got {self.min_n}..{self.max_n})"
            )
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"hash seed must be in 0..2**32-1 (got {self.seed})")

    def to_attrs(self) -> dict[str, Any]:
        return {
            "table_rows": self.table_rows,
            "n_hashes": self.n_hashes,
            "min_n": self.min_n,
            "max_n": self.max_n,
            "seed": self.seed,
            "scheme": HASH_SCHEME,
        }


@dataclass(frozen=True)
class HashTable:
    """A trained hash-embedding table with its hashing parameters."""

    vectors: NDArray[np.floating[Any]]
    params: HashParams

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != self.params.table_rows:
            raise ConfigError(
                f"hash table must have shape ({self.params.table_rows}, dim) "
                f"(got {self.vectors.shape})"
            )


def piece_hashes(
    words_utf8: NDArray[np.uint8], word_offsets: NDArray[np.int64], min_n: int, max_n: int
) -> tuple[NDArray[np.int64], NDArray[np.uint32]]:
    """FNV-1a hashes of the pieces of every word (whole marked word, then its n-grams in
    fastText order) as CSR: ``(piece_offsets (n_words + 1,), hashes)``. Words are given as
    UTF-8 bytes and offsets (:meth:`wordvec.vocab.Vocab.to_arrays`; the offsets may start
    anywhere in ``words_utf8``)."""
    offsets = np.asarray(word_offsets, dtype=np.int64)
    n = offsets.shape[0] - 1
    blob = np.asarray(words_utf8[int(offsets[0]) : int(offsets[-1])], dtype=np.uint8)
    offsets = offsets - offsets[0]
    if n <= _FEW_WORDS:  # single lookups: plain Python is several times faster than the arrays
        few = _piece_hashes_python(blob.tobytes(), offsets.tolist(), min_n, max_n)
        if few is not None:
            return few
    lengths = np.diff(offsets)
    marked_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths + 2, out=marked_offsets[1:])
    marked = np.empty(int(marked_offsets[-1]), dtype=np.uint8)
    marked[marked_offsets[:-1]] = ord(BOW)
    marked[marked_offsets[1:] - 1] = ord(EOW)
    byte_word = np.repeat(np.arange(n, dtype=np.int64), lengths)
    marked[np.arange(blob.size, dtype=np.int64) + 2 * byte_word + 1] = blob

    # Characters: every byte that is not a UTF-8 continuation byte starts one.
    char_starts = np.flatnonzero((marked & 0xC0) != 0x80).astype(np.int64)
    char_word = np.searchsorted(marked_offsets, char_starts, side="right") - 1
    n_chars = np.bincount(char_word, minlength=n).astype(np.int64)
    first_char = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_chars, out=first_char[1:])
    local = np.arange(char_starts.size, dtype=np.int64) - first_char[char_word]
    char_ends = np.append(char_starts[1:], marked.size)  # words are contiguous
    word_chars = n_chars[char_word]

    starts = [marked_offsets[:-1]]
    ends = [marked_offsets[1:]]
    owners = [np.arange(n, dtype=np.int64)]
    positions = [np.full(n, -1, dtype=np.int64)]  # the whole word comes first
    sizes = [np.zeros(n, dtype=np.int64)]
    for size in range(min_n, max_n + 1):
        ok = local + size <= word_chars
        if size == 1:  # a lone boundary marker is not an n-gram
            ok &= (local > 0) & (local < word_chars - 1)
        chars = np.flatnonzero(ok)
        starts.append(char_starts[chars])
        ends.append(char_ends[chars + size - 1])
        owners.append(char_word[chars])
        positions.append(local[chars])
        sizes.append(np.full(chars.size, size, dtype=np.int64))
    owner = np.concatenate(owners)
    order = np.lexsort((np.concatenate(sizes), np.concatenate(positions), owner))
    start = np.concatenate(starts)[order]
    length = (np.concatenate(ends) - np.concatenate(starts))[order]
    piece_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=piece_offsets[1:])
    return piece_offsets, _fnv1a(marked, start, length)


def _piece_hashes_python(
    blob: bytes, offsets: list[int], min_n: int, max_n: int
) -> tuple[NDArray[np.int64], NDArray[np.uint32]] | None:
    """:func:`piece_hashes` word by word with :mod:`wordvec.subwords` (same result); ``None``
    for bytes that are not valid UTF-8 (the array path cuts those as bytes)."""
    hashes: list[int] = []
    piece_offsets = [0]
    for start, stop in itertools.pairwise(offsets):
        try:
            word = blob[start:stop].decode("utf-8")
        except UnicodeDecodeError:
            return None
        hashes.append(fasttext_hash(b"<" + blob[start:stop] + b">"))
        hashes.extend(fasttext_hash(g) for g in char_ngrams(word, min_n, max_n))
        piece_offsets.append(len(hashes))
    return np.array(piece_offsets, dtype=np.int64), np.array(hashes, dtype=np.uint32)


def _fnv1a(
    data: NDArray[np.uint8], starts: NDArray[np.int64], lengths: NDArray[np.int64]
) -> NDArray[np.uint32]:
    """fastText's FNV-1a of many byte strings at once, one byte position per step."""
    hashes = np.full(starts.size, FNV_OFFSET_BASIS, dtype=np.uint64)
    active = np.arange(starts.size, dtype=np.int64)
    step = 0
    while active.size:
        active = active[lengths[active] > step]
        if not active.size:
            break
        byte = data[starts[active] + step].astype(np.uint64)
        signed = np.where(byte & 0x80, byte | np.uint64(0xFFFFFF00), byte)
        # h < 2**32 and the prime < 2**25: the product fits in 64 bits before the mask.
        hashes[active] = ((hashes[active] ^ signed) * np.uint64(FNV_PRIME)) & np.uint64(0xFFFFFFFF)
        step += 1
    return hashes.astype(np.uint32)


def hash_rows(hashes: NDArray[np.uint32], params: HashParams) -> NDArray[np.int64]:
    """Rows of ``hashes`` under the ``n_hashes`` hash functions: int64 ``(len, n_hashes)``."""
    k = np.arange(params.n_hashes, dtype=np.uint64) << np.uint64(32)
    with np.errstate(over="ignore"):
        z = hashes.astype(np.uint64)[:, None] ^ k[None, :]
        z = z + np.uint64(params.seed + 1) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    return (z % np.uint64(params.table_rows)).astype(np.int64)


def hash_bags(
    words_utf8: NDArray[np.uint8], word_offsets: NDArray[np.int64], params: HashParams
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """CSR of every word's table rows (see the module docstring): ``(bag_offsets, bag_rows)``,
    the form :func:`wordvec.train.subword_bags` gives the trainer."""
    piece_offsets, hashes = piece_hashes(words_utf8, word_offsets, params.min_n, params.max_n)
    rows = hash_rows(hashes, params).reshape(-1).astype(np.int32)
    return piece_offsets * params.n_hashes, rows


def words_to_arrays(words: list[str]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """UTF-8 bytes and offsets of ``words`` (the input of :func:`hash_bags`)."""
    encoded = [w.encode("utf-8", errors="surrogatepass") for w in words]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def bag_vectors(
    table: NDArray[Any], bag_offsets: NDArray[np.int64], bag_rows: NDArray[np.int32]
) -> NDArray[np.float32]:
    """Mean of every bag's rows, float32: summed in bag order, then divided by the bag size.

    Bags are processed a block of words at a time (the gathered rows would otherwise be words x
    bag size x dim); each bag's sum is independent of the others, so the result does not depend
    on the block, which keeps training and lookups bit-identical."""
    n = bag_offsets.shape[0] - 1
    out = np.empty((n, table.shape[1]), dtype=np.float32)
    for first in range(0, n, _BAG_BLOCK):
        last = min(first + _BAG_BLOCK, n)
        lo, hi = int(bag_offsets[first]), int(bag_offsets[last])
        rows = np.asarray(table[bag_rows[lo:hi]], dtype=np.float32)
        sums = np.add.reduceat(rows, bag_offsets[first:last] - lo, axis=0)
        counts = np.diff(bag_offsets[first : last + 1]).astype(np.float32)
        out[first:last] = sums / counts[:, None]
    return out


def center_table(
    table: HashTable, bag_offsets: NDArray[np.int64], bag_rows: NDArray[np.int32]
) -> HashTable:
    """The table minus the mean vector ``c`` of the given bags (a vocabulary's words, equally
    weighted). Every bag mean is a mean of table rows, so each word's vector moves by exactly
    ``-c``: the vocabulary's vectors are centred, and any other word (unseen ones too) is
    moved alike, with nothing stored but the table.

    Why: rows of frequent n-grams are in almost every bag and share the common direction of
    skip-gram vectors, so hash-embedding vectors have a large shared component (mean cosine of
    random word pairs 0.53 in a table of a tenth of the vocabulary, against 0.21 for skip-gram
    rows) that drowns the differences between words that relatedness scores measure."""
    vectors = bag_vectors(table.vectors, bag_offsets, bag_rows)
    mean = vectors.mean(axis=0, dtype=np.float64)
    centred = (np.asarray(table.vectors, dtype=np.float64) - mean).astype(np.float32)
    return HashTable(centred, table.params)


class HashRows(RowCodec):
    """The word matrix of a hash-embedding store: row ``i`` is the bag mean of word ``i``,
    computed on access from the vocabulary and the table (nothing per word is stored)."""

    encoding = "hash"

    def __init__(
        self,
        table: NDArray[Any],
        params: HashParams,
        words_utf8: NDArray[np.uint8],
        word_offsets: NDArray[np.int64],
    ) -> None:
        super().__init__(int(word_offsets.shape[0] - 1), int(table.shape[1]))
        self.table = table
        self.params = params
        self.words_utf8 = words_utf8
        self.word_offsets = word_offsets
        self._bags: tuple[NDArray[np.int64], NDArray[np.int32]] | None = None

    def vectors_of_words(self, words: list[str]) -> NDArray[np.float32]:
        """Vectors of any words (in the vocabulary or not)."""
        blob, offsets = words_to_arrays(words)
        return bag_vectors(self.table, *hash_bags(blob, offsets, self.params))

    def decode_range(self, start: int, stop: int) -> NDArray[np.float32]:
        offsets = self.word_offsets[start : stop + 1]
        return bag_vectors(self.table, *hash_bags(self.words_utf8, offsets, self.params))

    def decode(self, rows: NDArray[np.integer[Any]]) -> NDArray[np.float32]:
        ids = np.asarray(rows, dtype=np.int64).reshape(-1)
        pieces = [
            self.words_utf8[self.word_offsets[i] : self.word_offsets[i + 1]] for i in ids.tolist()
        ]
        offsets = np.zeros(ids.size + 1, dtype=np.int64)
        np.cumsum([p.size for p in pieces], out=offsets[1:])
        blob = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.uint8)
        return bag_vectors(self.table, *hash_bags(blob, offsets, self.params))

    def vocab_bags(self) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
        """The bags of the whole vocabulary, computed on first use and kept (about
        ``4 * n_hashes`` bytes per piece: 25 MB for 70,000 words with 3 hashes)."""
        if self._bags is None:
            self._bags = hash_bags(self.words_utf8, self.word_offsets, self.params)
        return self._bags

    def scorer(self, queries: NDArray[np.float32]) -> Callable[[int, int], NDArray[np.float32]]:
        # A word's dot product with q is the mean of its bag rows' dot products with q: score
        # the table once per query, then every word is a gather and a segmented sum.
        tables = np.asarray(np.asarray(self.table, dtype=np.float32) @ queries, np.float32)
        return lambda start, stop: self._dot_with_tables(tables, start, stop)

    def _dot_with_tables(
        self, tables: NDArray[np.float32], start: int, stop: int
    ) -> NDArray[np.float32]:
        bag_offsets, bag_rows = self.vocab_bags()
        lo, hi = int(bag_offsets[start]), int(bag_offsets[stop])
        sums = np.add.reduceat(tables[bag_rows[lo:hi]], bag_offsets[start:stop] - lo, axis=0)
        counts = np.diff(bag_offsets[start : stop + 1]).astype(np.float32)
        return np.asarray(sums / counts[:, None], dtype=np.float32)

    def dot(self, queries: NDArray[np.float32], start: int, stop: int) -> NDArray[np.float32]:
        return self.scorer(queries)(start, stop)

    def arrays(self) -> dict[str, NDArray[Any]]:
        return {"hash_table": self.table}

    def describe(self) -> dict[str, Any]:
        return {"encoding": self.encoding, **self.params.to_attrs()}
