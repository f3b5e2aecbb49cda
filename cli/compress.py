"""``wordvec compress``: make a store smaller; the store reads every compressed form."""

from __future__ import annotations

import click

from wordvec.cli.common import print_json, reports_errors

# wordvec.formats.store.OOV_INDEX_MODES and wordvec.compress.DEFAULT_OOV_INDEX, spelled out so
# that the CLI starts without NumPy (a test holds them equal).
OOV_INDEX_CHOICES = ("stored", "derived", "none")
DEFAULT_OOV_INDEX = "derived"


@click.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option(
    "--method",
    type=click.Choice(["pq", "rq", "float16", "int8", "prune"]),
    default="pq",
    show_default=True,
    help="pq: product quantization (M sub-spaces, one codeword id each); rq: residual "
    "quantization (M full-dimensional codebooks summed); float16: half precision; int8: one "
    "byte per value plus a scale per row; prune: keep the --keep most frequent words and map "
    "every other word to its nearest kept word.",
)
@click.option(
    "--codebooks",
    "n_codebooks",
    type=click.IntRange(min=1),
    default=None,
    metavar="M",
    help="Codebooks (pq: sub-spaces) per vector, i.e. bytes per word with K <= 256 "
    "(default: 32 for pq, 16 for rq).",
)
@click.option(
    "--codewords",
    "n_codewords",
    type=click.IntRange(min=2, max=65536),
    default=256,
    show_default=True,
    metavar="K",
    help="Codewords per codebook (above 256 the codes take two bytes).",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Keep vectors for the N most frequent words only; the others get the vector of their "
    "nearest kept word (required with --method prune, allowed with every method).",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="k-means iterations per codebook (pq, rq).",
)
@click.option(
    "--refine",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="rq: passes re-fitting every codebook given the others' codes.",
)
@click.option(
    "--train-rows",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="Learn codebooks on a sample of at most this many rows (all rows are encoded).",
)
@click.option(
    "--init",
    type=click.Choice(["kmeans++", "random"]),
    default="kmeans++",
    show_default=True,
    help="How k-means picks its first centroids.",
)
@click.option(
    "--rotate/--no-rotate",
    default=True,
    show_default=True,
    help="pq: rotate onto the principal axes first, spreading the variance evenly over the "
    "sub-spaces (stores a dim x dim matrix; much lower error on word vectors).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--oov-index",
    type=click.Choice(OOV_INDEX_CHOICES),
    default=None,
    is_flag=False,
    flag_value="stored",
    help="How to keep the n-gram index that gives unknown words the vectors of similar words "
    "(stores with fastText subword buckets use those instead). derived (default): only its "
    "parameters; the posting lists are rebuilt from the words on the first unknown word (~50 "
    "ms for 35k words, ~0.5 s for 232k) and the file needs wordvec's format version 4. "
    "stored: the posting lists themselves (~40 bytes a word, more than the codes with few "
    "codebooks; unpacked on the first unknown word). none: unknown words get only a hashed "
    "vector. A bare --oov-index means stored.",
)
@click.option(
    "--no-oov-index",
    is_flag=True,
    help="Same as --oov-index none.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@reports_errors
def compress(
    source: str,
    target: str,
    method: str,
    n_codebooks: int | None,
    n_codewords: int,
    keep: int | None,
    iterations: int,
    refine: int,
    train_rows: int,
    init: str,
    rotate: bool,
    seed: int,
    oov_index: str | None,
    no_oov_index: bool,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Compress the store SOURCE into a new store TARGET.

    TARGET opens like any store (wordvec.load, query, eval, convert): vectors are decoded on
    access and nearest-neighbour search scores the codes directly. Prints the sizes and how
    faithful the compressed vectors are (relative error, cosine to the original, overlap of the
    top-10 neighbours of 100 frequent words).
    """
    from wordvec.compress import CompressConfig, compress_store

    config = CompressConfig(
        method=method,
        n_codebooks=n_codebooks,
        n_codewords=n_codewords,
        keep=keep,
        iterations=iterations,
        refine=refine,
        train_rows=train_rows,
        init=init,
        rotate=rotate,
        seed=seed,
    )
    if no_oov_index and oov_index not in (None, "none"):
        raise click.UsageError(f"--no-oov-index contradicts --oov-index {oov_index}")
    mode = "none" if no_oov_index else oov_index or DEFAULT_OOV_INDEX
    report = compress_store(source, target, config, oov_index=mode, progress=progress)
    if as_json:
        print_json(report.to_dict())
        return
    settings = ", ".join(f"{k}={v}" for k, v in report.encoding.items())
    click.echo(
        f"{report.target}: {report.n_words:,} words x {report.dim} dims ({settings}; "
        f"OOV n-gram index: {report.oov_index})"
    )
    click.echo(
        f"file: {report.source_bytes:,} -> {report.target_bytes:,} bytes "
        f"(ratio {report.ratio:.1f}x); vector matrix: {report.matrix_bytes_before:,} -> "
        f"{report.matrix_bytes_after:,} bytes ({report.matrix_ratio:.1f}x)"
    )
    click.echo(
        f"fidelity: relative squared error {report.relative_error:.4f}, mean cosine to the "
        f"original {report.mean_cosine:.4f}, top-10 neighbour recall "
        f"{report.neighbour_recall_at_10:.3f}; {report.seconds:.1f} s"
    )
