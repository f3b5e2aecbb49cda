"""``wordvec info``: what a store holds, and optionally a full integrity check."""

from __future__ import annotations

import os

import click

from wordvec.cli.common import print_json, reports_errors


@click.command()
@click.argument("store", type=click.Path(dir_okay=False))
@click.option(
    "--verify",
    is_flag=True,
    help="Read every byte and compare with the checksums stored at write time (slow: reads all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@reports_errors
def info(store: str, verify: bool, as_json: bool) -> None:
    """Describe STORE: format version, size, dimension, OOV fallback and how it was made."""
    from wordvec.formats.store import read_layout, verify_store

    layout = read_layout(store)
    if layout.hash_params is not None:
        params = layout.hash_params
        fallback = (
            f"hash-embeddings (n-grams {params.min_n}-{params.max_n}, {params.n_hashes} hashes "
            f"into {params.table_rows} rows)"
        )
    elif layout.subword_range is not None:
        fallback = "fasttext-subwords (n-grams {}-{}, {} buckets)".format(
            *layout.subword_range, layout.arrays["subwords/vectors"].shape[0]
        )
    elif layout.oov_range is not None:
        how = "rebuilt from the words on first use" if layout.oov_derived else "stored"
        fallback = "ngram-neighbours (n-grams {}-{}, index {})".format(*layout.oov_range, how)
    else:
        fallback = "hashed-ngrams only"
    summary: dict[str, object] = {
        "path": layout.path,
        "file_size": os.path.getsize(layout.path),
        "format_version": layout.format_version,
        "created_by": layout.attrs.get("created_by"),
        "n_words": layout.n_words,
        "dim": layout.dim,
        "vector_dtype": layout.vector_dtype,
        "vector_encoding": layout.vector_encoding,
        "n_rows": layout.n_rows,
        "has_counts": "vocab/counts" in layout.arrays,
        "oov_fallback": fallback,
        "oov_index": layout.oov_index,
        "metadata": layout.metadata,
    }
    if verify:
        summary["verified"] = verify_store(store, progress=None)
    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        if key == "verified":
            click.echo(f"verified: all {len(value)} arrays match their checksums")  # type: ignore[arg-type]
        elif key == "metadata":
            for meta_key, meta_value in layout.metadata.items():
                click.echo(f"metadata.{meta_key}: {meta_value}")
        else:
            click.echo(f"{key}: {value}")
