"""One small finished sweep shared by the report tests (built once per session)."""

import pytest

from benchsim.sweep import make_spec, run_sweep

PARAMS = ("emtnas.population_size=4", "emtnas.generations=3")


@pytest.fixture(scope="session")
def finished_sweep(installed_home, tmp_path_factory):
    """rs, rea and (small) EMT-NAS, seeds 0-3, NB201 cifar10 + cifar100, 20 evaluations."""
    out = tmp_path_factory.mktemp("report") / "sweep"
    spec = make_spec("rs,rea,emtnas", "0-3", tasks="cifar10,cifar100", budget="20", params=PARAMS)
    summary = run_sweep(spec, out)
    assert summary.finished == 12
    return out
