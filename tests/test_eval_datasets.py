"""Dataset readers: the files bundled with gensim by name, user files, and bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from wordvec.errors import ConfigError, FormatError
from wordvec.eval.datasets import (
    dataset_path,
    gensim_test_data_dir,
    read_analogy_dataset,
    read_similarity_dataset,
    read_translation_dictionary,
)


def test_bundled_datasets_by_name() -> None:
    from gensim.test.utils import datapath

    assert gensim_test_data_dir() == Path(datapath("wordsim353.tsv")).parent
    wordsim = read_similarity_dataset("wordsim353")
    assert wordsim.name == "wordsim353" and len(wordsim) == 353
    assert wordsim.pairs[:2] == (("love", "sex", 6.77), ("tiger", "cat", 7.35))
    assert len(read_similarity_dataset("SimLex999")) == 999
    google = read_analogy_dataset("google")
    assert google.n_questions == 19544 and len(google.sections) == 14
    assert google.sections[0].name == "capital-common-countries"
    assert google.sections[0].questions[0] == ("Athens", "Greece", "Baghdad", "Iraq")


def test_unknown_name_and_wrong_task() -> None:
    with pytest.raises(FormatError, match="bundled dataset: wordsim353, simlex999, google"):
        read_similarity_dataset("wordsim999")
    with pytest.raises(ConfigError, match="google is a analogy dataset"):
        read_similarity_dataset("google")
    assert dataset_path("google", "analogy").name == "questions-words.txt"


def test_similarity_file_with_spaces_tabs_comments_and_gzip(tmp_path: Path) -> None:
    text = "# header\n\ncat\tdog 7.5\n  car   automobile\t9\n"
    plain = tmp_path / "sim.txt"
    plain.write_text(text)
    packed = tmp_path / "sim.txt.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        data = read_similarity_dataset(path)
        assert data.pairs == (("cat", "dog", 7.5), ("car", "automobile", 9.0))
    assert read_similarity_dataset(str(plain)).name == "sim.txt"


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("a b 1\nword1 word2 score\n", 2, "not a finite number"),
        ("a b 1\n# c\nc d\n", 3, "3 fields"),
        ("a b 1\nc d e 2\n", 2, "found 4"),
        ("a b nan\n", 1, "not a finite number"),
        ("Word 1\tWord 2\tHuman (mean)\n", 1, "must start with '#'"),
    ],
)
def test_malformed_similarity_lines(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(FormatError, match=message) as info:
        read_similarity_dataset(path)
    assert info.value.line == line
    assert f"bad.txt, line {line}:" in str(info.value)


def test_invalid_utf8_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a b 1\n\xff b 2\n")
    with pytest.raises(FormatError, match="invalid UTF-8") as info:
        read_similarity_dataset(path)
    assert info.value.line == 2
    path.write_text("# nothing\n")
    with pytest.raises(FormatError, match="no word pairs"):
        read_similarity_dataset(path)


def test_analogy_file(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("a b c d\n: first\ne f g h\n\n:  second one \ni j k l\n")
    data = read_analogy_dataset(path)
    assert [s.name for s in data.sections] == ["default", "first", "second one"]
    assert data.sections[2].questions == (("i", "j", "k", "l"),)
    path.write_text(": s\na b c d\na b c\n")
    with pytest.raises(FormatError, match="4 words") as info:
        read_analogy_dataset(path)
    assert info.value.line == 3
    path.write_text(": only a header\n")
    with pytest.raises(FormatError, match="no analogy questions"):
        read_analogy_dataset(path)


def test_translation_dictionary(tmp_path: Path) -> None:
    path = tmp_path / "en-it.txt"
    path.write_text("one uno\none un\ntwo\tdue\n")
    assert read_translation_dictionary(path).pairs == (
        ("one", "uno"),
        ("one", "un"),
        ("two", "due"),
    )
    path.write_text("one uno\ntwo due tre\n")
    with pytest.raises(FormatError, match="2 words") as info:
        read_translation_dictionary(path)
    assert info.value.line == 2
    with pytest.raises(FormatError, match="no such file"):
        read_translation_dictionary(tmp_path / "missing.txt")
