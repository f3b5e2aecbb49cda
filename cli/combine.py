"""``wordvec combine``: meta-embeddings, one store made from several."""

from __future__ import annotations

import resource
import time
from typing import Any

import click

from wordvec.cli.common import print_json, reports_errors


def _parse_weights(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.replace(",", " ").split())
    except ValueError as exc:
        raise click.BadParameter(
            f"expected numbers separated by commas (got {text!r})", param_hint="--weights"
        ) from exc


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the meta-embedding store (.h5).",
)
@click.option(
    "--method",
    type=click.Choice(["concat", "avg", "svd", "css"]),
    default="css",
    show_default=True,
    help="concat: normalized sources side by side; avg: zero-padded mean (Coates & Bollegala "
    "2018); svd: PCA of the concatenation to --dim dims; css: common semantic space "
    "(García-Ferrero et al.): every source mapped into the first one's space by orthogonal "
    "Procrustes, then averaged.",
)
@click.option(
    "--weights",
    default=None,
    help="One positive weight per source, e.g. '1,0.5,1' (default: all 1). Scales concat/svd "
    "blocks, weights the mean of avg/css.",
)
@click.option(
    "--dim",
    type=click.IntRange(min=1),
    default=None,
    help="Output dimension of --method svd (default: the largest source dimension).",
)
@click.option(
    "--vocab",
    "vocabulary",
    type=click.Choice(["union", "intersection"]),
    default="union",
    show_default=True,
    help="Keep the words of any source or only those of all. Words are ordered by mean "
    "relative frequency over the sources.",
)
@click.option(
    "--oov-fill",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="A word missing from a source gets there the mean of its K nearest neighbours found "
    "in a source that has it (0: no fill; zeros for concat/svd, left out of the avg/css mean).",
)
@click.option(
    "--center",
    is_flag=True,
    help="Centre concat/avg/svd sources after L2 normalization (then normalize again); css "
    "always does.",
)
@click.option(
    "--target",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="css: index of the source whose space the others are mapped into.",
)
@click.option(
    "--refine",
    "refine_iterations",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="css: generalized Procrustes rounds after the first mapping (every map re-fitted to "
    "the mean of all).",
)
@click.option(
    "--fill-candidates",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Neighbours for --oov-fill are searched among this many most frequent shared words.",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float16"]),
    default="float32",
    show_default=True,
    help="Precision of the written store.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bars on stderr (default: when stderr is a terminal).",
)
@click.option("--quiet", is_flag=True, help="No progress or log lines on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@reports_errors
def combine(
    sources: tuple[str, ...],
    output: str,
    method: str,
    weights: str | None,
    dim: int | None,
    vocabulary: str,
    oov_fill: int,
    center: bool,
    target: int,
    refine_iterations: int,
    fill_candidates: int,
    dtype: str,
    progress: bool | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Combine the embeddings of several SOURCES (stores) into one meta-embedding store.

    Sources are read from their memory maps a block at a time and the result is streamed into
    OUTPUT, which records the sources and the method; it works with query, eval and the rest
    like any store. Prints the size, the time and the peak memory.
    """
    from wordvec.combine import CombineConfig, write_combined

    config = CombineConfig(
        method=method,  # type: ignore[arg-type]
        weights=_parse_weights(weights),
        dim=dim,
        vocabulary=vocabulary,  # type: ignore[arg-type]
        oov_fill=oov_fill,
        center=center,
        target=target,
        refine_iterations=refine_iterations,
        fill_candidates=fill_candidates,
    )

    def say(line: str) -> None:
        if not quiet:
            click.echo(line, err=True)

    started = time.perf_counter()
    metadata = write_combined(
        output,
        list(sources),
        config,
        dtype=dtype,
        progress=False if quiet else progress,
        say=say,
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    summary: dict[str, Any] = {
        "output": output,
        "method": method,
        "n_words": metadata["n_words"],
        "dim": metadata["dim"],
        "seconds": seconds,
        "peak_memory_mb": peak_mb,
        "sources": [
            {k: v for k, v in source.items() if k != "metadata"} for source in metadata["sources"]
        ],
    }
    if "explained_variance" in metadata:
        summary["explained_variance"] = metadata["explained_variance"]
    if as_json:
        print_json(summary)
        return
    click.echo(
        f"{output}: {summary['n_words']} words x {summary['dim']} dims ({method}) in "
        f"{seconds:.1f} s, peak memory {peak_mb:.0f} MB"
    )
    for source in summary["sources"]:
        click.echo(
            f"  {source['name']}: {source['n_words']} words x {source['dim']}, "
            f"{source['words_in_output']} in the output, {source['filled']} filled"
        )
