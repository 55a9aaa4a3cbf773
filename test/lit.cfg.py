# -*- Python -*-
# lit configuration for fm: every .fm and .mlir file under test/ with a RUN line.
import os
import lit.formats
from lit.llvm import llvm_config

config.name = "fm"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".fm", ".mlir"]
config.excludes = ["unit", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.fm_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
config.substitutions.append(("%fm_src", config.fm_src_root))
llvm_config.add_tool_substitutions(["FileCheck", "not", "count"], [config.llvm_tools_dir])
llvm_config.add_tool_substitutions(["fmc", "fm-opt", "fmrun"], [config.fm_tools_dir])
