"""The CMOW and hybrid branch of ``wordvec train`` (``--model cmow|hybrid``)."""

from __future__ import annotations

import time

import click

from wordvec.cli.common import print_json


def run_cmow(
    corpus: tuple[str, ...],
    output: str,
    *,
    model: str,
    dim: int | None,
    window: int,
    negatives: int | None,
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
    dtype: str,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Train with :func:`wordvec.cmow.train_cmow`, write the store, print a summary; options
    left unset take the CMOW defaults of :class:`wordvec.cmow.CMOWConfig`."""
    from wordvec.cmow import CMOWConfig, train_cmow
    from wordvec.formats.store import write_store

    given = {
        "n_negatives": negatives,
        "sample": sample,
        "noise_power": noise_power,
        "order_weight": order_weight,
        "cmow_loss_weight": cmow_loss_weight,
    }
    config = CMOWConfig(
        model=model,  # type: ignore[arg-type]
        dim=dim,
        window=window,
        min_count=min_count,
        max_vocab_size=max_vocab,
        epochs=epochs,
        learning_rate=learning_rate,
        threads=threads,
        seed=seed,
        lowercase=lowercase,
        **{k: v for k, v in given.items() if v is not None},  # type: ignore[arg-type]
    )
    started = time.perf_counter()
    embeddings = train_cmow(list(corpus), config, progress=progress)
    write_store(output, embeddings, dtype=dtype, progress=progress)
    seconds = time.perf_counter() - started
    summary = {
        "output": output,
        "n_words": len(embeddings),
        "dim": embeddings.dim,
        "sentence_encoder": embeddings.metadata["sentence_encoder"],
        "seconds": seconds,
        "config": config.to_json(),
    }
    if as_json:
        print_json(summary)
    else:
        m = config.matrix_dim
        parts = []
        if config.cbow_dim:
            parts.append(f"{config.cbow_dim}-d CBOW vectors")
        if m:
            parts.append(f"{m}x{m} matrices")
        click.echo(
            f"{output}: {len(embeddings)} words, {' + '.join(parts)} ({embeddings.dim} columns) "
            f"in {seconds:.1f} s"
        )
