"""The live backend's GPU check in one command: CUDA tests, throughput, memory, ranking curve.

Everything issue #13 asks a GPU machine for, written to ONE JSON (rewritten atomically after
every section, so a run cut short by its time limit still returns what it measured):

1. ``environment``: device, torch / CUDA / cuDNN versions, ``nvidia-smi`` when present.
2. ``tests``: ``pytest tests/backends/gpu tests/runner/test_run_gpu.py`` (the CUDA-only tests of
   ``test_cuda.py`` included; they skip without CUDA), counts and every failure's first line.
3. ``smoke``: ``benchsim run --algo emtnas --backend gpu --device DEVICE --smoke`` as a user runs
   it (wall seconds of the process), then the same run in this process for the peak GPU memory.
4. ``throughput``: ``bench_supernet.py``'s step figures on ``synthetic-shapes-32`` (CIFAR-shaped
   32x32 images; no real image data is reachable from the GPU machine): supernet vs stand-alone
   images/s at batch 256 for its three cells, with bf16 autocast + channels_last on and off,
   eager and (last, as it is the slowest) under ``torch.compile``; the end-to-end
   ``train_pass`` rate against the bare step rate (the share of a pass spent outside the steps:
   order, augmentation, host work), and GPU utilisation sampled with NVML during passes where
   ``pynvml`` is importable.
5. ``ranking``: ``ws_training_curve.py``'s measurement on the device: Kendall tau of the
   supernet's scores against its trained self and against stand-alone training, and its
   accuracy, along the passes (the curve the table's weight-sharing emulation calibrates to).

    # a CPU check of the whole pipeline, small (about 5 minutes on 2 cores)
    python benchmarks/gpu_check.py --device cpu --quick --out benchmarks/results/gpu_check_cpu.json

    # on the GPU machine (the device tool), from the repository root; the tests need the data
    # mirror, so copy ../shared/data/upstream into .gpu_mirror/ (git-ignored via
    # .git/info/exclude) and name it in the tool's `carry`:
    BENCHSIM_DATA_MIRROR=.gpu_mirror PYTHONPATH=. PYTHONUNBUFFERED=1 \\
        python3 benchmarks/gpu_check.py --device cuda --out $OUT/gpu_check.json

``--sections`` picks some of ``tests,smoke,throughput,compiled,ranking``.  The default sizes
are meant to finish in about 8 minutes on one H100/H200.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark scripts

import bench_supernet  # noqa: E402
import ws_training_curve  # noqa: E402

from benchsim.backends.gpu import GpuBenchmark  # noqa: E402
from benchsim.backends.gpu._settings import device_name  # noqa: E402
from benchsim.runner._results import atomic_write_json, package_versions  # noqa: E402

SECTIONS = ("tests", "smoke", "throughput", "compiled", "ranking")
DATASET = "synthetic-shapes-32"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    parser.add_argument("--out", type=Path, required=True, help="the JSON of figures")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="which parts to run")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a pipeline check")
    parser.add_argument("--test-timeout", type=int, default=900, help="seconds for pytest")
    args = parser.parse_args(argv)
    unknown = set(args.sections.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"--sections {sorted(unknown)} unknown; allowed: {', '.join(SECTIONS)}")
    return args


class Report:
    """The JSON of figures, rewritten after every section (a timeout keeps what was done)."""

    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        }

    def section(self, name: str, work) -> None:
        began = time.perf_counter()
        print(f"== {name}", flush=True)
        try:
            result = work()
        except Exception as err:  # one section failing must not lose the others
            result = {"error": f"{type(err).__name__}: {err}".splitlines()[0]}
        result["seconds"] = round(time.perf_counter() - began, 2)
        self.data[name] = result
        self.save()
        print(json.dumps(result, default=str)[:2000], flush=True)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.path, self.data)


# ---------------------------------------------------------------------- 1. environment
def environment(device: str) -> dict[str, Any]:
    dev = torch.device(device)
    out: dict[str, Any] = {
        "device": device_name(dev),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "versions": package_versions(),
    }
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        out["gpu"] = {
            "name": props.name,
            "memory_gib": round(props.total_memory / 2**30, 1),
            "multiprocessors": props.multi_processor_count,
            "capability": f"{props.major}.{props.minor}",
        }
    if shutil.which("nvidia-smi"):
        query = "name,driver_version,memory.total,clocks.max.sm"
        smi = subprocess.run(
            ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        out["nvidia_smi"] = smi.stdout.strip() or smi.stderr.strip()
    return out


# ---------------------------------------------------------------------- 2. tests
def run_tests(timeout: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        command = [
            sys.executable, "-m", "pytest", "tests/backends/gpu", "tests/runner/test_run_gpu.py",
            "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
        ]  # fmt: skip
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        if not report.is_file():
            return {
                "exit_code": done.returncode,
                "error": done.stdout[-2000:] + done.stderr[-2000:],
            }
        suites = ET.parse(report).getroot()
    cases = suites.iter("testcase")
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    cuda_only: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}
    failures = []
    for case in cases:
        name = f"{case.get('classname')}::{case.get('name')}"
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        state = (
            "failed"
            if problem is not None
            else "skipped"
            if case.find("skipped") is not None
            else "passed"
        )
        counts[state] += 1
        if "test_cuda" in name:
            cuda_only[state] += 1
        if problem is not None:
            failures.append(f"{name}: {(problem.get('message') or '').splitlines()[:1]}")
    return {"exit_code": done.returncode, **counts, "cuda_only": cuda_only, "failures": failures}


# ---------------------------------------------------------------------- 3. smoke run
def smoke(device: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable, "-m", "benchsim.cli", "run", "--algo", "emtnas", "--backend", "gpu",
            "--device", device, "--smoke", "--no-progress", "--out", f"{tmp}/run",
        ]  # fmt: skip
        began = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
        process_s = time.perf_counter() - began
        result = json.loads((Path(tmp) / "run" / "result.json").read_text())
    out = {
        "command": "benchsim run --algo emtnas --backend gpu --device DEVICE --smoke",
        "exit_code": done.returncode,
        "process_seconds": round(process_s, 2),
        "run_wall_seconds": result["wall_seconds"],
        "charged_gpu_seconds": result["simulated_seconds"],
    }
    from benchsim.runner import RunConfig, execute_run

    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    config = RunConfig(
        algo="emtnas", backend="gpu", tasks=("synthetic-shapes", "synthetic-shapes-b"),
        params={"generations": 2, "population_size": 4},
        backend_options={"device": device, "smoke": True},
    )  # fmt: skip
    execute_run(config)
    if cuda:
        out["peak_gpu_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


# ---------------------------------------------------------------------- 4. throughput
class Utilisation:
    """GPU utilisation (%) sampled every 50 ms with NVML while running, where available."""

    def __init__(self, device: torch.device) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._handle = None
        if device.type != "cuda":
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(device.index or 0)
        except Exception:  # no NVML: utilisation stays unmeasured, said so in the JSON
            self._handle = None

    def __enter__(self) -> Utilisation:
        if self._handle is not None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._nvml.nvmlDeviceGetUtilizationRates(self._handle).gpu)
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._handle is not None:
            self._thread.join()

    def summary(self) -> dict[str, Any] | str:
        if self._handle is None:
            return "unavailable (no CUDA device or no pynvml)"
        values = np.asarray(self.samples[2:] or self.samples, dtype=np.float64)
        return {"mean_percent": float(values.mean()), "samples": int(values.size)}


def throughput(device: str, quick: bool, compiled: bool) -> dict[str, Any]:
    cuda = torch.device(device).type == "cuda"
    size = {"channels": 16, "cells_per_stage": 5, "batch_size": 256} if not quick else {
        "channels": 8, "cells_per_stage": 1, "batch_size": 32,
    }  # fmt: skip
    args = argparse.Namespace(
        batch=size["batch_size"], compile=compiled, warmup=3 if not quick else 1,
        steps=(50 if cuda else 10) if not quick else 2, repeats=5 if not quick else 1,
    )  # fmt: skip
    out: dict[str, Any] = {"dataset": DATASET, "network": size}
    for amp in (True, False):
        label = "bf16+channels_last" if amp else "fp32, NCHW"
        bench = GpuBenchmark(
            "nb201", (DATASET,), device=device, seed=0, amp=amp, channels_last=amp,
            max_batches_per_pass=40 if not quick else 2, max_eval_batches=4, **size,
        )  # fmt: skip
        rows = bench_supernet.step_figures(bench, args)
        figures = {name.strip(): value for name, value, _, _ in rows}
        if not compiled:
            task = bench.tasks[0]
            arch = bench.space.index(bench_supernet.ARCHS["NB201 best (cifar10)"])
            rng = np.random.default_rng(0)
            bench.weight_sharing.train_pass(task, [arch], rng=rng)  # warm-up
            with Utilisation(bench.device) as util:
                seconds = min(
                    bench.weight_sharing.train_pass(task, [arch], rng=rng) for _ in range(3)
                )
            images = bench.batches_per_pass(task) * bench.settings.batch_size
            step_rate = figures["NB201 best (cifar10): supernet step (img/s)"]
            pass_rate = images / seconds
            figures["train_pass, one arch (img/s)"] = pass_rate
            figures["share of a pass outside the steps"] = max(0.0, 1.0 - pass_rate / step_rate)
            figures["GPU utilisation during passes"] = util.summary()
        out[label] = figures
    if cuda:
        out["peak_gpu_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


# ---------------------------------------------------------------------- 5. ranking curve
def ranking(device: str, quick: bool) -> dict[str, Any]:
    cuda = torch.device(device).type == "cuda"
    if quick:
        sizes = {"archs": 6, "passes": 4, "checkpoints": 3, "seeds": 1, "standalone_epochs": 1,
                 "channels": 8, "cells": 1, "batch": 32}  # fmt: skip
    else:
        sizes = {"archs": 30, "passes": 120 if cuda else 30, "checkpoints": 12, "seeds": 2,
                 "standalone_epochs": 12, "channels": 16, "cells": 5, "batch": 256}  # fmt: skip
    args = argparse.Namespace(
        device=device, dataset=DATASET, bn_eval="batch", threads=None, smoke=False,
        out=None, refit=None, **sizes,
    )  # fmt: skip
    figures = ws_training_curve.measure(args)
    figures.pop("provenance", None)
    for curve in figures["curves"]:
        curve.pop("scores", None)  # the raw scores make the JSON long; the taus are kept
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wanted = args.sections.split(",")
    report = Report(args.out, args)
    report.section("environment", lambda: environment(args.device))
    if "tests" in wanted:
        report.section("tests", lambda: run_tests(args.test_timeout))
    if "smoke" in wanted:
        report.section("smoke", lambda: smoke(args.device))
    if "throughput" in wanted:
        report.section("throughput", lambda: throughput(args.device, args.quick, False))
    if "ranking" in wanted:
        report.section("ranking", lambda: ranking(args.device, args.quick))
    if "compiled" in wanted:
        report.section("compiled", lambda: throughput(args.device, args.quick, True))
    report.data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report.save()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
