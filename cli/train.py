"""``wordvec train``: skip-gram, CBOW, CMOW or hybrid CBOW-CMOW embeddings from text files into a
store."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from wordvec.cli.common import (
    print_json,
    reports_errors,
    store_output_options,
    vocabulary_options,
)

if TYPE_CHECKING:
    from wordvec.train import Word2VecConfig


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(),
    help="Where to write the trained store (.h5); with --compass, a folder for the stores.",
)
@click.option(
    "--model",
    type=click.Choice(["skipgram", "cbow", "cmow", "hybrid", "pu", "glove"]),
    default=None,
    help="Skip-gram (better on rare words), CBOW (faster), CMOW (word matrices: sentence "
    "encodings that know word order), hybrid (CBOW and CMOW trained jointly), pu (PU-learning "
    "factorization of the PPMI matrix, for small corpora) or glove (GloVe-style weighted "
    "factorization). pu and glove run 'wordvec train-pu' (window default 15) with the options "
    "given here that apply; its own options (--rho, --iterations, --solver, ...) are there. "
    "Default: skipgram; cbow with --compass (as CADE).",
)
@click.option(
    "--compass",
    is_flag=True,
    help="Align the CORPUS files (slices, at least two) in one space (CADE): train a compass "
    "on all of them, then each slice with the compass's output vectors frozen; writes "
    "OUTPUT/NAME.h5 per slice (NAME: the file name without extensions) and "
    "OUTPUT/compass.h5. Compare slices with 'wordvec query --compare'.",
)
@click.option(
    "--slice-min-count",
    type=click.IntRange(min=1),
    default=None,
    help="With --compass: a slice keeps compass words seen this often in it (default: "
    "--min-count).",
)
@click.option(
    "--slice-init",
    type=click.Choice(["random", "compass"]),
    default="random",
    show_default=True,
    help="With --compass: start each slice's vectors at random (CADE's default) or at the "
    "compass's vectors.",
)
@click.option(
    "--dim",
    type=click.IntRange(min=1),
    default=None,
    help="Vector dimension (default 100; cmow: 784 = 28x28, must be a square; hybrid: 400 per "
    "half, 800 in all).",
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
    default=None,
    help="Noise words drawn per prediction (negative sampling; default 5, cmow/hybrid 20).",
)
@click.option(
    "--cbow-batch",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="CBOW: consecutive positions that share one draw of negatives (1: word2vec's "
    "draw per position; default 2, about 1.4x faster at nearly equal quality; 1 with "
    "--compass, where it kept unchanged words more stable across slices).",
)
@click.option(
    "--shuffle/--no-shuffle",
    default=None,
    help="Skip-gram/CBOW: visit the corpus in a fresh random order of ~20,000-token runs each "
    "epoch (default; drawn from --seed, so one thread stays deterministic). --no-shuffle reads "
    "it in file order every epoch, as gensim does; then the source at the end of a "
    "concatenated corpus is always trained last, at the lowest learning rates.",
)
@click.option(
    "--sample",
    type=click.FloatRange(min=0),
    default=None,
    help="Subsampling threshold for frequent words (0: off; default 1e-3; cmow/hybrid: 0, and "
    "only the words to predict are subsampled, never the context).",
)
@click.option(
    "--order-weight",
    type=click.FloatRange(min=0),
    default=None,
    help="cmow/hybrid: weight of the word-order ranking term (each window must score its "
    "word higher in its own order than with two adjacent context words swapped; 0: the "
    "reference's objective alone; default: see CMOWConfig.order_weight).",
)
@click.option(
    "--cmow-loss-weight",
    type=click.FloatRange(min=0),
    default=None,
    help="hybrid: weight of the CMOW half's own prediction loss, added to the joint one (the "
    "CMOW half then learns word order as a CMOW model does; 0: the reference's joint loss "
    "alone; default: see CMOWConfig.cmow_loss_weight).",
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
    help="Initial learning rate, decayed linearly to ~0 (default: skip-gram 0.05, 0.055 with "
    "subwords; CBOW 0.075, 0.05 with subwords; hash embeddings 0.05; cmow/hybrid 0.001, with "
    "RMSProp steps).",
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
    "--hash-center",
    is_flag=True,
    help="With --hash-embeddings: subtract the vocabulary's mean vector from the finished "
    "table (every word, seen or not, moves alike). Removes the component all hash vectors "
    "share; raised WordSim-353 Spearman by 0.07-0.14 on the benchmark corpus (see README).",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save the training state here after each epoch (default: OUTPUT.ckpt.npz).",
)
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
@vocabulary_options
@store_output_options
@reports_errors
def train(
    corpus: tuple[str, ...],
    output: str,
    model: str | None,
    compass: bool,
    slice_min_count: int | None,
    slice_init: str,
    dim: int | None,
    window: int,
    negatives: int | None,
    cbow_batch: int | None,
    shuffle: bool | None,
    min_count: int,
    max_vocab: int | None,
    sample: float | None,
    order_weight: float | None,
    cmow_loss_weight: float | None,
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
    hash_center: bool,
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
    the way fastText does; with --hash-embeddings it holds only the small hash table. With
    --compass, the CORPUS files are slices trained into one space (one store per slice in the
    OUTPUT folder). With --model cmow or hybrid each word also gets a matrix, and `wordvec
    encode` turns sentences into order-aware vectors (one sentence per line matters here:
    training windows never cross a line end). --model pu or glove factorizes the corpus's
    co-occurrence matrix instead (as `wordvec train-pu`).
    """
    import time

    from wordvec.formats.store import write_store
    from wordvec.train import Word2VecConfig, train_word2vec

    if model in ("pu", "glove"):
        _run_factorization(corpus, output, model)
        return
    if model in ("cmow", "hybrid"):
        from wordvec.cli.train_cmow import run_cmow

        unsupported = [
            name
            for name, given in (
                ("--compass", compass),
                ("--cbow-batch", cbow_batch is not None),
                ("--shuffle/--no-shuffle", shuffle is not None),
                ("--subwords", subwords),
                ("--hash-embeddings", hash_embeddings),
                ("--hash-center", hash_center),
                ("--checkpoint", checkpoint is not None),
                ("--resume", resume),
                ("--init", init_store is not None),
            )
            if given
        ]
        if unsupported:
            raise click.UsageError(f"{', '.join(unsupported)}: not available with --model {model}")
        run_cmow(
            corpus,
            output,
            model=model,
            dim=dim,
            window=window,
            negatives=negatives,
            min_count=min_count,
            max_vocab=max_vocab,
            sample=sample,
            order_weight=order_weight,
            cmow_loss_weight=cmow_loss_weight,
            epochs=epochs,
            learning_rate=learning_rate,
            noise_power=noise_power,
            threads=threads,
            seed=seed,
            lowercase=lowercase,
            dtype=dtype,
            progress=progress,
            as_json=as_json,
        )
        return
    if order_weight is not None:
        raise click.UsageError("--order-weight: only with --model cmow or hybrid")
    if cmow_loss_weight is not None:
        raise click.UsageError("--cmow-loss-weight: only with --model hybrid")
    config = Word2VecConfig(
        model=(model or ("cbow" if compass else "skipgram")),  # type: ignore[arg-type]
        dim=100 if dim is None else dim,
        window=window,
        n_negatives=5 if negatives is None else negatives,
        cbow_batch=cbow_batch or (1 if compass else 2),
        shuffle=True if shuffle is None else shuffle,
        min_count=min_count,
        max_vocab_size=max_vocab,
        sample=1e-3 if sample is None else sample,
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
        hash_center=hash_center,
    )
    if compass:
        if checkpoint is not None or resume or init_store is not None or hash_embeddings:
            raise click.UsageError(
                "--compass does not take --checkpoint, --resume, --init or --hash-embeddings"
            )
        _train_compass(list(corpus), output, config, slice_min_count, slice_init, dtype,
                       progress, as_json)  # fmt: skip
        return
    if slice_min_count is not None or slice_init != "random":
        raise click.UsageError("--slice-min-count and --slice-init need --compass")
    if os.path.isdir(output):
        raise click.UsageError(f"{output} is a folder: give the store's file name")
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


