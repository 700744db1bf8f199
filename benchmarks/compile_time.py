"""Time a whole tesselc compile for sm_90a, stage by stage: frontend, tile
and conversion passes, LLVM (O3 and PTX), ptxas. Runs tesselc as a user
would (a fresh process each time) and prints the median of each stage.

    python3 benchmarks/compile_time.py [--repeat 5] [--tesselc build/bin/tesselc]
                                       [--baseline OTHER/bin/tesselc]

With --baseline, the other build's tesselc runs in the same process,
alternating with this one run by run (so both see the same machine load),
and the ratio of the medians of the whole compile is printed.

The goal for the GEMM is a whole compile under 300 ms.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = [
    ("gemm fp16 4096^3 (128x128x64 tiles)", "examples/gemm/gemm.py", "matmul",
     ["M=4096", "N=4096", "K=4096"]),
    ("flash attention b=1 h=8 s=1024 d=128", "examples/flash_attention/flash_attention.py",
     "flash_attention", ["batch=1", "heads=8", "seq_len=1024", "dim=128"]),
]
STAGES = ["frontend", "passes", "llvm", "ptxas"]


def run_once(tesselc, path, entry, defines, outdir):
    cmd = [tesselc, os.path.join(REPO, path), "--entry", entry, "--emit", "ptx,cubin",
           "-o", outdir, "--timing"]
    for d in defines:
        cmd += ["-D", d]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        sys.exit(f"tesselc failed:\n{proc.stderr}")
    stages = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"tesselc: (\w+) ([0-9.]+) ms", line)
        if m:
            stages[m.group(1)] = float(m.group(2))
    stages["total (process)"] = wall
    return stages


def report(name, runs, repeat):
    print(f"{name}:  (median, min over {repeat} runs)")
    for stage in STAGES + ["total (process)"]:
        values = [r[stage] for r in runs if stage in r]
        if values:
            print(f"  {stage:16s} {statistics.median(values):8.1f} ms "
                  f"{min(values):8.1f} ms")
        elif stage == "ptxas":
            print(f"  {stage:16s}      n/a (no ptxas found)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tesselc", default=os.path.join(REPO, "build", "bin", "tesselc"))
    parser.add_argument("--baseline", help="another build's tesselc, measured alternately")
    opts = parser.parse_args()
    if opts.baseline and not os.access(opts.baseline, os.X_OK):
        sys.exit(f"--baseline: {opts.baseline} is not an executable")
    with tempfile.TemporaryDirectory() as outdir:
        for name, path, entry, defines in CASES:
            runs, base = [], []
            for _ in range(opts.repeat):
                runs.append(run_once(opts.tesselc, path, entry, defines, outdir))
                if opts.baseline:
                    base.append(run_once(opts.baseline, path, entry, defines, outdir))
            report(name, runs, opts.repeat)
            if opts.baseline:
                report(f"{name}, baseline {opts.baseline}", base, opts.repeat)
                mine = statistics.median(r["total (process)"] for r in runs)
                theirs = statistics.median(r["total (process)"] for r in base)
                print(f"  whole compile: {mine / theirs:.2f}x the baseline's "
                      f"({mine:.1f} ms / {theirs:.1f} ms)")


if __name__ == "__main__":
    main()
