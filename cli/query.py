"""``wordvec query``: vectors, nearest neighbours and analogies from a store."""

from __future__ import annotations

import sys
from typing import Any

import click

from wordvec.cli.common import format_vector, print_json, reports_errors


@click.command()
@click.argument("store", type=click.Path(dir_okay=False))
@click.argument("words", nargs=-1)
@click.option(
    "--similar",
    "similar",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Print the N most similar words of each WORD (exact cosine search) instead of vectors.",
)
@click.option(
    "--analogy",
    nargs=3,
    metavar="A B C",
    default=None,
    help='Answer "A is to B as C is to ?" (e.g. --analogy man king woman -> queen).',
)
@click.option(
    "--method",
    type=click.Choice(["3cosadd", "3cosmul"]),
    default="3cosadd",
    show_default=True,
    help="Analogy scoring: 3CosAdd (cos to B - A + C) or 3CosMul (Levy & Goldberg).",
)
@click.option(
    "--topn",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="How many answers --analogy prints.",
)
@click.option(
    "--oov",
    type=click.Choice(["subword", "error", "zeros"]),
    default="subword",
    show_default=True,
    help="Unknown words: build a vector from character n-grams, fail, or use zeros.",
)
@click.option(
    "--compare",
    is_flag=True,
    help="STORE and the first WORD are two stores in one space (slices from 'wordvec train "
    "--compass'): show each remaining WORD's neighbours in both and its cross-slice cosine "
    "(low: its usage differs).",
)
@click.option(
    "--shifted",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="With --compare: list the N words whose cross-slice cosine is lowest (the most "
    "shifted) among the words both stores hold.",
)
@click.option(
    "--shift-min-count",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="With --shifted: rank only words counted at least this often in both slices.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@reports_errors
def query(
    store: str,
    words: tuple[str, ...],
    similar: int | None,
    analogy: tuple[str, str, str] | None,
    method: str,
    topn: int,
    oov: str,
    compare: bool,
    shifted: int | None,
    shift_min_count: int,
    as_json: bool,
) -> None:
    """Look up WORDs in STORE: their vectors (word2vec text lines), or with --similar their
    nearest neighbours, and/or an --analogy. With --compare (wordvec query --compare A.h5
    B.h5 WORD...), compare WORDs across two slices of one space.

    Words not in the vocabulary are answered per --oov and flagged (a note on stderr, or
    "oov": true in JSON).
    """
    import wordvec

    if compare:
        if not words:
            raise click.UsageError("--compare needs two stores: --compare A.h5 B.h5 [WORD...]")
        if analogy is not None:
            raise click.UsageError("--compare does not take --analogy")
        _compare(store, words[0], list(words[1:]), similar or 10, shifted, shift_min_count,
                 as_json)  # fmt: skip
        return
    if shifted is not None:
        raise click.UsageError("--shifted needs --compare A.h5 B.h5")
    if not words and analogy is None:
        raise click.UsageError("give at least one WORD, or --analogy A B C")
    entries: list[dict[str, Any]] = []
    analogy_entry: dict[str, Any] | None = None
    with wordvec.load(store, oov=oov) as vectors:
        for word in words:
            entry: dict[str, Any] = {"word": word, "oov": vectors.is_oov(word)}
            if similar is not None:
                hits = vectors.most_similar(word, topn=similar)
                entry["similar"] = [{"word": w, "score": s} for w, s in hits]
            else:
                entry["vector"] = vectors[word].tolist()
            entries.append(entry)
        if analogy is not None:
            a, b, c = analogy
            answers = vectors.analogy(a, b, c, topn=topn, method=method)  # type: ignore[arg-type]
            analogy_entry = {
                "a": a,
                "b": b,
                "c": c,
                "method": method,
                "oov": [w for w in analogy if vectors.is_oov(w)],
                "answers": [{"word": w, "score": s} for w, s in answers],
            }
    if as_json:
        payload: dict[str, Any] = {"store": store, "words": entries}
        if analogy_entry is not None:
            payload["analogy"] = analogy_entry
        print_json(payload)
        return
    for entry in entries:
        if entry["oov"]:
            _note_oov(entry["word"], oov)
        if "vector" in entry:
            click.echo(f"{entry['word']} {format_vector(entry['vector'])}")
        else:
            click.echo(f"# most similar to {entry['word']}")
            for hit in entry["similar"]:
                click.echo(f"{hit['word']}\t{hit['score']:.4f}")
    if analogy_entry is not None:
        for word in analogy_entry["oov"]:
            _note_oov(word, oov)
        click.echo(
            f"# {analogy_entry['a']} : {analogy_entry['b']} :: {analogy_entry['c']} : ?  ({method})"
        )
        for hit in analogy_entry["answers"]:
            click.echo(f"{hit['word']}\t{hit['score']:.4f}")
    sys.stdout.flush()


def _note_oov(word: str, policy: str) -> None:
    click.echo(f"note: {word!r} is not in the vocabulary ({policy} fallback)", err=True)


def _compare(
    first_path: str,
    second_path: str,
    words: list[str],
    topn: int,
    shifted: int | None,
    min_count: int,
    as_json: bool,
) -> None:
    """Neighbours of each word in both stores and its cross-slice cosine; or the most
    shifted words."""
    import numpy as np

    import wordvec
    from wordvec.compass import rank_shifted

    if not words and shifted is None:
        raise click.UsageError("--compare A.h5 B.h5 needs WORDs or --shifted N")
    with (
        wordvec.load(first_path, oov="error") as first,
        wordvec.load(second_path, oov="error") as second,
    ):
        if first.dim != second.dim:
            raise click.UsageError(
                f"{first_path} has {first.dim} dimensions, {second_path} {second.dim}: "
                "compare slices of one space (wordvec train --compass)"
            )
        entries: list[dict[str, Any]] = []
        for word in words:
            entry: dict[str, Any] = {"word": word, "cosine": None}
            vectors = []
            for key, store in (("first", first), ("second", second)):
                if store.is_oov(word):
                    entry[key] = None
                    continue
                vectors.append(store[word])
                hits = store.most_similar(word, topn=topn)
                entry[key] = [{"word": w, "score": s} for w, s in hits]
            if len(vectors) == 2:
                a, b = (v / max(float(np.linalg.norm(v)), 1e-30) for v in vectors)
                entry["cosine"] = float(np.dot(a, b))
            entries.append(entry)
        ranked = None
        if shifted is not None:
            ranked = rank_shifted(
                first.to_embeddings(), second.to_embeddings(), topn=shifted, min_count=min_count
            )
    if as_json:
        payload: dict[str, Any] = {"first": first_path, "second": second_path, "words": entries}
        if ranked is not None:
            payload["shifted"] = [r.to_dict() for r in ranked]
            payload["shift_min_count"] = min_count
        print_json(payload)
        return
    for entry in entries:
        cosine = entry["cosine"]
        shift = f"cross-slice cosine {cosine:.4f}" if cosine is not None else "no cosine"
        click.echo(f"# {entry['word']}: {shift}")
        columns = []
        for key, path in (("first", first_path), ("second", second_path)):
            hits = entry[key]
            if hits is None:
                click.echo(f"note: {entry['word']!r} is not in {path}", err=True)
                columns.append([f"({path}: not in the vocabulary)"])
            else:
                columns.append([path] + [f"{h['word']} {h['score']:.4f}" for h in hits])
        width = max(len(cell) for cell in columns[0]) + 2
        for row in range(max(len(c) for c in columns)):
            left = columns[0][row] if row < len(columns[0]) else ""
            right = columns[1][row] if row < len(columns[1]) else ""
            click.echo(f"{left:<{width}}{right}".rstrip())
    if ranked is not None:
        click.echo(f"# most shifted (counted >= {min_count} times in both): word, cosine, counts")
        for r in ranked:
            click.echo(f"{r.word}\t{r.cosine:.4f}\t{r.first_count}\t{r.second_count}")
    sys.stdout.flush()
