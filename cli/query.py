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
    as_json: bool,
) -> None:
    """Look up WORDs in STORE: their vectors (word2vec text lines), or with --similar their
    nearest neighbours, and/or an --analogy.

    Words not in the vocabulary are answered per --oov and flagged (a note on stderr, or
    "oov": true in JSON).
    """
    import wordvec

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
