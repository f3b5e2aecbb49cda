"""The ``wordvec`` command group; each subcommand lives in its own module."""

from __future__ import annotations

import click

from wordvec import __version__
from wordvec.cli.align import align
from wordvec.cli.combine import combine
from wordvec.cli.compress import compress
from wordvec.cli.convert import convert
from wordvec.cli.encode import encode
from wordvec.cli.eval import eval_command
from wordvec.cli.info import info
from wordvec.cli.query import query
from wordvec.cli.train import train
from wordvec.cli.train_pu import train_pu_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wordvec")
def cli() -> None:
    """Static word embeddings: train, align, combine, compress, convert, evaluate and query.

    Vectors live in a memory-mapped store (one .h5 file) that opens instantly at any size.
    """


cli.add_command(train)
cli.add_command(train_pu_command)
cli.add_command(align)
cli.add_command(combine)
cli.add_command(convert)
cli.add_command(compress)
cli.add_command(eval_command)
cli.add_command(query)
cli.add_command(info)
cli.add_command(encode)


if __name__ == "__main__":
    cli()
