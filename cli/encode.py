"""``wordvec encode``: sentence vectors from a store (CBOW sum or mean, CMOW ordered product, or
the hybrid's concatenation), one sentence per input line."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

import click

from wordvec.cli.common import format_vector, print_json, reports_errors


def _read_lines(stream: BinaryIO, name: str) -> list[str]:
    from wordvec.errors import FormatError

    data = stream.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(name, f"invalid UTF-8 byte 0x{data[exc.start]:02x}", line=line) from exc
    return text.splitlines()


@click.command()
@click.argument("store", type=click.Path(dir_okay=False))
@click.argument("sentences", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the (n_sentences, dim) float32 matrix to this .npy file instead of printing.",
)
@click.option(
    "--oov",
    type=click.Choice(["drop", "error"]),
    default="drop",
    show_default=True,
    help="Unknown words: leave them out (the neutral element: zero vector, identity matrix) or "
    "fail.",
)
@click.option(
    "--pooling",
    type=click.Choice(["sum", "mean"]),
    default=None,
    help="CBOW part: sum or mean of the word vectors (default: sum for stores trained with "
    "--model cmow/hybrid, mean for others).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per sentence.")
@reports_errors
def encode(
    store: str,
    sentences: str,
    output: str | None,
    oov: str,
    pooling: str | None,
    as_json: bool,
) -> None:
    """Encode SENTENCES (a file, or standard input by default; one sentence per line, tokens
    separated by whitespace) with the words of STORE.

    Stores trained with `wordvec train --model cmow` encode by the ordered product of the word
    matrices, so word order counts ("dog bites man" differs from "man bites dog"); hybrid
    stores concatenate the CBOW sum and the product; other stores pool their vectors. Prints
    one line of numbers per sentence (an empty line encodes as the neutral element), JSON
    with --json, or writes a .npy matrix with -o.
    """
    import numpy as np

    import wordvec
    from wordvec.sentences import encode as encode_sentences

    if sentences == "-":
        stdin = sys.stdin.buffer
        lines = _read_lines(stdin, "<stdin>")
    else:
        from wordvec.errors import FormatError

        try:
            with open(sentences, "rb") as stream:
                lines = _read_lines(stream, sentences)
        except OSError as exc:
            raise FormatError(sentences, f"cannot read: {exc.strerror}") from exc
    with wordvec.load(store) as opened:
        vectors = encode_sentences(opened, lines, oov=oov, pooling=pooling)  # type: ignore[arg-type]
        known = [sum(1 for t in line.split() if t in opened) for line in lines] if as_json else []
    if output is not None:
        from wordvec.formats.base import atomic_output

        with atomic_output(output) as tmp, open(tmp, "wb") as f:
            np.save(f, vectors)
        click.echo(f"{output}: {vectors.shape[0]} sentences x {vectors.shape[1]} dims", err=True)
    elif as_json:
        records: list[dict[str, Any]] = [
            {"sentence": line, "known_tokens": k, "vector": [float(x) for x in row]}
            for line, k, row in zip(lines, known, vectors, strict=True)
        ]
        print_json(records)
    else:
        out = sys.stdout
        for row in vectors:
            out.write(format_vector(row) + "\n")
