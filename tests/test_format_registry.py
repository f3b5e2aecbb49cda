from __future__ import annotations

from pathlib import Path

import pytest
from gensim.test.utils import datapath

from wordvec.errors import ConfigError, FormatError
from wordvec.formats.registry import FORMATS, detect_format, format_for_output, get_format


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lee_fasttext.bin", "fasttext-bin"),  # old fastText layout, no magic number
        ("lee_fasttext_new.bin", "fasttext-bin"),
        ("non_ascii_fasttext.bin", "fasttext-bin"),
        ("crime-and-punishment.bin", "fasttext-bin"),
        ("euclidean_vectors.bin", "word2vec-binary"),
        ("high_precision.kv.bin", "word2vec-binary"),
        ("lee_fasttext.vec", "word2vec-text"),
        ("high_precision.kv.txt", "word2vec-text"),
        ("test_glove.txt", "glove"),
        ("model-from-gensim-3.8.0.w2v", "gensim"),
    ],
)
def test_sniffing_real_files(name: str, expected: str) -> None:
    assert detect_format(datapath(name)) == expected


def test_sniffing_failures(tmp_path: Path) -> None:
    empty = tmp_path / "empty.vec"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match="empty"):
        detect_format(empty)
    prose = tmp_path / "prose.txt"
    prose.write_text("this is just some text\nnot vectors at all\n")
    with pytest.raises(FormatError, match="unrecognised vector format"):
        detect_format(prose)
    with pytest.raises(FormatError, match="no such file"):
        detect_format(tmp_path / "missing")


def test_output_names_and_registry() -> None:
    assert format_for_output("x.h5") == "store"
    assert format_for_output("x.VEC") == "word2vec-text"
    with pytest.raises(ConfigError, match="--to"):
        format_for_output("x.unknown")
    with pytest.raises(ConfigError, match="unknown format"):
        get_format("word3vec")
    with pytest.raises(ConfigError, match="cannot be written"):
        FORMATS["fasttext-bin"].load_writer()
    for spec in FORMATS.values():
        if spec.reader:
            assert callable(spec.load_reader())
