"""``wordvec eval``: word similarity, analogies, EvalRank and bilingual lexicon induction."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from wordvec.cli.common import print_json, reports_errors

if TYPE_CHECKING:
    from wordvec.eval.suite import EvaluationReport, TaskOutcome


@click.command("eval")
@click.argument("store", type=click.Path(dir_okay=False))
@click.option(
    "--similarity",
    "similarity",
    multiple=True,
    metavar="NAME|PATH",
    help="Word-similarity dataset: wordsim353, simlex999 or a file of 'word1 word2 score' "
    "lines. Repeatable.",
)
@click.option(
    "--analogy",
    metavar="NAME|PATH",
    default=None,
    help="Analogy dataset: google or a file in its format (': section' headers, 'a b c d').",
)
@click.option(
    "--restrict-vocab",
    type=click.IntRange(min=1),
    default=300_000,
    show_default=True,
    metavar="N",
    help="Only the first N words count as known and are searched (as gensim).",
)
@click.option(
    "--method",
    type=click.Choice(["3cosadd", "3cosmul"]),
    default="3cosadd",
    show_default=True,
    help="Analogy scoring: 3CosAdd (Mikolov et al.) or 3CosMul (Levy & Goldberg).",
)
@click.option(
    "--case-sensitive",
    is_flag=True,
    help="Match dataset words exactly (default: ignore case, as gensim).",
)
@click.option(
    "--oov",
    type=click.Choice(["drop", "zero", "fallback"]),
    default="drop",
    show_default=True,
    help="Similarity pairs with an unknown word: leave out, score 0, or use the store's "
    "OOV vector.",
)
@click.option(
    "--evalrank",
    is_flag=True,
    help="EvalRank (Wang et al. 2022): rank similar words among background words; pairs "
    "come from the similarity datasets.",
)
@click.option(
    "--bli",
    metavar="PAIRS",
    default=None,
    type=click.Path(dir_okay=False),
    help="Bilingual lexicon induction with a dictionary of 'source target' lines; needs --target.",
)
@click.option(
    "--target",
    metavar="STORE",
    default=None,
    type=click.Path(dir_okay=False),
    help="Target-language store for --bli (in the same space as STORE).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def eval_command(
    store: str,
    similarity: tuple[str, ...],
    analogy: str | None,
    restrict_vocab: int,
    method: str,
    case_sensitive: bool,
    oov: str,
    evalrank: bool,
    bli: str | None,
    target: str | None,
    as_json: bool,
) -> None:
    """Evaluate the vectors in STORE. Without a task option: wordsim353 and simlex999
    (Spearman) and the Google analogies (accuracy), datasets bundled with gensim.

    Results match gensim's evaluate_word_pairs / evaluate_word_analogies under the same
    --restrict-vocab and case handling. Exits with status 1 if a task could not be scored
    (e.g. no word of its dataset is in the vocabulary).
    """
    import wordvec
    from wordvec.eval.suite import run_evaluation

    if bli is not None and target is None:
        raise click.UsageError("--bli needs --target STORE")
    if target is not None and bli is None:
        raise click.UsageError("--target is only used with --bli PAIRS")
    with wordvec.load(store) as vectors:
        target_vectors = wordvec.load(target) if target is not None else None
        try:
            report = run_evaluation(
                vectors,
                similarity=similarity,
                analogy=analogy,
                bli=bli,
                target=target_vectors,
                evalrank=evalrank,
                restrict_vocab=restrict_vocab,
                method=method,  # type: ignore[arg-type]
                case_insensitive=not case_sensitive,
                similarity_oov=oov,  # type: ignore[arg-type]
            )
        finally:
            if target_vectors is not None:
                target_vectors.close()
    if as_json:
        print_json(report.to_dict())
    else:
        _print_table(report)
    sys.stdout.flush()
    if report.failed:
        raise click.exceptions.Exit(1)


def _print_table(report: EvaluationReport) -> None:
    click.echo(f"# {report.vectors}: {report.n_words:,} words x {report.dim} dims")
    header = ("task", "dataset", "score", "measure", "coverage", "detail")
    rows = [header]
    sections: dict[int, list[str]] = {}
    for i, outcome in enumerate(report.outcomes):
        rows.append(_row(outcome))
        result = outcome.result
        if outcome.task == "analogy" and result is not None:
            sections[i + 1] = [_section_line(s) for s in result.sections]  # type: ignore[union-attr]
    widths = [max(len(r[c]) for r in rows) for c in range(len(header) - 1)]
    for i, row in enumerate(rows):
        cells = [row[c].ljust(widths[c]) for c in range(len(header) - 1)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())
        for line in sections.get(i, ()):
            click.echo(line)
    for outcome in report.failed:
        click.echo(f"error: {outcome.task}: {outcome.error}", err=True)


def _section_line(section: Any) -> str:
    scored = section.correct + section.incorrect
    accuracy = f"{section.accuracy:.4f}" if scored else "-"
    oov = f"  ({section.oov} oov)" if section.oov else ""
    return f"    {section.name:<28} {accuracy:<6}  {section.correct}/{scored}{oov}"


def _row(outcome: TaskOutcome) -> tuple[str, str, str, str, str, str]:
    result: Any = outcome.result
    if result is None:
        return (outcome.task, outcome.dataset, "-", "-", "-", "not scored (see below)")
    coverage = f"{100 * result.coverage:.1f}%"
    if outcome.task == "similarity":
        detail = f"pearson {result.pearson:.4f}; {result.n_scored}/{result.n_pairs} pairs scored"
        return ("similarity", result.dataset, f"{result.score:.4f}", "spearman", coverage, detail)
    if outcome.task == "analogy":
        total = result.total
        detail = (
            f"{total.correct}/{total.correct + total.incorrect} correct; "
            f"restrict_vocab {result.restrict_vocab:,}"
        )
        measure = f"accuracy ({result.method})"
        return ("analogy", result.dataset, f"{result.score:.4f}", measure, coverage, detail)
    if outcome.task == "evalrank":
        hits = ", ".join(f"hits@{k} {v:.4f}" for k, v in result.hits.items())
        detail = f"{hits}; {result.n_ranked} pairs among {result.n_background:,} words"
        return ("evalrank", result.dataset, f"{result.score:.4f}", "MRR", coverage, detail)
    method = "csls" if "csls" in result.precision else "nn"
    detail = "; ".join(
        f"{m} " + " ".join(f"P@{k} {p:.4f}" for k, p in by_k.items())
        for m, by_k in result.precision.items()
    )
    measure = f"P@1 ({method})"
    return ("bli", result.dictionary, f"{result.score:.4f}", measure, coverage, detail)
