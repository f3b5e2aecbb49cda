from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec.cli.main import cli
from wordvec.embeddings import Embeddings


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_query_vectors(planted_store: Path, planted: Embeddings) -> None:
    code, out, err = run("query", str(planted_store), "hello", "helo")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[0] == "hello"
    np.testing.assert_allclose(
        [float(x) for x in lines[0].split()[1:]], planted.vectors[0], rtol=1e-5
    )
    assert "'helo' is not in the vocabulary" in err


def test_query_similar_and_analogy_json(planted_store: Path) -> None:
    code, out, _ = run(
        "query",
        str(planted_store),
        "hello",
        "--similar",
        "2",
        "--analogy",
        "man",
        "king",
        "woman",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert [h["word"] for h in data["words"][0]["similar"]] == ["hi", "greetings"]
    assert data["words"][0]["oov"] is False
    assert data["analogy"]["answers"][0]["word"] == "queen"


def test_query_text_similar(planted_store: Path) -> None:
    code, out, _ = run("query", str(planted_store), "hello", "--similar", "2")
    assert code == 0
    assert out.splitlines()[1].split("\t")[0] == "hi"


def test_query_errors(planted_store: Path, tmp_path: Path) -> None:
    code, _, err = run("query", str(tmp_path / "none.h5"), "x")
    assert code == 1 and "none.h5: no such file" in err
    code, _, err = run("query", str(planted_store), "helo", "--oov", "error")
    assert code == 1 and "'helo' not in vocabulary" in err
    bad = tmp_path / "bad.h5"
    bad.write_text("not a store")
    code, _, err = run("info", str(bad))
    assert code == 1 and "bad.h5: not an HDF5 file" in err
    code, _, err = run("query", str(planted_store))
    assert code == 2 and "at least one WORD" in err


def test_info(planted_store: Path) -> None:
    code, out, _ = run("info", str(planted_store), "--verify", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["n_words"] == 310 and data["dim"] == 32 and data["format_version"] == 1
    assert "vectors" in data["verified"]
    assert data["metadata"] == {"source": "planted"}
    code, out, _ = run("info", str(planted_store))
    assert "oov_fallback: ngram-neighbours" in out and "metadata.source: planted" in out


@pytest.mark.parametrize("command", [[], ["query"], ["info"]])
def test_help(command: list[str]) -> None:
    code, out, _ = run(*command, "--help")
    assert code == 0 and "Usage:" in out


def test_convert_round_trip_and_report(tmp_path: Path) -> None:
    from gensim.test.utils import datapath

    source = datapath("lee_fasttext.vec")
    store = tmp_path / "lee.h5"
    code, out, _ = run("convert", source, str(store), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["source_format"] == "word2vec-text" and report["target_format"] == "store"
    assert report["n_words"] == 1762 and report["dim"] == 10
    code, out, _ = run("convert", str(store), str(tmp_path / "lee.bin"), "--limit", "5")
    assert code == 0 and "5 words x 10 dims" in out
    code, out, _ = run(
        "convert", str(store), str(tmp_path / "half.h5"), "--dtype", "float16", "--normalize"
    )
    assert code == 0
    code, out, _ = run("query", str(tmp_path / "half.h5"), "the")
    vector = np.array([float(x) for x in out.split()[1:]])
    assert abs(np.linalg.norm(vector) - 1) < 1e-2


def test_convert_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vec"
    bad.write_text("2 3\na 1 2 3\nb 1 2\n")
    code, _, err = run("convert", str(bad), str(tmp_path / "out.h5"))
    assert code == 1 and "bad.vec, line 3: expected a word and 3 numbers, found 2" in err
    assert not (tmp_path / "out.h5").exists()
    code, _, err = run("convert", str(bad), str(tmp_path / "out.xyz"))
    assert code == 1 and "cannot tell the output format" in err
    code, _, err = run("convert", str(tmp_path / "missing.vec"), str(tmp_path / "o.h5"))
    assert code == 1 and "missing.vec: no such file" in err
    dup = tmp_path / "dup.vec"
    dup.write_text("2 1\na 1\na 2\n")
    code, _, err = run("convert", str(dup), str(tmp_path / "dup.h5"))
    assert code == 0 and "warning:" in err and "duplicate" in err


def test_train_model_pu_runs_train_pu(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    topics = [[f"t{t}w{i}" for i in range(6)] for t in range(4)]
    corpus = tmp_path / "c.txt"
    corpus.write_text(
        "\n".join(" ".join(rng.choice(topics[rng.integers(4)], size=8)) for _ in range(400))
    )
    out = tmp_path / "pu.h5"
    args = ["train", str(corpus), "-o", str(out), "--model", "pu", "--dim", "8"]
    code, stdout, err = run(*args, "--min-count", "1", "--threads", "1", "--json")
    assert code == 0, err
    config = json.loads(stdout)["config"]
    assert config["model"] == "pu" and config["dim"] == 8 and config["min_count"] == 1
    assert config["window"] == 15  # train-pu's default, not skip-gram's 5
    with wordvec.load(str(out)) as store:
        assert len(store) == 24 and store.dim == 8
    # Options with no meaning for a factorization are refused, not ignored.
    code, _, err = run(*args, "--negatives", "3", "--init", str(out))
    assert code != 0 and "--init, --negatives: not available with --model pu" in err


@pytest.mark.parametrize("solver", ["ccd", "als"])
def test_train_pu_command(tmp_path: Path, solver: str) -> None:
    rng = np.random.default_rng(0)
    topics = [[f"t{t}w{i}" for i in range(6)] for t in range(4)]
    corpus = tmp_path / "c.txt"
    corpus.write_text(
        "\n".join(" ".join(rng.choice(topics[rng.integers(4)], size=8)) for _ in range(800))
    )
    out = tmp_path / "pu.h5"
    code, stdout, _ = run(
        "train-pu",
        str(corpus),
        "-o",
        str(out),
        "--dim",
        "8",
        "--window",
        "3",
        "--iterations",
        "3",
        "--min-count",
        "1",
        "--solver",
        solver,
        "--json",
    )
    assert code == 0, stdout
    summary = json.loads(stdout)
    assert summary["n_words"] == 24
    assert summary["config"]["solver"] == solver
    code, stdout, _ = run("query", str(out), "t1w1", "--similar", "3", "--json")
    similar = json.loads(stdout)["words"][0]["similar"]
    assert sum(hit["word"].startswith("t1w") for hit in similar) >= 2
    code, _, err = run("train-pu", str(corpus), "-o", str(out), "--min-count", "100000")
    assert code == 1 and "error" in err.lower()
