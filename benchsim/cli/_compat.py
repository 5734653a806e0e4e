"""``benchsim compat``: run unmodified scripts of the official APIs against benchsim."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from benchsim.cli._group import CliError


@click.group(name="compat")
def compat() -> None:
    """Drop-in NATS-Bench / NAS-Bench-201 APIs: run existing scripts on benchsim's tables.

    See docs/compat.md for the supported calls, what raises and why, and the emulations.
    """


@compat.command(
    name="run",
    context_settings={"ignore_unknown_options": True},
)
@click.argument("script", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--emulate",
    default="none",
    show_default=True,
    envvar="BENCHSIM_COMPAT_EMULATE",
    show_envvar=True,
    help="Comma-separated opt-in emulations: hp12-proxy, eval-time, no-latency (see "
    "`benchsim compat emulations`); every emulated answer is labelled.",
)
@click.option("--seed", type=int, default=None, help="Seed of the drop-ins' generator [0].")
@click.option("--benchmark", default=None, help="Benchmark answering the NB201/NATS API [nb201].")
@click.option(
    "--provenance",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write what answered and each emulation's answer count, as JSON.",
)
def run_cmd(
    script: Path,
    args: tuple[str, ...],
    emulate: str,
    seed: int | None,
    benchmark: str | None,
    provenance: Path | None,
) -> None:
    """Run SCRIPT with ARGS (after `--`) as `python SCRIPT ARGS` would, with `import nats_bench`
    and `import nas_201_api` answered by benchsim.

    Example: benchsim compat run "$(benchsim compat script regularized_ea)" --emulate
    hp12-proxy,eval-time,no-latency -- --dataset cifar10 --search_space tss --ea_cycles 200
    --ea_population 10 --ea_sample_size 3 --rand_seed 1 --save_dir /tmp/rea

    The official scripts also import xautodl and torchvision: pip install --no-deps
    xautodl==1.0.0 torchvision==0.28.0.  torchvision imports here even beside a CPU-only
    torch, whose build its compiled ops do not match (docs/compat.md).
    """
    from benchsim._files import atomic_write_json, check_output_path
    from benchsim.compat._run import run_script
    from benchsim.errors import BenchsimError

    if provenance is not None:  # refused before the script runs, not after
        check_output_path(provenance, "--provenance", folder=False, parents=False)
    try:
        record = run_script(script, args, emulate=emulate, seed=seed, benchmark=benchmark)
    except BenchsimError:
        raise  # one line, exit 2 (the group's rule)
    except Exception:  # the script's own failure: show it as python would
        traceback.print_exc()
        raise click.exceptions.Exit(1) from None
    click.echo(record.summary(), err=True)
    if provenance is not None:
        atomic_write_json(provenance, record.to_dict())
    if record.exit_code:
        raise click.exceptions.Exit(record.exit_code)


@compat.command(name="script")
@click.argument("name", required=False)
@click.option("--list", "show_list", is_flag=True, help="List the pinned scripts.")
def script_cmd(name: str | None, show_list: bool) -> None:
    """Print the local path of pinned third-party script NAME (fetched and SHA-256-checked
    like data: from $BENCHSIM_DATA_MIRROR, else downloaded from its pinned commit)."""
    from benchsim.compat._sources import SCRIPTS, script_path

    if show_list:
        for script in SCRIPTS:
            click.echo(script)
    elif name is None:
        raise CliError("give a script NAME or --list; scripts: " + ", ".join(SCRIPTS))
    else:
        click.echo(str(script_path(name)))


@compat.command(name="emulations")
def emulations_cmd() -> None:
    """List the opt-in emulations and what each answers."""
    from benchsim.compat._config import EMULATIONS

    for emulation, label in EMULATIONS.items():
        click.echo(f"{emulation}: {label}")
    sys.stdout.flush()
