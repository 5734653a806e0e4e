"""``benchsim data prepare``: convert a dataset's official files for the live backend.

A standalone :class:`click.Command` named ``prepare``; attach it with ``data.add_command(prepare)``
(errors then print as one line through the root group, like every other command).
"""

from __future__ import annotations

from pathlib import Path

import click

DATASET_NAMES = (
    "cifar10", "cifar100", "ImageNet16-120", "pathmnist", "organamnist", "organcmnist",
    "organsmnist", "synthetic-shapes", "synthetic-shapes-permuted", "synthetic-shapes-binary",
    "synthetic-shapes-32", "synthetic-shapes-b",
)  # fmt: skip
"""Static copy of :data:`benchsim.datasets.DATASET_NAMES` (a test keeps them equal) so that
``--help`` imports nothing."""


@click.command(name="prepare")
@click.argument("name", type=click.Choice(DATASET_NAMES, case_sensitive=False))
@click.argument(
    "source", required=False, type=click.Path(path_type=Path, exists=False, dir_okay=True)
)
@click.option(
    "--from",
    "from_path",
    type=click.Path(path_type=Path, exists=False, dir_okay=True),
    default=None,
    help="The source, as an option (same as SOURCE).",
)
@click.option(
    "--download",
    is_flag=True,
    help="Fetch the official file (CIFAR-10/100 from the authors' site, MedMNIST from Zenodo), "
    "MD5-verified; read from $BENCHSIM_DATASET_MIRROR when set.",
)
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder [default: $BENCHSIM_HOME/datasets].",
)
def prepare(
    name: str, source: Path | None, from_path: Path | None, download: bool, root: Path | None
) -> None:
    """Convert dataset NAME from SOURCE (or --from PATH) into one HDF5 file; print its path.

    SOURCE is the official download, which you provide, or which --download fetches (by
    accepting the dataset's terms): the cifar-10-batches-py or cifar-100-python folder or its
    .tar.gz; the NAS-Bench-201 ImageNet16
    folder (train_data_batch_1..10, val_data); a MedMNIST NAME.npz or its folder.  The
    synthetic sets take no SOURCE.  Splits follow NAS-Bench-201 (cifar10: train/valid = halves
    of the training set; cifar100 and ImageNet16-120: valid/test = halves of the test set),
    class-stratified with a fixed seed.
    """
    from benchsim.cli._group import CliError
    from benchsim.datasets import prepare as prepare_dataset
    from benchsim.datasets import read_summary

    if source is not None and from_path is not None and source != from_path:
        raise CliError(f"SOURCE {str(source)!r} and --from {str(from_path)!r} differ; give one")
    source = source if source is not None else from_path
    path = prepare_dataset(name, source, root=root, download=download, progress=True)
    summary = read_summary(path)
    sizes = ", ".join(f"{split} {count}" for split, count in summary["splits"].items())
    click.echo(str(path))
    click.echo(f"{summary['name']}: {summary['num_classes']} classes; {sizes}", err=True)
