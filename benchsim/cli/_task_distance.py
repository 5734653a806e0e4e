"""``benchsim task-distance``: LD-NAS's log-determinant distances between datasets."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("task-distance")
@click.option(
    "--tasks",
    required=True,
    help="Comma-separated datasets, at least two (see `benchsim data prepare --help`; the "
    "synthetic-shapes* sets need no preparing).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="JSON file to write; the CSV (.csv) and heatmap (.png) go next to it.",
)
@click.option(
    "--repeats",
    type=int,
    default=10,
    show_default=True,
    help="Repeated initialisations of the approximation networks (mean and std over them).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every draw.")
@click.option("--device", default=None, help="cuda, cuda:N or cpu (default: cuda when available).")
@click.option(
    "--smoke", is_flag=True, help="Tiny settings (1 epoch of 4 batches, 64 Fisher images)."
)
@click.option(
    "--option",
    "options",
    multiple=True,
    help="Setting name=value: epochs, batch_size, lr, max_batches, channels, fisher_samples, "
    "labels (sampled|expected|target), normalize, sigma, chunk (docs/ldnas.md).",
)
def task_distance(
    tasks: str,
    out: Path,
    repeats: int,
    seed: int,
    device: str | None,
    smoke: bool,
    options: tuple[str, ...],
) -> None:
    """Compute the task distance matrix d[from -> to] of LD-NAS (Le et al., Eq. 1-3).

    Trains an epsilon-approximation network per task and repeat, computes the diagonal Fisher
    information of every network on every task's validation images and writes the
    log-determinant distances (mean and std over --repeats) to OUT (JSON), OUT's .csv and a
    heatmap OUT's .png. LD-NAS reads OUT with --param distances=OUT.
    """
    from benchsim._files import check_output_path
    from benchsim.backends.gpu import task_distance as compute
    from benchsim.cli._group import CliError
    from benchsim.cli._live import parse_pairs
    from benchsim.report import plot_distance_heatmap

    names = [t.strip() for t in tasks.split(",") if t.strip()]
    if len(names) < 2:
        raise CliError(f"--tasks {tasks!r} names {len(names)} task(s); give at least two")
    if out.suffix.lower() != ".json":
        raise CliError(f"--out {str(out)!r} must end in .json (the CSV and PNG go next to it)")
    check_output_path(out, "--out", folder=False)  # now, not after the networks are trained
    settings = parse_pairs(options, "--option", "epochs=5")
    matrix = compute(names, repeats=repeats, device=device, seed=seed, smoke=smoke, **settings)
    json_path, csv_path = matrix.write(out)
    png = plot_distance_heatmap(matrix, out.with_suffix(".png"))
    n = len(matrix.tasks)
    width = max(len(t) for t in matrix.tasks) + 5
    click.echo(f"{'d[row -> column]':<{width}}" + "".join(f"{f'[{j}]':>14}" for j in range(n)))
    for i, source in enumerate(matrix.tasks):
        cells = "".join(f"{matrix.mean[i, j]:>8.3f}±{matrix.std[i, j]:<5.3f}" for j in range(n))
        click.echo(f"{f'[{i}] {source}':<{width}}{cells}")
    for task, acc in matrix.approximation.items():
        click.echo(
            f"approximation network of {task}: valid_acc {acc['valid_acc_mean']:.1f} "
            f"± {acc['valid_acc_std']:.1f}%"
        )
    click.echo(f"wrote {json_path}, {csv_path}, {png}", err=True)
