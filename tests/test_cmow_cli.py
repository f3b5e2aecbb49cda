from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec.cli.main import cli


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def cmow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cmow_cli")
    corpus = folder / "corpus.txt"
    corpus.write_text("the dog bites the man\nthe man bites the dog\na cat sees the dog\n" * 30)
    store = folder / "hybrid.h5"
    code, out, err = run(
        "train", str(corpus), "-o", str(store), "--model", "hybrid", "--dim", "9",
        "--min-count", "1", "--epochs", "1", "--threads", "1", "--order-weight", "2.5",
        "--cmow-loss-weight", "0.5", "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["dim"] == 18 and summary["sentence_encoder"]["matrix_shape"] == [3, 3]
    assert summary["config"]["order_weight"] == 2.5
    assert summary["config"]["cmow_loss_weight"] == 0.5
    return store


def test_encode_text_json_and_npy(cmow_store: Path, tmp_path: Path) -> None:
    code, out, _ = run("encode", str(cmow_store), stdin=b"dog bites man\nman bites dog\n\n")
    assert code == 0
    rows = [np.array([float(x) for x in line.split()]) for line in out.splitlines()]
    assert len(rows) == 3 and all(r.shape == (18,) for r in rows)
    assert np.abs(rows[0][:9] - rows[1][:9]).max() < 1e-4  # CBOW half: same words
    assert np.abs(rows[0][9:] - rows[1][9:]).max() > 1e-3  # CMOW half: order
    np.testing.assert_array_equal(rows[2][9:], np.eye(3).reshape(-1))
    code, out, _ = run("encode", str(cmow_store), "--json", stdin=b"dog bites xyz\n")
    record = json.loads(out)[0]
    assert record["sentence"] == "dog bites xyz" and record["known_tokens"] == 2
    assert len(record["vector"]) == 18
    sentences = tmp_path / "s.txt"
    sentences.write_text("the dog\nthe cat sees\n")
    target = tmp_path / "out.npy"
    code, _, err = run("encode", str(cmow_store), str(sentences), "-o", str(target))
    assert code == 0 and "2 sentences x 18 dims" in err
    matrix = np.load(target)
    assert matrix.shape == (2, 18) and matrix.dtype == np.float32
    code, out, _ = run("encode", str(cmow_store), stdin=b"the dog\nthe cat sees\n")
    np.testing.assert_allclose(
        matrix, [[float(x) for x in line.split()] for line in out.splitlines()], rtol=1e-5
    )


def test_encode_errors(cmow_store: Path, tmp_path: Path) -> None:
    code, _, err = run("encode", str(cmow_store), "--oov", "error", stdin=b"dog\nzzz\n")
    assert code == 1 and "'zzz' is not in the vocabulary" in err
    code, _, err = run("encode", str(cmow_store), stdin=b"dog\nman \xff\n")
    assert code == 1 and "<stdin>, line 2: invalid UTF-8 byte 0xff" in err
    code, _, err = run("encode", str(cmow_store), str(tmp_path / "missing.txt"))
    assert code == 1 and "missing.txt: cannot read" in err
    target = tmp_path / "never.npy"
    code, _, _ = run("encode", str(cmow_store), "-o", str(target), "--oov", "error", stdin=b"zzz\n")
    assert code == 1 and not target.exists()


def test_train_errors(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n" * 10)
    code, _, err = run("train", str(corpus), "-o", str(tmp_path / "o.h5"), "--model", "cmow",
                       "--dim", "15", "--min-count", "1")  # fmt: skip
    assert code == 1 and "square number" in err
    code, _, err = run("train", str(corpus), "-o", str(tmp_path / "o.h5"), "--model", "cmow",
                       "--resume")  # fmt: skip
    assert code == 2 and "--resume: not available with --model cmow" in err
    code, _, err = run("train", str(corpus), "-o", str(tmp_path / "o.h5"), "--order-weight", "1")
    assert code == 2 and "--order-weight: only with --model cmow or hybrid" in err
    code, _, err = run("train", str(corpus), "-o", str(tmp_path / "o.h5"), "--model", "cmow",
                       "--order-weight", "-1")  # fmt: skip
    assert code == 2 and "--order-weight" in err
    code, _, err = run("train", str(corpus), "-o", str(tmp_path / "o.h5"), "--cmow-loss-weight",
                       "1")  # fmt: skip
    assert code == 2 and "--cmow-loss-weight: only with --model hybrid" in err
    code, _, err = run("train", str(corpus), "-o", str(tmp_path / "o.h5"), "--model", "cmow",
                       "--cmow-loss-weight", "1", "--min-count", "1")  # fmt: skip
    assert code == 1 and "cmow_loss_weight applies to the hybrid model only" in err
    assert not (tmp_path / "o.h5").exists()


def test_help_mentions_the_models() -> None:
    code, out, _ = run("train", "--help")
    assert code == 0 and "cmow" in out and "hybrid" in out
    code, out, _ = run("encode", "--help")
    assert code == 0 and "--oov" in out and "--pooling" in out
