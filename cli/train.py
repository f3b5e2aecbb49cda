"""``wordvec train``: skip-gram or CBOW embeddings from text files into a store."""

from __future__ import annotations

import os

import click

from wordvec.cli.common import print_json, reports_errors


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the trained store (.h5).",
)
@click.option(
    "--model",
    type=click.Choice(["skipgram", "cbow"]),
    default="skipgram",
    show_default=True,
    help="Skip-gram (better on rare words) or CBOW (faster).",
)
@click.option(
    "--dim", type=click.IntRange(min=1), default=100, show_default=True, help="Vector dimension."
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Largest distance between a word and its context words.",
)
@click.option(
    "--negatives",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Noise words drawn per prediction (negative sampling).",
)
@click.option(
    "--cbow-batch",
    type=click.IntRange(min=1, max=64),
    default=4,
    show_default=True,
    help="CBOW: consecutive positions that share one draw of negatives (1: word2vec's "
    "draw per position; 4 is about 1.5x faster at nearly equal quality).",
)
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Ignore words seen fewer times.",
)
@click.option(
    "--max-vocab",
    type=click.IntRange(min=1),
    default=None,
    help="Keep at most this many words (the most frequent).",
)
@click.option(
    "--sample",
    type=click.FloatRange(min=0),
    default=1e-3,
    show_default=True,
    help="Subsampling threshold for frequent words (0: off).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Passes over the corpus.",
)
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Initial learning rate, decayed linearly to ~0 (default 0.05).",
)
@click.option(
    "--noise-power",
    type=click.FloatRange(min=0),
    default=None,
    help="Noise distribution count**power (default 0.5 skip-gram, 0.75 CBOW).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Worker threads (0: all cores). One thread and a seed give identical runs.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--lowercase", is_flag=True, help="Lowercase the corpus.")
@click.option(
    "--subwords",
    is_flag=True,
    help="fastText-style character n-grams: unknown words get vectors from them.",
)
@click.option(
    "--min-n",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Shortest character n-gram (with --subwords or --hash-embeddings).",
)
@click.option(
    "--max-n",
    type=click.IntRange(min=1),
    default=6,
    show_default=True,
    help="Longest character n-gram (with --subwords or --hash-embeddings).",
)
@click.option(
    "--buckets",
    type=click.IntRange(min=1),
    default=2_000_000,
    show_default=True,
    help="Hash buckets for n-grams (with --subwords).",
)
@click.option(
    "--hash-embeddings",
    is_flag=True,
    help="Bloom (hash) embeddings, floret-style: every word and its character n-grams "
    "(--min-n..--max-n, always used) are hashed by --hashes functions into one table of "
    "--hash-rows rows; the store keeps only that table, and every word, seen or not, gets a "
    "vector. Not combinable with --subwords.",
)
@click.option(
    "--hash-rows",
    type=click.IntRange(min=1, max=2**31 - 1),
    default=50_000,
    show_default=True,
    help="Rows of the hash-embedding table (with --hash-embeddings).",
)
@click.option(
    "--hashes",
    type=click.IntRange(min=1, max=8),
    default=3,
    show_default=True,
    help="Hash functions per word and n-gram (with --hash-embeddings).",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float16"]),
    default="float32",
    show_default=True,
    help="Precision of the stored vectors.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save the training state here after each epoch (default: OUTPUT.ckpt.npz).",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its checkpoint.")
@click.option(
    "--init",
    "init_store",
    type=click.Path(dir_okay=False),
    default=None,
    help="Start from the vectors of an existing store (continued training).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@reports_errors
def train(
    corpus: tuple[str, ...],
    output: str,
    model: str,
    dim: int,
    window: int,
    negatives: int,
    cbow_batch: int,
    min_count: int,
    max_vocab: int | None,
    sample: float,
    epochs: int,
    learning_rate: float | None,
    noise_power: float | None,
    threads: int,
    seed: int,
    lowercase: bool,
    subwords: bool,
    min_n: int,
    max_n: int,
    buckets: int,
    hash_embeddings: bool,
    hash_rows: int,
    hashes: int,
    dtype: str,
    checkpoint: str | None,
    resume: bool,
    init_store: str | None,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Train skip-gram or CBOW word vectors (negative sampling) on CORPUS files (plain, .gz,
    .bz2 or .xz; one sentence per line or one long line) and write them to a store.

    The store records the full configuration; with --subwords it also answers unknown words
    the way fastText does; with --hash-embeddings it holds only the small hash table.
    """
    import time

    from wordvec.formats.store import write_store
    from wordvec.train import Word2VecConfig, train_word2vec

    config = Word2VecConfig(
        model=model,  # type: ignore[arg-type]
        dim=dim,
        window=window,
        n_negatives=negatives,
        cbow_batch=cbow_batch,
        min_count=min_count,
        max_vocab_size=max_vocab,
        sample=sample,
        epochs=epochs,
        learning_rate=learning_rate,
        noise_power=noise_power,
        threads=threads,
        seed=seed,
        lowercase=lowercase,
        subwords=subwords,
        subword_min_n=min_n,
        subword_max_n=max_n,
        n_buckets=buckets,
        hash_embeddings=hash_embeddings,
        hash_rows=hash_rows,
        n_hashes=hashes,
    )
    init = None
    if init_store is not None:
        import wordvec

        with wordvec.load(init_store) as store:
            init = store.to_embeddings()
    checkpoint_path = checkpoint or f"{output}.ckpt.npz"
    started = time.perf_counter()
    embeddings = train_word2vec(
        list(corpus),
        config,
        checkpoint=checkpoint_path,
        resume=resume,
        init_vectors=init,
        progress=progress,
    )
    write_store(output, embeddings, dtype=dtype, progress=progress)
    if os.path.exists(checkpoint_path) and checkpoint is None:
        os.remove(checkpoint_path)  # the run finished: the default checkpoint has served
    seconds = time.perf_counter() - started
    summary = {
        "output": output,
        "n_words": len(embeddings),
        "dim": embeddings.dim,
        "seconds": seconds,
        "config": config.to_json(),
    }
    if as_json:
        print_json(summary)
    else:
        click.echo(f"{output}: {len(embeddings)} words x {embeddings.dim} dims in {seconds:.1f} s")
