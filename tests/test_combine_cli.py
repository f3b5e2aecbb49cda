"""The ``wordvec combine`` command on tiny stores: output, summary and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec.cli.main import cli
from wordvec.embeddings import Embeddings
from wordvec.formats.store import write_store


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("combine")
    rng = np.random.default_rng(0)
    paths = []
    for i, (first, last, dim) in enumerate([(0, 40, 6), (10, 60, 6), (5, 30, 4)]):
        words = [f"w{j}" for j in range(first, last)]
        vectors = rng.standard_normal((len(words), dim)).astype(np.float32)
        counts = np.arange(len(words), 0, -1, dtype=np.int64)
        paths.append(folder / f"s{i}.h5")
        metadata = {"trainer": "planted", "index": i}
        write_store(
            paths[-1], Embeddings.from_words(words, vectors, counts=counts, metadata=metadata)
        )
    return paths


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["combine", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("options", "n_words", "dim"),
    [
        (["--method", "concat"], 60, 16),
        (["--method", "avg", "--vocab", "intersection"], 20, 6),
        (["--method", "svd", "--dim", "5", "--weights", "1,2,1"], 60, 5),
        (["--method", "css", "--oov-fill", "3", "--refine", "2"], 60, 6),
    ],
)
def test_combine_writes_a_store(
    stores: list[Path], tmp_path: Path, options: list[str], n_words: int, dim: int
) -> None:
    out = tmp_path / "meta.h5"
    code, output = run(*map(str, stores), "-o", str(out), *options, "--json", "--quiet")
    assert code == 0, output
    summary = json.loads(output)
    assert (summary["n_words"], summary["dim"]) == (n_words, dim)
    assert summary["seconds"] > 0 and summary["peak_memory_mb"] > 0
    assert [s["name"] for s in summary["sources"]] == [str(p) for p in stores]
    with wordvec.load(out) as store:
        assert (len(store), store.dim) == (n_words, dim)
        assert store.metadata["method"] == options[1]
        # Each source's own provenance is kept.
        assert store.metadata["sources"][2]["metadata"] == {"trainer": "planted", "index": 2}


def test_text_summary(stores: list[Path], tmp_path: Path) -> None:
    code, output = run(*map(str, stores[:2]), "-o", str(tmp_path / "m.h5"), "--quiet")
    assert code == 0, output
    assert "60 words x 6 dims (css)" in output and "peak memory" in output
    assert f"{stores[1]}: 50 words x 6, 50 in the output, 10 filled" in output


def test_bad_input_fails_cleanly(stores: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "meta.h5"
    missing = tmp_path / "nope.h5"
    code, output = run(str(stores[0]), str(missing), "-o", str(out))
    assert code == 1 and f"{missing}: no such file" in output

    not_a_store = tmp_path / "words.txt"
    not_a_store.write_text("hello 1 2 3\n")
    code, output = run(str(stores[0]), str(not_a_store), "-o", str(out))
    assert code == 1 and "not an HDF5 file" in output

    code, output = run(*map(str, stores), "-o", str(out), "--weights", "1,2")
    assert code == 1 and "2 weights given for 3 sources" in output

    code, output = run(*map(str, stores), "-o", str(out), "--weights", "1,x,2")
    assert code == 2 and "--weights" in output

    code, output = run(*map(str, stores), "-o", str(out), "--method", "concat", "--dim", "3")
    assert code == 1 and "dim applies only to method 'svd'" in output

    code, output = run(str(stores[0]), "-o", str(out))
    assert code == 1 and "at least two sources" in output

    assert not out.exists()
    assert list(tmp_path.iterdir()) == [not_a_store]  # no partial output left behind


def test_help_explains_every_option() -> None:
    result = CliRunner().invoke(cli, ["combine", "--help"])
    assert result.exit_code == 0
    for option in ("--method", "--weights", "--dim", "--vocab", "--oov-fill", "--center",
                   "--target", "--refine", "--fill-candidates", "--json"):  # fmt: skip
        assert option in result.output
