"""``wordvec train-pu``: PU-learning (or GloVe-style) factorization embeddings into a store."""

from __future__ import annotations

import os

import click

from wordvec.cli.common import (
    print_json,
    reports_errors,
    store_output_options,
    vocabulary_options,
)


@click.command("train-pu")
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
    type=click.Choice(["pu", "glove"]),
    default="pu",
    show_default=True,
    help="PU learning (unseen pairs pulled to 0, Jiang et al. 2018) or GloVe-style "
    "weighted least squares on log counts.",
)
@click.option(
    "--dim",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Vector dimension (the paper uses 300).",
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Largest distance between two co-occurring words.",
)
@click.option("--dynamic-window", is_flag=True, help="word2vec's randomly shrunk windows.")
@click.option("--distance-weighting", is_flag=True, help="A pair at distance d counts 1/d.")
@click.option(
    "--sample",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Subsampling threshold for frequent words (0: off).",
)
@click.option(
    "--rho",
    type=click.FloatRange(min=0),
    default=2.0**-4,
    show_default=True,
    help="Weight of each unseen word pair (pu only).",
)
@click.option(
    "--regularization",
    type=click.FloatRange(min=0),
    default=2.0**-11,
    show_default=True,
    help="lambda, scaled by each word's observed pairs.",
)
@click.option(
    "--x-max",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Count at which a pair gets full weight (GloVe: 100).",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Outer iterations (every component of both factors updated).",
)
@click.option(
    "--solver",
    type=click.Choice(["ccd", "als"]),
    default="ccd",
    show_default=True,
    help="ccd: CCD++ coordinate descent (the paper's solver, fast); als: exact alternating "
    "least squares (more progress per iteration, several times slower). Same objective.",
)
@click.option(
    "--block-size",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="ccd: components updated per pass over the data (speed only).",
)
@click.option(
    "--sweeps",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="ccd: coordinate-descent sweeps over a block per pass; sweeps after the first cost "
    "no pass over the data.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Worker threads (0: all cores).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save the factors here after each iteration (default: OUTPUT.ckpt.npz).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: when stderr is a terminal).",
)
@vocabulary_options
@store_output_options
@reports_errors
def train_pu_command(
    corpus: tuple[str, ...],
    output: str,
    model: str,
    dim: int,
    window: int,
    dynamic_window: bool,
    distance_weighting: bool,
    sample: float,
    min_count: int,
    max_vocab: int | None,
    rho: float,
    regularization: float,
    x_max: float,
    iterations: int,
    solver: str,
    block_size: int,
    sweeps: int,
    threads: int,
    seed: int,
    lowercase: bool,
    dtype: str,
    checkpoint: str | None,
    resume: bool,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Train word vectors by PU-learning matrix factorization of the PPMI matrix (Jiang et al.,
    NAACL 2018; suited to small corpora) or GloVe-style factorization, on CORPUS files, and
    write them to a store. The store records the full configuration."""
    import time

    from wordvec.formats.store import write_store
    from wordvec.pu import PUConfig, train_pu

    config = PUConfig(
        model=model,  # type: ignore[arg-type]
        dim=dim,
        window=window,
        dynamic_window=dynamic_window,
        distance_weighting=distance_weighting,
        sample=sample,
        min_count=min_count,
        max_vocab_size=max_vocab,
        rho=rho,
        regularization=regularization,
        x_max=x_max,
        iterations=iterations,
        solver=solver,  # type: ignore[arg-type]
        block_size=block_size,
        sweeps=sweeps,
        threads=threads,
        seed=seed,
        lowercase=lowercase,
    )
    checkpoint_path = checkpoint or f"{output}.ckpt.npz"
    started = time.perf_counter()
    embeddings = train_pu(
        list(corpus), config, checkpoint=checkpoint_path, resume=resume, progress=progress
    )
    write_store(output, embeddings, dtype=dtype, progress=progress)
    if os.path.exists(checkpoint_path) and checkpoint is None:
        os.remove(checkpoint_path)  # the run finished: the default checkpoint has served
    seconds = time.perf_counter() - started
    objective = list(embeddings.metadata.get("objective", []))
    summary = {
        "output": output,
        "n_words": len(embeddings),
        "dim": embeddings.dim,
        "seconds": seconds,
        "objective": objective,
        "config": config.to_json(),
    }
    if as_json:
        print_json(summary)
    else:
        click.echo(f"{output}: {len(embeddings)} words x {embeddings.dim} dims in {seconds:.1f} s")
