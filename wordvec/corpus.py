"""A corpus encoded as word ids: one int32 array of token ids plus sentence offsets.

Encoding streams the text chunk by chunk into a memory-mapped temporary file, so a corpus larger
than RAM can be trained on; tokens not in the vocabulary are dropped (as word2vec and fastText
drop them before windowing) and over-long lines are cut into sentences of at most
``max_sentence_length`` tokens.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError
from wordvec.progress import Progress
from wordvec.textio import DEFAULT_CHUNK_BYTES, PathLike, check_unicode_errors, iter_corpus_blocks
from wordvec.vocab import Vocab, _as_paths, check_vocab_limits

DEFAULT_MAX_SENTENCE_LENGTH = 10_000


@dataclass
class EncodedCorpus:
    """``token_ids[sentence_offsets[i]:sentence_offsets[i + 1]]`` is sentence ``i``.

    ``token_ids`` is a read-only memory map of ``path`` (deleted by :meth:`close`, or on leaving
    a ``with`` block); ``n_raw_tokens`` counts the tokens before out-of-vocabulary ones were
    dropped.
    """

    token_ids: NDArray[np.int32]
    sentence_offsets: NDArray[np.int64]
    n_raw_tokens: int
    path: str | None = None

    @property
    def n_tokens(self) -> int:
        return int(self.token_ids.shape[0])

    @property
    def n_sentences(self) -> int:
        return int(self.sentence_offsets.shape[0] - 1)

    def sentence(self, i: int) -> NDArray[np.int32]:
        return self.token_ids[self.sentence_offsets[i] : self.sentence_offsets[i + 1]]

    def close(self) -> None:
        self.token_ids = np.empty(0, dtype=np.int32)
        if self.path is not None and os.path.exists(self.path):
            os.remove(self.path)
        self.path = None

    def __enter__(self) -> EncodedCorpus:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _close_sentence(offsets: array[int], stop: int, max_sentence_length: int) -> None:
    """End the open sentence at token ``stop``, cutting it into pieces no longer than
    ``max_sentence_length``; an empty sentence (blank line, all tokens unknown) is not added."""
    while stop - offsets[-1] > max_sentence_length:
        offsets.append(offsets[-1] + max_sentence_length)
    if stop > offsets[-1]:
        offsets.append(stop)


def _encoded(tmp_path: str, offsets: array[int], n_kept: int, n_raw: int) -> EncodedCorpus:
    """The encoded corpus whose ``n_kept`` token ids were written to ``tmp_path`` (mapped, not
    read), with its sentence ``offsets``."""
    if n_kept:
        token_ids: NDArray[np.int32] = np.memmap(tmp_path, dtype=np.int32, mode="r")
    else:
        token_ids = np.empty(0, dtype=np.int32)
    return EncodedCorpus(
        token_ids=token_ids,
        sentence_offsets=np.frombuffer(offsets, dtype=np.int64).copy(),
        n_raw_tokens=n_raw,
        path=tmp_path,
    )


def encode_corpus(
    paths: PathLike | Sequence[PathLike],
    vocab: Vocab,
    *,
    lowercase: bool = False,
    max_sentence_length: int = DEFAULT_MAX_SENTENCE_LENGTH,
    unicode_errors: str = "strict",
    workdir: PathLike | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: bool | None = False,
) -> EncodedCorpus:
    """Encode text files into an :class:`EncodedCorpus` of ids of ``vocab``.

    Use the same ``lowercase`` and ``unicode_errors`` as when the vocabulary was built.
    """
    if max_sentence_length < 1:
        raise ConfigError(f"max_sentence_length must be at least 1 (got {max_sentence_length})")
    check_unicode_errors(unicode_errors)
    path_list = _as_paths(paths)
    # Raw token bytes -> id; grown with every distinct token met so each is decoded once.
    ids_by_token: dict[bytes, int] = {w.encode("utf-8"): i for i, w in enumerate(vocab.words)}
    offsets = array("q", [0])
    n_raw = 0
    n_kept = 0
    handle, tmp_path = tempfile.mkstemp(prefix="wordvec-corpus-", suffix=".i32", dir=workdir)
    try:
        with (
            os.fdopen(handle, "wb") as out,
            Progress("encoding", unit="tokens", enabled=progress) as bar,
        ):
            for block in iter_corpus_blocks(
                path_list, chunk_bytes=chunk_bytes, unicode_errors=unicode_errors
            ):
                tokens = block.tokens
                for token in set(tokens).difference(ids_by_token):
                    word = token.decode("utf-8", errors=unicode_errors)
                    ids_by_token[token] = vocab.get(word.lower() if lowercase else word)
                get = ids_by_token.__getitem__
                ids = np.fromiter(map(get, tokens), dtype=np.int32, count=len(tokens))
                n_raw += len(tokens)
                bar.update(len(tokens))
                # Sentence structure: drop unknown tokens, then cut at line ends and at
                # max_sentence_length. A line may continue from the previous block.
                kept = ids >= 0
                kept_before = np.concatenate(([0], np.cumsum(kept)))
                ends = kept_before[np.asarray(block.sentence_ends, dtype=np.int64)]
                out.write(ids[kept].tobytes())
                for end in ends.tolist():
                    _close_sentence(offsets, n_kept + end, max_sentence_length)
                n_kept += int(kept_before[-1])
                while n_kept - offsets[-1] > max_sentence_length:
                    offsets.append(offsets[-1] + max_sentence_length)
        _close_sentence(offsets, n_kept, max_sentence_length)
        return _encoded(tmp_path, offsets, n_kept, n_raw)
    except BaseException:
        os.remove(tmp_path)
        raise


def build_and_encode(
    paths: PathLike | Sequence[PathLike],
    *,
    min_count: int = 5,
    max_size: int | None = None,
    lowercase: bool = False,
    max_sentence_length: int = DEFAULT_MAX_SENTENCE_LENGTH,
    unicode_errors: str = "strict",
    workdir: PathLike | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: bool | None = False,
) -> tuple[Vocab, EncodedCorpus]:
    """:func:`~wordvec.vocab.build_vocab` and :func:`encode_corpus` in one pass over the text.

    Tokenizing the text is most of the cost of both, so the text is read once: every distinct
    token gets a provisional id in order of appearance, the provisional ids are counted and
    written to a temporary file, and once the vocabulary is known they are mapped to its ids
    (a pass over int32 ids, not text). The result is identical to the two separate calls.
    """
    check_vocab_limits(min_count, max_size)
    if max_sentence_length < 1:
        raise ConfigError(f"max_sentence_length must be at least 1 (got {max_sentence_length})")
    check_unicode_errors(unicode_errors)
    path_list = _as_paths(paths)
    provisional: dict[bytes, int] = {}
    counts = np.zeros(0, dtype=np.int64)
    pending: list[NDArray[np.int32]] = []
    pending_tokens = 0
    sentence_ends: list[NDArray[np.int64]] = []
    n_raw = 0

    def count_pending() -> NDArray[np.int64]:
        # One bincount for many blocks keeps counting linear in the tokens however many
        # distinct tokens there are.
        grown = np.zeros(len(provisional), dtype=np.int64)
        grown[: counts.size] = counts
        if pending:
            grown += np.bincount(np.concatenate(pending), minlength=len(provisional))
        pending.clear()
        return grown

    handle, raw_path = tempfile.mkstemp(prefix="wordvec-tokens-", suffix=".i32", dir=workdir)
    try:
        with (
            os.fdopen(handle, "wb") as out,
            Progress("reading", unit="tokens", enabled=progress) as bar,
        ):
            for block in iter_corpus_blocks(
                path_list, chunk_bytes=chunk_bytes, unicode_errors=unicode_errors
            ):
                tokens = block.tokens
                for token in set(tokens).difference(provisional):
                    provisional[token] = len(provisional)
                get = provisional.__getitem__
                ids = np.fromiter(map(get, tokens), dtype=np.int32, count=len(tokens))
                out.write(ids.tobytes())
                pending.append(ids)
                pending_tokens += ids.size
                if pending_tokens >= max(len(provisional), 1 << 20):
                    counts = count_pending()
                    pending_tokens = 0
                sentence_ends.append(np.asarray(block.sentence_ends, dtype=np.int64) + n_raw)
                n_raw += len(tokens)
                bar.update(len(tokens))
        counts = count_pending()
        words = [t.decode("utf-8", errors=unicode_errors) for t in provisional]
        if lowercase:
            words = [w.lower() for w in words]
        provisional.clear()
        word_counts: dict[str, int] = {}
        for word, count in zip(words, counts.tolist(), strict=True):
            word_counts[word] = word_counts.get(word, 0) + count
        vocab = Vocab.from_counts(word_counts, min_count=min_count, max_size=max_size)
        to_vocab = np.fromiter((vocab.get(w) for w in words), dtype=np.int32, count=len(words))
        corpus = _remap(
            raw_path,
            to_vocab,
            np.concatenate(sentence_ends) if sentence_ends else None,
            n_raw,
            max_sentence_length,
            workdir,
        )
    finally:
        os.remove(raw_path)
    return vocab, corpus


def _remap(
    raw_path: str,
    to_vocab: NDArray[np.int32],
    sentence_ends: NDArray[np.int64] | None,
    n_raw: int,
    max_sentence_length: int,
    workdir: PathLike | None,
    chunk_tokens: int = 1 << 20,
) -> EncodedCorpus:
    """Map the provisional ids of ``raw_path`` through ``to_vocab``, drop the unknown ones and
    cut sentences as :func:`encode_corpus` does."""
    offsets = array("q", [0])
    n_kept = 0
    ends = np.empty(0, dtype=np.int64) if sentence_ends is None else sentence_ends
    next_end = 0
    handle, tmp_path = tempfile.mkstemp(prefix="wordvec-corpus-", suffix=".i32", dir=workdir)
    try:
        with os.fdopen(handle, "wb") as out:
            raw = np.memmap(raw_path, dtype=np.int32, mode="r") if n_raw else None
            for start in range(0, n_raw, chunk_tokens):
                assert raw is not None
                stop = min(n_raw, start + chunk_tokens)
                ids = to_vocab[raw[start:stop]]
                kept = ids >= 0
                out.write(ids[kept].tobytes())
                # kept_before[i]: tokens kept before position start + i (int32: i < chunk size)
                kept_before = np.zeros(stop - start + 1, dtype=np.int32)
                np.cumsum(kept, out=kept_before[1:])
                last_end = int(np.searchsorted(ends, stop, side="right"))
                for end in (kept_before[ends[next_end:last_end] - start] + n_kept).tolist():
                    _close_sentence(offsets, end, max_sentence_length)
                next_end = last_end
                n_kept += int(kept_before[-1])
            del raw
        _close_sentence(offsets, n_kept, max_sentence_length)
        return _encoded(tmp_path, offsets, n_kept, n_raw)
    except BaseException:
        os.remove(tmp_path)
        raise
