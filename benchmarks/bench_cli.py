"""How fast the CLI answers: `dltheory list`, `--help`, `--version` and a mistyped name, against `python -c pass`.

Each command is started as a fresh process ``REPEATS`` times (interleaved with the baseline, so both
see the same load); the table gives the median and the minimum wall time and their ratio to the
baseline measured in the same run. The target (issue 15) is ≤ 0.5 s on an idle machine for every
command here; on a loaded machine read the ratios and the load average printed at the top.

    .venv/bin/python benchmarks/bench_cli.py [REPEATS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "dltheory list": [sys.executable, "-m", "dltheory.cli", "list"],
    "dltheory --help": [sys.executable, "-m", "dltheory.cli", "--help"],
    "dltheory --version": [sys.executable, "-m", "dltheory.cli", "--version"],
    "dltheory run <typo>": [sys.executable, "-m", "dltheory.cli", "run", "kernel-propogation"],
    "dltheory show <typo>": [sys.executable, "-m", "dltheory.cli", "show", "critcality"],
}
HEAVY = ("torch", "scipy", "pandas")


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def _heavy_imports(args: list[str], env: dict[str, str]) -> list[str]:
    """Which of torch, SciPy, pandas the command imports (checked with ``-X importtime``)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args[1:]], capture_output=True, text=True, env=env,
                          check=False)
    found = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    return [m for m in HEAVY if m in found]


def main(repeats: int = 7) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DLTHEORY_EXTRA_EXPERIMENTS"}
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs; {repeats} runs each, interleaved")
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repeats):
        for name, cmd in COMMANDS.items():
            times[name].append(_time(cmd, env))
    base_med = statistics.median(times["python -c pass (baseline)"])
    base_min = min(times["python -c pass (baseline)"])
    print(f"{'command':28s} {'median s':>9s} {'min s':>7s} {'× baseline':>11s} {'over baseline s':>16s}  heavy imports")
    for name, cmd in COMMANDS.items():
        med, low = statistics.median(times[name]), min(times[name])
        heavy = "" if name.startswith("python") else (", ".join(_heavy_imports(cmd, env)) or "none")
        print(f"{name:28s} {med:9.3f} {low:7.3f} {med / base_med:11.1f} {low - base_min:16.3f}  {heavy}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
