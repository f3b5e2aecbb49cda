"""Dictionary files and the ``wordvec align`` command on tiny stores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec.align_dictionary import read_dictionary, write_dictionary
from wordvec.align_mapping import load_mapping
from wordvec.cli.align import align as align_command
from wordvec.embeddings import Embeddings
from wordvec.errors import FormatError
from wordvec.formats.store import write_store

N_WORDS, DIM = 300, 16


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two tiny stores, the target a rotated, noisy, reordered copy of the source with half
    of its words spelled the same; train and test dictionaries of the true pairs."""
    rng = np.random.default_rng(0)
    spectrum = 1.0 / np.arange(1, DIM + 1) ** 0.7
    q, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    x = ((rng.standard_normal((N_WORDS, DIM)) * spectrum) @ q).astype(np.float32)
    rotation, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    z = x @ rotation + 0.01 * rng.standard_normal((N_WORDS, DIM))
    order = np.argsort(np.arange(N_WORDS) + rng.normal(0, 5, N_WORDS), kind="stable")
    src_words = [f"s{i}" for i in range(N_WORDS)]
    tgt_of = {i: f"s{i}" if i % 2 else f"t{i}" for i in range(N_WORDS)}
    folder = tmp_path_factory.mktemp("align")
    counts = np.arange(N_WORDS, 0, -1, dtype=np.int64)
    write_store(folder / "src.h5", Embeddings.from_words(src_words, x, counts=counts))
    write_store(
        folder / "tgt.h5",
        Embeddings.from_words([tgt_of[i] for i in order], z[order].astype(np.float32)),
    )
    pairs = [(f"s{i}", tgt_of[i]) for i in range(N_WORDS)]
    write_dictionary(folder / "train.txt", pairs[:200:4])
    (folder / "test.txt").write_text(
        "# test pairs\n" + "".join(f"{s} {t}\n" for s, t in pairs[201:]) + "unknown t1\n"
    )
    return {
        "folder": folder,
        "src": folder / "src.h5",
        "tgt": folder / "tgt.h5",
        "train": folder / "train.txt",
        "test": folder / "test.txt",
    }


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(align_command, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("mode", ["--dictionary", "--identical", "--unsupervised"])
def test_align_command_writes_mapped_stores(
    stores: dict[str, Path], tmp_path: Path, mode: str
) -> None:
    out = tmp_path / "out"
    seed = [mode, stores["train"]] if mode == "--dictionary" else [mode]
    code, stdout, stderr = _run(
        [stores["src"], stores["tgt"], "-o", out, *seed, "--test-dictionary", stores["test"],
         "--stochastic-interval", "3", "--json"]
    )  # fmt: skip
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["bli"]["precision"]["csls"]["1"] > 0.95
    assert summary["bli"]["source_words"] == 100 and summary["bli"]["source_words_found"] == 99
    assert "iteration" in stderr and "objective" in stderr
    with wordvec.load(str(out / "src.h5")) as src, wordvec.load(str(out / "tgt.h5")) as tgt:
        assert len(src) == len(tgt) == N_WORDS
        assert src.metadata["alignment"]["side"] == "src"
        # Word s201 is translated: its nearest target neighbour is its translation.
        vector = src["s201"]
        assert tgt.most_similar(vector, topn=1)[0][0] == "s201"
    mapping = load_mapping(out / "mapping.npz")
    assert mapping.metadata["source_store"] == str(stores["src"])


def test_align_command_text_output_and_options(stores: dict[str, Path], tmp_path: Path) -> None:
    code, stdout, stderr = _run(
        [stores["src"], stores["tgt"], "-o", tmp_path / "o", "--dictionary", stores["train"],
         "--no-self-learning", "--orthogonal", "--test-dictionary", stores["test"],
         "--retrieval", "both", "--quiet", "--normalize", "unit,center,unit"]
    )  # fmt: skip
    assert code == 0, stderr
    assert stderr == ""
    assert "seed dictionary: 50 of 50 pairs found" in stdout
    assert "(nn): P@1" in stdout and "(csls): P@1" in stdout
    assert "coverage 99.0 % (99 of 100 source words)" in stdout


def test_seed_pairs_missing_from_the_stores_are_reported(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    seed = tmp_path / "seed.txt"
    seed.write_text(stores["train"].read_text() + "ghost s1\ns3 ghost\n")
    code, stdout, _ = _run(
        [
            stores["src"],
            stores["tgt"],
            "-o",
            tmp_path / "o",
            "--dictionary",
            seed,
            "--quiet",
            "--max-iterations",
            "5",
        ]
    )
    assert code == 0
    assert "50 of 52 pairs found" in stdout and "1 lack the source word" in stdout
    assert "ghost s1" in stdout


def test_bad_input_fails_with_one_line(stores: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("s1 s1\n# fine\ns2 t2 extra\n")
    code, _, stderr = _run(
        [stores["src"], stores["tgt"], "-o", tmp_path / "o", "--dictionary", bad]
    )
    assert code == 1
    assert f"{bad}, line 3: expected two words" in stderr
    code, _, stderr = _run([stores["src"], stores["tgt"], "-o", tmp_path / "o"])
    assert code == 2 and "exactly one of" in stderr
    code, _, stderr = _run(
        [stores["src"], stores["tgt"], "-o", tmp_path / "o", "--identical", "--unsupervised"]
    )
    assert code == 2
    code, _, stderr = _run(
        [stores["src"], stores["tgt"], "-o", tmp_path / "o", "--identical", "--normalize", "foo"]
    )
    assert code == 1 and "unknown normalization" in stderr
    assert not (tmp_path / "o").exists()


def test_read_dictionary_format(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_text("# header\n\nhouse haus\nc# c#  # inline comment\n  dog\thund \nhouse haus\n")
    pairs = read_dictionary(path)
    assert pairs.pairs == (("house", "haus"), ("c#", "c#"), ("dog", "hund"))
    assert pairs.name == str(path)
    path.write_text("one\n")
    with pytest.raises(FormatError, match="line 1"):
        read_dictionary(path)
    path.write_bytes(b"ok ok\n\xff\xfe bad\n")
    with pytest.raises(FormatError, match="line 2: not UTF-8"):
        read_dictionary(path)
    path.write_text("# nothing\n")
    with pytest.raises(FormatError, match="no 'source target' pair"):
        read_dictionary(path)