def _train_compass(
    corpus: list[str],
    output: str,
    config: Word2VecConfig,
    slice_min_count: int | None,
    slice_init: str,
    dtype: str,
    progress: bool | None,
    as_json: bool,
) -> None:
    import time

    from wordvec.compass import COMPASS_NAME, CompassConfig, slice_names, train_compass
    from wordvec.formats.store import write_store

    if len(corpus) < 2:
        raise click.UsageError("--compass needs at least two CORPUS files (the slices)")
    if os.path.exists(output) and not os.path.isdir(output):
        raise click.UsageError(f"{output} exists and is not a folder")
    compass_config = CompassConfig(
        word2vec=config,
        slice_min_count=slice_min_count,
        init=slice_init,  # type: ignore[arg-type]
    )
    slice_names(corpus)  # name clashes fail before hours of training
    started = time.perf_counter()
    result = train_compass(corpus, compass_config, progress=progress)
    os.makedirs(output, exist_ok=True)
    written = {}
    for name, embeddings in [(COMPASS_NAME, result.compass), *result.slices.items()]:
        path = os.path.join(output, f"{name}.h5")
        write_store(path, embeddings, dtype=dtype, progress=progress)
        written[name] = {"path": path, "n_words": len(embeddings)}
    seconds = time.perf_counter() - started
    if as_json:
        print_json(
            {
                "output": output,
                "stores": written,
                "dim": result.compass.dim,
                "seconds": seconds,
                "config": compass_config.to_json(),
            }
        )
        return
    for name, info in written.items():
        click.echo(f"{info['path']}: {info['n_words']} words ({name})")
    click.echo(f"{len(result.slices)} slices in one space, {seconds:.1f} s")


# Options of `wordvec train` that `wordvec train-pu` shares (same names and meaning).
_FACTORIZATION_SHARED = (
    "dim",
    "window",
    "sample",
    "min_count",
    "max_vocab",
    "threads",
    "seed",
    "lowercase",
    "dtype",
    "checkpoint",
    "resume",
    "progress",
    "as_json",
)


def _run_factorization(corpus: tuple[str, ...], output: str, model: str) -> None:
    """``--model pu|glove``: run ``wordvec train-pu`` with the options given on the command line
    that it shares; any other option given is an error rather than silently ignored."""
    from click.core import ParameterSource

    from wordvec.cli.train_pu import train_pu_command

    ctx = click.get_current_context()
    given = {
        name: value
        for name, value in ctx.params.items()
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
        and name not in ("corpus", "output", "model")
    }
    unsupported = sorted(name for name in given if name not in _FACTORIZATION_SHARED)
    if unsupported:
        flags = {param.name: max(param.opts, key=len) for param in ctx.command.params}
        options = ", ".join(flags[name] for name in unsupported)
        raise click.UsageError(
            f"{options}: not available with --model {model} (see 'wordvec train-pu --help' "
            "for its options)"
        )
    ctx.invoke(train_pu_command, corpus=corpus, output=output, model=model, **given)
