"""``wordvec eval`` through click's CliRunner (the command object of cli/eval.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.test_eval_bli import rotated_pair
from tests.test_eval_vectors import dataset_embeddings
from wordvec.cli.eval import eval_command
from wordvec.embeddings import Embeddings
from wordvec.eval import evaluate_analogy, evaluate_similarity
from wordvec.formats.store import write_store
from wordvec.store import VectorStore


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(eval_command, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eval_cli") / "vectors.h5"
    write_store(path, dataset_embeddings())
    return path


def test_default_suite_table(store: Path) -> None:
    code, out, err = run(store)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"# {store}:") and lines[1].split()[:3] == [
        "task",
        "dataset",
        "score",
    ]
    rows = {line.split()[1]: line.split() for line in lines[2:] if not line.startswith("    ")}
    assert set(rows) == {"wordsim353", "simlex999", "google"}
    with VectorStore(store) as vectors:
        expected = evaluate_similarity(vectors, "simlex999").spearman
        accuracy = evaluate_analogy(vectors, "google").accuracy
    assert float(rows["simlex999"][2]) == pytest.approx(expected, abs=1e-4)
    assert float(rows["google"][2]) == pytest.approx(accuracy, abs=1e-4)
    assert sum(line.startswith("    ") for line in lines) == 14  # one line per section


def test_json_options(store: Path) -> None:
    code, out, _ = run(
        store,
        "--similarity",
        "wordsim353",
        "--analogy",
        "google",
        "--method",
        "3cosmul",
        "--restrict-vocab",
        "2000",
        "--case-sensitive",
        "--oov",
        "fallback",
        "--evalrank",
        "--json",
    )
    assert code == 0
    payload = json.loads(out)
    similarity, analogy, evalrank = payload["results"]
    assert similarity["dataset"] == "wordsim353" and similarity["n_scored"] == 353
    assert similarity["oov"] == "fallback" and similarity["case_insensitive"] is False
    assert analogy["method"] == "3cosmul" and analogy["restrict_vocab"] == 2000
    assert len(analogy["sections"]) == 14 and analogy["total"]["section"] == "Total accuracy"
    assert evalrank["task"] == "evalrank" and evalrank["dataset"] == "wordsim353"
    assert 0 < evalrank["score"] <= 1


def test_bli(tmp_path: Path) -> None:
    src, tgt = rotated_pair(noise=0.1)
    write_store(tmp_path / "src.h5", src)
    write_store(tmp_path / "tgt.h5", tgt)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("".join(f"s{i} t{i}\n" for i in range(100)))
    code, out, _ = run(tmp_path / "src.h5", "--bli", pairs, "--target", tmp_path / "tgt.h5")
    assert code == 0
    row = out.splitlines()[2].split()
    assert row[:4] == ["bli", "pairs.txt", "1.0000", "P@1"]
    assert "csls P@1 1.0000 P@5 1.0000 P@10 1.0000" in out
    code, _, err = run(tmp_path / "src.h5", "--bli", pairs)
    assert code == 2 and "--bli needs --target" in err


def test_errors(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("cat dog 7\ncat dog\n")
    code, _, err = run(store, "--similarity", bad)
    assert code == 1 and "bad.txt, line 2: expected 'word1 word2 score'" in err
    code, _, err = run(store, "--similarity", "wordsim999")
    assert code == 1 and "not a bundled dataset" in err
    # No overlap: the table still prints, the task says why, and the exit status is 1.
    unrelated = tmp_path / "unrelated.h5"
    write_store(unrelated, Embeddings.from_words(["xq", "zv"], np.eye(2, dtype=np.float32)))
    code, out, err = run(unrelated, "--similarity", "simlex999", "--analogy", "google")
    assert code == 1
    assert "simlex999" in out and "not scored" in out
    assert "error: similarity: simlex999: 0 of 999 pairs have both words" in err
    assert "none of the 19,544 questions" in err
    code, _, err = run(tmp_path / "missing.h5")
    assert code == 1 and "missing.h5" in err
