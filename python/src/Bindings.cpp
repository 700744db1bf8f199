//===- Bindings.cpp - pybind11 bindings of Tessel's C++ facade ------------===//

#include "tessel/Compiler.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

PYBIND11_MODULE(_tessel, m) {
  m.doc() = "Native part of Tessel: the compiler facade.";
  m.def("version", &tessel::version, "Tessel's version string.");

  py::class_<tessel::CompileResult>(m, "CompileResult")
      .def_readonly("ok", &tessel::CompileResult::ok)
      .def_readonly("output", &tessel::CompileResult::output)
      .def_readonly("diagnostics", &tessel::CompileResult::diagnostics);

  m.def(
      "run_tile_ir",
      [](const std::string &source, const std::string &pipeline,
         const std::string &name) {
        // Compilation does not touch Python objects; let other threads run.
        py::gil_scoped_release release;
        return tessel::runTileIR(source, pipeline, name);
      },
      py::arg("source"), py::arg("pipeline") = "", py::arg("name") = "<input>",
      "Parse and verify tile IR, run a pass pipeline, return a CompileResult.");
}
