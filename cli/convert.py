"""``wordvec convert``: move vectors between formats."""

from __future__ import annotations

import warnings
from dataclasses import asdict

import click

from wordvec.cli.common import print_json, reports_errors

_FORMAT_NAMES = [
    "store",
    "word2vec-text",
    "glove",
    "word2vec-binary",
    "fasttext-bin",
    "gensim",
    "npy",
]
_WRITABLE = [name for name in _FORMAT_NAMES if name != "fasttext-bin"]


@click.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "from_format",
    type=click.Choice(_FORMAT_NAMES),
    default=None,
    help="Input format (default: recognised from the file's content).",
)
@click.option(
    "--to",
    "to_format",
    type=click.Choice(_WRITABLE),
    default=None,
    help="Output format (default: from TARGET's extension: .h5 store, .vec/.txt word2vec "
    "text, .bin word2vec binary, .npy, .model/.kv gensim).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Keep only the first N words (vector files list the most frequent first).",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float16"]),
    default="float32",
    show_default=True,
    help="Precision of the stored vectors (float16 halves the size of a store).",
)
@click.option("--normalize", is_flag=True, help="Scale every vector to unit length.")
@click.option(
    "--unicode-errors",
    type=click.Choice(["strict", "replace"]),
    default="strict",
    show_default=True,
    help="Invalid UTF-8 in a word: fail naming the line/record, or substitute U+FFFD.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of text.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@reports_errors
def convert(
    source: str,
    target: str,
    from_format: str | None,
    to_format: str | None,
    limit: int | None,
    dtype: str,
    normalize: bool,
    unicode_errors: str,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Convert SOURCE to TARGET: word2vec text/binary, GloVe, fastText .bin (read), gensim
    saves, .npy + words, and the wordvec store (.h5).

    Duplicate words keep their first vector (with a warning). The output is written under a
    temporary name and appears only when complete.
    """
    from wordvec.formats.convert import convert as run_convert

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = run_convert(
            source,
            target,
            from_format=from_format,
            to_format=to_format,
            limit=limit,
            dtype=dtype,
            normalize=normalize,
            unicode_errors=unicode_errors,
            progress=progress,
        )
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    if as_json:
        print_json({**asdict(report), "warnings": [str(w.message) for w in caught]})
        return
    click.echo(
        f"{report.target}: {report.n_words} words x {report.dim} dims "
        f"({report.source_format} -> {report.target_format}"
        f"{', with subword buckets' if report.subwords_kept else ''}) "
        f"in {report.seconds:.2f} s"
    )
