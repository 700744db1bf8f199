# lit configuration for Tessel's FileCheck tests; tests mirror the source tree.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "Tessel"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".py"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tessel_obj_root, "tests", "lit")

llvm_config.use_default_substitutions()
# Tessel's tools first, then Debian's FileCheck, not, count.
llvm_config.with_environment("PATH", config.tessel_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
config.environment["PATH"] = os.pathsep.join(
    [config.tessel_tools_dir, config.llvm_tools_dir, config.environment["PATH"]])
# For tests that run a tool with a PATH of their own.
config.substitutions.append(("%tessel_tools", config.tessel_tools_dir))
config.substitutions.append(("%llvm_tools", config.llvm_tools_dir))

# ptxas (CUDA toolkit): tests that assemble PTX say `REQUIRES: ptxas` and are
# reported UNSUPPORTED where it is missing.
import shutil
ptxas = os.environ.get("TESSEL_PTXAS") or shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas" if os.access("/usr/local/cuda/bin/ptxas", os.X_OK) else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
    if os.access(os.path.join(os.path.dirname(ptxas), "fatbinary"), os.X_OK):
        config.available_features.add("fatbinary")
else:
    lit_config.note("ptxas not found: PTX assembly tests are skipped")
