"""Shared fixtures: small embeddings with planted structure, written to temporary stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wordvec.embeddings import Embeddings
from wordvec.formats.store import write_store

# A few words with a planted neighbourhood, then filler words that share no spelling with them.
PLANTED = ["hello", "hi", "greetings", "help", "held", "world", "king", "queen", "man", "woman"]


def make_embeddings(n_filler: int = 300, dim: int = 32, seed: int = 0) -> Embeddings:
    rng = np.random.default_rng(seed)
    filler = sorted({"".join(rng.choice(list("xyzqjvk"), size=6)) for _ in range(n_filler)})
    words = PLANTED + filler
    vectors = rng.standard_normal((len(words), dim)).astype(np.float32)
    # "hi" and "greetings" sit next to "hello"; king - man + woman = queen exactly.
    vectors[1] = vectors[0] + 0.1 * rng.standard_normal(dim).astype(np.float32)
    vectors[2] = vectors[0] + 0.2 * rng.standard_normal(dim).astype(np.float32)
    vectors[7] = vectors[6] - vectors[8] + vectors[9]
    counts = np.arange(len(words), 0, -1, dtype=np.int64) * 10
    return Embeddings.from_words(words, vectors, counts=counts, metadata={"source": "planted"})


@pytest.fixture(scope="session")
def planted() -> Embeddings:
    return make_embeddings()


@pytest.fixture(scope="session")
def planted_store(tmp_path_factory: pytest.TempPathFactory, planted: Embeddings) -> Path:
    path = tmp_path_factory.mktemp("stores") / "planted.h5"
    write_store(path, planted)
    return path


@pytest.fixture(scope="session")
def gensim_data() -> Path:
    from gensim.test.utils import datapath

    return Path(datapath("lee_fasttext.vec")).parent
