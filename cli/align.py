"""``wordvec align``: map two stores into one cross-lingual space (VecMap-style self-learning)."""

from __future__ import annotations

import os
import time
from typing import Any

import click

from wordvec.cli.common import print_json, reports_errors

_PERCENT = 100.0


@click.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for src.h5, tgt.h5 (the mapped stores) and mapping.npz; created if needed.",
)
@click.option(
    "--dictionary",
    "dictionary_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Seed dictionary: one 'source target' pair per line, '#' comments.",
)
@click.option("--identical", is_flag=True, help="Seed with the words spelled the same in both.")
@click.option(
    "--unsupervised",
    is_flag=True,
    help="No seed: start from similarity distributions (Artetxe et al., 2018).",
)
@click.option(
    "--self-learning/--no-self-learning",
    default=None,
    help="Iterate mapping and dictionary induction (default: on; off = plain supervised).",
)
@click.option(
    "--normalize",
    default="unit,center,unit",
    show_default=True,
    help="Normalization steps for both sides: unit, center, unitdim, centeremb, none.",
)
@click.option(
    "--orthogonal",
    is_flag=True,
    help="Final mapping: orthogonal Procrustes only (no whitening or re-weighting).",
)
@click.option("--whiten/--no-whiten", default=None, help="Whiten both sides (default: on).")
@click.option("--src-reweight", type=float, default=None, help="Source re-weighting power (0.5).")
@click.option("--tgt-reweight", type=float, default=None, help="Target re-weighting power (0.5).")
@click.option(
    "--src-dewhiten",
    type=click.Choice(["src", "tgt", "none"]),
    default=None,
    help="De-whiten the source with the source's or target's whitening (src).",
)
@click.option(
    "--tgt-dewhiten",
    type=click.Choice(["src", "tgt", "none"]),
    default=None,
    help="De-whiten the target with the source's or target's whitening (tgt).",
)
@click.option(
    "--dim-reduction",
    type=click.IntRange(min=1),
    default=None,
    help="Keep only this many dimensions of the mapped space.",
)
@click.option(
    "--vocabulary-cutoff",
    type=click.IntRange(min=1),
    default=None,
    help="Induce dictionaries among this many most frequent words per side (20000).",
)
@click.option(
    "--csls-k",
    type=click.IntRange(min=0),
    default=None,
    help="CSLS neighbourhood in dictionary induction (10; 0: nearest neighbour).",
)
@click.option(
    "--direction",
    type=click.Choice(["union", "forward", "backward"]),
    default=None,
    help="Dictionary induction direction (union).",
)
@click.option(
    "--stochastic-interval",
    type=click.IntRange(min=1),
    default=None,
    help="Iterations without improvement before the keep probability doubles.",
)
@click.option(
    "--stochastic-initial",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=None,
    help="First keep probability of stochastic dictionary induction (1: no dropout).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=None,
    help="Smallest objective gain that counts as an improvement.",
)
@click.option(
    "--max-iterations", type=click.IntRange(min=1), default=None, help="Self-learning limit."
)
@click.option(
    "--lagged-csls/--exact-csls",
    default=None,
    help="CSLS from the previous iteration's neighbourhoods (one pass per iteration, faster) "
    "or recomputed (two passes).",
)
@click.option(
    "--unsupervised-vocab",
    type=click.IntRange(min=2),
    default=None,
    help="Most frequent words compared by --unsupervised initialization (4000).",
)
@click.option(
    "--restarts",
    type=click.IntRange(min=1),
    default=None,
    help="Unsupervised runs; the best by mean CSLS cosine is kept (1).",
)
@click.option("--seed", type=int, default=None, help="Random seed of the dropout (0).")
@click.option(
    "--test-dictionary",
    "test_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Evaluate bilingual lexicon induction (P@1/5/10) on these pairs.",
)
@click.option(
    "--retrieval",
    type=click.Choice(["csls", "nn", "both"]),
    default="csls",
    show_default=True,
    help="Retrieval for --test-dictionary.",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float16"]),
    default="float32",
    show_default=True,
    help="Precision of the written stores.",
)
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@reports_errors
def align(
    source: str,
    target: str,
    output: str,
    dictionary_path: str | None,
    identical: bool,
    unsupervised: bool,
    self_learning: bool | None,
    normalize: str,
    orthogonal: bool,
    whiten: bool | None,
    src_reweight: float | None,
    tgt_reweight: float | None,
    src_dewhiten: str | None,
    tgt_dewhiten: str | None,
    dim_reduction: int | None,
    vocabulary_cutoff: int | None,
    csls_k: int | None,
    direction: str | None,
    stochastic_interval: int | None,
    stochastic_initial: float | None,
    threshold: float | None,
    max_iterations: int | None,
    lagged_csls: bool | None,
    unsupervised_vocab: int | None,
    restarts: int | None,
    seed: int | None,
    test_path: str | None,
    retrieval: str,
    dtype: str,
    quiet: bool,
    as_json: bool,
) -> None:
    """Align the embeddings of SOURCE and TARGET (stores of two languages) into one space.

    Give a seed with exactly one of --dictionary, --identical or --unsupervised. Writes
    OUTPUT/src.h5 and OUTPUT/tgt.h5 (both languages in the shared space) and
    OUTPUT/mapping.npz (apply it to other stores of either language later); prints the seed
    dictionary's coverage, the self-learning outcome and, with --test-dictionary, BLI
    precision. Progress goes to stderr.
    """
    import dataclasses

    import wordvec
    from wordvec.align import AlignConfig, save_mapping
    from wordvec.align import align as align_spaces
    from wordvec.align_dictionary import read_dictionary
    from wordvec.align_retrieval import evaluate_bli
    from wordvec.formats.store import write_store

    chosen = [name for name, on in [("--dictionary", dictionary_path is not None),
                                     ("--identical", identical),
                                     ("--unsupervised", unsupervised)] if on]  # fmt: skip
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --dictionary PAIRS, --identical or --unsupervised"
            + (f" (got {' and '.join(chosen)})" if chosen else "")
        )
    init = "dictionary" if dictionary_path else "identical" if identical else "unsupervised"
    settings: dict[str, Any] = {"init": init, "normalize": normalize}
    if orthogonal:
        settings.update(whiten=False, src_reweight=0.0, tgt_reweight=0.0)
    optional = {
        "self_learning": self_learning,
        "whiten": whiten,
        "src_reweight": src_reweight,
        "tgt_reweight": tgt_reweight,
        "dim_reduction": dim_reduction,
        "vocabulary_cutoff": vocabulary_cutoff,
        "csls_k": csls_k,
        "direction": direction,
        "stochastic_interval": stochastic_interval,
        "stochastic_initial": stochastic_initial,
        "threshold": threshold,
        "max_iterations": max_iterations,
        "lagged_csls": lagged_csls,
        "unsupervised_vocab": unsupervised_vocab,
        "restarts": restarts,
        "seed": seed,
    }
    settings.update({k: v for k, v in optional.items() if v is not None})
    for key, value in (("src_dewhiten", src_dewhiten), ("tgt_dewhiten", tgt_dewhiten)):
        if value is not None:
            settings[key] = None if value == "none" else value
    config = AlignConfig(**settings)

    # Read both dictionaries before the (long) alignment, so a bad file fails at once.
    seed_pairs = read_dictionary(dictionary_path) if dictionary_path else None
    test_pairs = read_dictionary(test_path) if test_path else None

    def say(line: str) -> None:
        if not quiet:
            click.echo(line, err=True)

    started = time.perf_counter()
    with wordvec.load(source) as store:
        source_embeddings = store.to_embeddings()
    with wordvec.load(target) as store:
        target_embeddings = store.to_embeddings()
    say(
        f"aligning {source} ({len(source_embeddings)} words) and {target} "
        f"({len(target_embeddings)} words), {source_embeddings.dim} dims"
    )
    result = align_spaces(
        source_embeddings, target_embeddings, config, dictionary=seed_pairs, progress=say
    )
    os.makedirs(output, exist_ok=True)
    mapping = dataclasses.replace(
        result.mapping,
        metadata={**result.mapping.metadata, "source_store": source, "target_store": target},
    )
    outputs = {
        "source": os.path.join(output, "src.h5"),
        "target": os.path.join(output, "tgt.h5"),
        "mapping": os.path.join(output, "mapping.npz"),
    }
    write_store(outputs["source"], result.source, dtype=dtype)
    write_store(outputs["target"], result.target, dtype=dtype)
    save_mapping(outputs["mapping"], mapping)
    summary: dict[str, Any] = {"outputs": outputs, **result.summary()}
    if test_pairs is not None:
        methods = ("nn", "csls") if retrieval == "both" else (retrieval,)
        scores = evaluate_bli(result.source, result.target, test_pairs, methods=methods)
        summary["bli"] = scores.to_dict()
    summary["total_seconds"] = time.perf_counter() - started
    if as_json:
        print_json(summary)
    else:
        _print_text(summary)


