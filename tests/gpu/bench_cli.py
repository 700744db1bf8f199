"""The command line the GPU benchmark scripts share: `--help` works anywhere,
and a missing piece (the artifacts, PyTorch, a GPU, the runtime library) is
one clear message and exit status 2, not a traceback."""

import argparse
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start(doc, subdir="", prefix=""):
    """Parses `ARTIFACTS`, checks what the run needs, and returns (the
    directory holding the kernels' NAME.json, the check_artifacts module,
    torch)."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("artifacts", help="the directory scripts/gpu-artifacts.sh wrote")
    args = parser.parse_args()
    directory = os.path.join(args.artifacts, subdir) if subdir else args.artifacts
    if not os.path.isdir(directory) or not any(
            f.endswith(".json") and f.startswith(prefix) for f in os.listdir(directory)):
        parser.error(f"no compiled kernels in {directory} (run scripts/gpu-artifacts.sh "
                     f"{args.artifacts} on a machine with tesselc first)")
    try:
        import torch
    except ImportError:
        parser.exit(2, f"{parser.prog}: error: this benchmark needs PyTorch with CUDA "
                       f"(torch is not installed here)\n")
    if not torch.cuda.is_available():
        parser.exit(2, f"{parser.prog}: error: PyTorch sees no CUDA GPU here\n")
    spec = importlib.util.spec_from_file_location(
        "check_artifacts", os.path.join(ROOT, "tests", "gpu", "check_artifacts.py"))
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    try:
        check.cuda.library()
    except check.cuda.CUDAError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    return directory, check, torch
