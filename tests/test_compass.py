from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec.compass import (
    CompassConfig,
    cross_slice_cosines,
    rank_shifted,
    slice_name,
    slice_names,
    train_compass,
)
from wordvec.errors import ConfigError
from wordvec.train import Word2VecConfig

# Two slices over the same topics; only "pivot" changes company: topic 0 in the first slice,
# topic 3 in the second. A compass alignment must put every other word at nearly the same
# place in both slices and "pivot" far from itself.
TOPICS = [[f"t{t}w{i}" for i in range(8)] for t in range(5)]
SHIFTED = "pivot"


def _slice(path: Path, pivot_topic: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(3000):
        t = int(rng.integers(len(TOPICS)))
        words = list(rng.choice(TOPICS[t], size=7))
        if t == pivot_topic:
            words.insert(int(rng.integers(8)), SHIFTED)
        lines.append(" ".join(words))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def slices(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("slices")
    return [_slice(folder / "early.txt", 0, 1), _slice(folder / "late.txt", 3, 2)]


def _config(**kwargs: object) -> CompassConfig:
    w2v = Word2VecConfig(
        model="cbow", dim=16, epochs=3, min_count=1, sample=0, threads=1, seed=3, cbow_batch=1
    )
    return CompassConfig(word2vec=w2v, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(slices: list[Path]) -> object:
    return train_compass(slices, _config())


def test_shifted_word_has_the_lowest_cross_slice_cosine(trained: object) -> None:
    result = trained
    assert list(result.slices) == ["early", "late"]  # type: ignore[attr-defined]
    early, late = result.slices["early"], result.slices["late"]  # type: ignore[attr-defined]
    words = list(early.vocab.words)
    cosines = dict(zip(words, cross_slice_cosines(early, late, words).tolist(), strict=True))
    assert cosines.pop(SHIFTED) < 0.3
    # Words of topics 0 and 3 lost or gained "pivot" as a context word: a real, smaller shift.
    touched = [c for w, c in cosines.items() if w.startswith(("t0w", "t3w"))]
    untouched = [c for w, c in cosines.items() if not w.startswith(("t0w", "t3w"))]
    assert min(touched) > 0.5
    assert min(untouched) > 0.95
    ranked = rank_shifted(early, late, topn=3)
    assert ranked[0].word == SHIFTED
    assert ranked[0].first_count and ranked[0].second_count and ranked[0].first_count > 500
    stable = rank_shifted(early, late, topn=1, most_shifted=False)
    assert stable[0].cosine == max(untouched)

    # "pivot" moves toward the topic it appears with in each slice.
    def closeness(emb: wordvec.Embeddings, topic: int) -> float:  # type: ignore[name-defined]
        units = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
        ids = emb.vocab.ids_of(TOPICS[topic])
        return float((units[ids] @ units[emb.vocab.id_of(SHIFTED)]).mean())

    assert closeness(early, 0) > closeness(late, 0) + 0.1
    assert closeness(late, 3) > closeness(early, 3) + 0.1


def test_compass_init_understates_the_shift(slices: list[Path], trained: object) -> None:
    # Starting slices at the compass's vectors (CADE's init_mode "both") leaves "pivot" near
    # its mixed compass position: why the default is CADE's random start.
    result = train_compass(slices, _config(init="compass"))
    early, late = result.slices["early"], result.slices["late"]
    ours = cross_slice_cosines(early, late, [SHIFTED])[0]
    random_start = trained.slices  # type: ignore[attr-defined]
    assert ours > cross_slice_cosines(random_start["early"], random_start["late"], [SHIFTED])[0]


def test_slices_share_the_compass_output_space(slices: list[Path], trained: object) -> None:
    result = trained
    assert result.compass.metadata["compass"]["role"] == "compass"  # type: ignore[attr-defined]
    late = result.slices["late"]  # type: ignore[attr-defined]
    assert late.metadata["trainer"] == "word2vec-compass"
    assert late.metadata["compass"]["slice"] == "late"
    # Words of a slice are compass words; counts are the slice's own.
    compass_vocab = result.compass.vocab  # type: ignore[attr-defined]
    assert set(late.vocab.words) <= set(compass_vocab.words)
    text = slices[1].read_text().split()
    assert int(late.vocab.counts[late.vocab.id_of(SHIFTED)]) == text.count(SHIFTED)


def test_one_thread_and_seed_are_deterministic(slices: list[Path], trained: object) -> None:
    again = train_compass(slices, _config())
    for name, emb in trained.slices.items():  # type: ignore[attr-defined]
        assert np.array_equal(emb.vectors, again.slices[name].vectors)
    assert np.array_equal(trained.compass.vectors, again.compass.vectors)  # type: ignore[attr-defined]


def test_slice_min_count_drops_rare_words(tmp_path: Path, slices: list[Path]) -> None:
    rare = tmp_path / "rare.txt"
    rare.write_text(slices[0].read_text() + "hapax t0w1 t0w2\n")
    result = train_compass([rare, slices[1]], _config(slice_min_count=2))
    assert "hapax" not in result.slices["rare"].vocab
    assert "hapax" not in result.slices["late"].vocab
    assert "hapax" in result.compass.vocab  # min_count 1 over the concatenation


def test_names_and_bad_input(tmp_path: Path, slices: list[Path]) -> None:
    assert slice_name("data/kjv.txt.xz") == "kjv"
    assert slice_name("corpus") == "corpus"
    with pytest.raises(ConfigError, match="both be named"):
        slice_names(["a/x.txt", "b/x.txt.gz"])
    with pytest.raises(ConfigError, match="compass"):
        slice_names(["compass.txt", "b.txt"])
    with pytest.raises(ConfigError, match="at least two"):
        train_compass(slices[:1], _config())
    with pytest.raises(ConfigError, match="init"):
        _config(init="both")


def test_cli_train_compass_and_compare(slices: list[Path], tmp_path: Path) -> None:
    from wordvec.cli.main import cli

    out = tmp_path / "aligned"
    runner = CliRunner()
    args = ["train", "--compass", *map(str, slices), "-o", str(out), "--dim", "16", "--epochs",
            "3", "--min-count", "1", "--sample", "0", "--threads", "1", "--json"]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary["stores"]) == {"compass", "early", "late"}
    early, late = out / "early.h5", out / "late.h5"
    with wordvec.load(early) as v:
        assert v.metadata["trainer"] == "word2vec-compass"

    result = runner.invoke(cli, ["query", "--compare", str(early), str(late), SHIFTED, "t1w1",
                                 "--similar", "3", "--shifted", "2", "--shift-min-count", "5",
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    by_word = {e["word"]: e for e in payload["words"]}
    assert by_word[SHIFTED]["cosine"] < 0.3 < 0.7 < by_word["t1w1"]["cosine"]
    assert len(by_word[SHIFTED]["first"]) == len(by_word[SHIFTED]["second"]) == 3
    assert payload["shifted"][0]["word"] == SHIFTED and len(payload["shifted"]) == 2

    # Comparing is a lookup: it loads neither Numba nor the trainer.
    code = (
        "import sys\n"
        "from wordvec.cli.main import cli\n"
        "try:\n"
        "    cli(['query', '--compare', *sys.argv[1:3], 'pivot', '--shifted', '2'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print([m for m in ('numba', 'scipy', 'gensim', 'wordvec.train') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(early), str(late)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "cross-slice cosine" in out and out.strip().endswith("[]")

    result = runner.invoke(cli, ["query", "--compare", str(early), str(late), SHIFTED, "nosuch"])
    assert result.exit_code == 0, result.output
    # Both neighbour columns are printed (which topic words they are depends on training).
    assert "cross-slice cosine" in result.output
    assert len(re.findall(r"\bt\dw\d \d\.\d{4}", result.output)) == 20
    assert "'nosuch' is not in" in result.stderr

    bad = [
        (["train", "--compass", str(slices[0]), "-o", str(tmp_path / "x")], "at least two"),
        (["train", str(slices[0]), "-o", str(tmp_path / "y.h5"), "--slice-init", "compass"],
         "need --compass"),
        (["query", str(early), SHIFTED, "--shifted", "3"], "needs --compare"),
        (["query", "--compare", str(early)], "two stores"),
        (["query", "--compare", str(early), str(tmp_path / "missing.h5"), SHIFTED], "missing"),
    ]  # fmt: skip
    for argv, message in bad:
        result = runner.invoke(cli, argv)
        assert result.exit_code != 0, argv
        assert message in result.output + result.stderr, (argv, result.output)