def _print_text(summary: dict[str, Any]) -> None:
    seed = summary["seed_dictionary"]
    if seed is not None:
        click.echo(
            f"seed dictionary: {seed['pairs_found']} of {seed['pairs']} pairs found "
            f"({seed['pair_coverage'] * _PERCENT:.1f} %); {seed['pairs_missing_source_word']} "
            f"lack the source word, {seed['pairs_missing_target_word']} the target word"
        )
        if seed["missing_examples"]:
            examples = ", ".join(" ".join(p) for p in seed["missing_examples"])
            click.echo(f"  not found, e.g.: {examples}")
    else:
        click.echo(f"unsupervised seed: {summary['seed_pairs_used']} pairs")
    if summary["self_learning"]:
        state = "converged" if summary["converged"] else "not converged"
        click.echo(
            f"self-learning: {summary['iterations']} iterations ({state}), objective "
            f"{summary['objective']:.4f}, final dictionary {summary['final_dictionary_pairs']} "
            "pairs"
        )
    click.echo(f"mean CSLS cosine (MUSE criterion): {summary['criterion_mean_csls_cosine']:.4f}")
    outputs = summary["outputs"]
    click.echo(
        f"wrote {outputs['source']}, {outputs['target']} and {outputs['mapping']} "
        f"({summary['total_seconds']:.1f} s)"
    )
    bli = summary.get("bli")
    if bli is not None:
        for method, precision in bli["precision"].items():
            figures = "  ".join(f"P@{k} {p * _PERCENT:.1f}" for k, p in precision.items())
            click.echo(
                f"BLI {bli['dictionary']} ({method}): {figures}  coverage "
                f"{bli['coverage'] * _PERCENT:.1f} % ({bli['source_words_found']} of "
                f"{bli['source_words']} source words)"
            )
