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

  py::class_<tessel::CPUModule>(m, "CPUModule")
      .def_static(
          "compile",
          [](const std::string &tileIR) {
            std::string diagnostics;
            std::unique_ptr<tessel::CPUModule> module;
            {
              py::gil_scoped_release release;
              module = tessel::CPUModule::compile(tileIR, diagnostics);
            }
            if (!module)
              throw py::value_error(diagnostics);
            return module;
          },
          py::arg("tile_ir"), "JIT-compile a tile module for the CPU.")
      .def(
          "run",
          [](tessel::CPUModule &self, const std::string &entry,
             const std::vector<py::buffer> &buffers) {
            // The caller (tessel.jit) has checked dtypes, shapes and
            // contiguity against the signature; here only the layout moves.
            std::vector<tessel::BufferArg> args;
            std::vector<py::buffer_info> infos;
            infos.reserve(buffers.size());
            for (const py::buffer &buffer : buffers) {
              infos.push_back(buffer.request(/*writable=*/true));
              const py::buffer_info &info = infos.back();
              tessel::BufferArg arg;
              arg.data = info.ptr;
              arg.shape.assign(info.shape.begin(), info.shape.end());
              for (py::ssize_t stride : info.strides) {
                if (stride % info.itemsize)
                  throw py::value_error("buffer strides must be whole elements");
                arg.strides.push_back(stride / info.itemsize);
              }
              args.push_back(std::move(arg));
            }
            std::string error;
            bool ok;
            {
              py::gil_scoped_release release;
              ok = self.run(entry, args, error);
            }
            if (!ok)
              throw py::value_error(error);
          },
          py::arg("entry"), py::arg("buffers"),
          "Run a function of the module on writable buffers (numpy arrays).")
      .def_property_readonly("llvm_ir", &tessel::CPUModule::llvmIR);
}
