//===- Bindings.cpp - pybind11 bindings of Tessel's C++ facade ------------===//

#include "tessel/Compiler.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

PYBIND11_MODULE(_tessel, m) {
  m.doc() = "Native part of Tessel: the compiler facade.";
  m.def("version", &tessel::version, "Tessel's version string.");
  m.def(
      "find_ptxas", [] { return tessel::findPtxas(); },
      "The ptxas Tessel assembles cubins with, or \"\" when there is none.");
  m.def(
      "build_identity", [] { return tessel::buildIdentity(); },
      "What identifies this build of the compiler for caches (versions, and "
      "the compiler library's path, size and modification time).");

  py::class_<tessel::CompileResult>(m, "CompileResult")
      .def_readonly("ok", &tessel::CompileResult::ok)
      .def_readonly("output", &tessel::CompileResult::output)
      .def_readonly("diagnostics", &tessel::CompileResult::diagnostics)
      .def_readonly("located", &tessel::CompileResult::located);

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

  py::enum_<tessel::KernelBinding::Kind>(m, "BindingKind")
      .value("Literal", tessel::KernelBinding::Kind::Literal)
      .value("Module", tessel::KernelBinding::Kind::Module)
      .value("Function", tessel::KernelBinding::Kind::Function)
      .value("Unsupported", tessel::KernelBinding::Kind::Unsupported);

  py::class_<tessel::KernelBinding>(m, "KernelBinding")
      .def(py::init([](std::string name, tessel::KernelBinding::Kind kind,
                       std::string text, std::string file, int firstLine) {
             tessel::KernelBinding b;
             b.name = std::move(name);
             b.kind = kind;
             b.text = std::move(text);
             b.file = std::move(file);
             b.firstLine = firstLine;
             return b;
           }),
           py::arg("name"), py::arg("kind"), py::arg("text"),
           py::arg("file") = "", py::arg("first_line") = 1)
      .def_readonly("name", &tessel::KernelBinding::name)
      .def_readonly("kind", &tessel::KernelBinding::kind)
      .def_readonly("text", &tessel::KernelBinding::text);

  py::class_<tessel::KernelRequest>(m, "KernelRequest")
      .def(py::init<>())
      .def_readwrite("source", &tessel::KernelRequest::source)
      .def_readwrite("file", &tessel::KernelRequest::file)
      .def_readwrite("first_line", &tessel::KernelRequest::firstLine)
      .def_readwrite("entry", &tessel::KernelRequest::entry)
      .def_readwrite("args", &tessel::KernelRequest::args)
      .def_readwrite("bindings", &tessel::KernelRequest::bindings)
      .def_readwrite("eager", &tessel::KernelRequest::eager)
      .def_readwrite("tensor_params", &tessel::KernelRequest::tensorParams)
      .def_readwrite("consts", &tessel::KernelRequest::consts)
      .def_readwrite("tensor_shapes", &tessel::KernelRequest::tensorShapes);

  py::class_<tessel::KernelParam>(m, "KernelParam")
      .def_readonly("name", &tessel::KernelParam::name)
      .def_readonly("dtype", &tessel::KernelParam::dtype)
      .def_readonly("shape", &tessel::KernelParam::shape)
      .def_readonly("dynamic_names", &tessel::KernelParam::dynamicNames)
      .def_readonly("is_buffer", &tessel::KernelParam::isBuffer)
      .def_readonly("is_written", &tessel::KernelParam::isWritten)
      .def_readonly("is_workspace", &tessel::KernelParam::isWorkspace)
      .def_readonly("in_place", &tessel::KernelParam::inPlace);

  py::class_<tessel::KernelSignature>(m, "KernelSignature")
      .def_readonly("entry", &tessel::KernelSignature::entry)
      .def_readonly("params", &tessel::KernelSignature::params)
      .def_readonly("outputs", &tessel::KernelSignature::outputs);

  m.def(
      "compile_kernel_to_tile",
      [](const tessel::KernelRequest &request) {
        tessel::KernelSignature signature;
        tessel::CompileResult result;
        {
          py::gil_scoped_release release;
          result = tessel::compileKernelToTile(request, &signature);
        }
        return std::make_pair(result, signature);
      },
      py::arg("request"),
      "Parse and evaluate kernel text; return (CompileResult, KernelSignature).");

  py::class_<tessel::CUDAKernel>(m, "CUDAKernel")
      .def_readonly("ok", &tessel::CUDAKernel::ok)
      .def_readonly("diagnostics", &tessel::CUDAKernel::diagnostics)
      .def_readonly("name", &tessel::CUDAKernel::name)
      .def_readonly("ptx", &tessel::CUDAKernel::ptx)
      .def_readonly("llvm_ir", &tessel::CUDAKernel::llvmIR)
      .def_property_readonly("cubin",
                             [](const tessel::CUDAKernel &k) { return py::bytes(k.cubin); })
      .def_readonly("ptxas_log", &tessel::CUDAKernel::ptxasLog)
      .def_readonly("registers", &tessel::CUDAKernel::registers)
      .def_readonly("spill_bytes", &tessel::CUDAKernel::spillBytes)
      .def_property_readonly("grid",
                             [](const tessel::CUDAKernel &k) {
                               return py::make_tuple(k.grid[0], k.grid[1], k.grid[2]);
                             })
      .def_readonly("grid_exprs", &tessel::CUDAKernel::gridExprs)
      .def_readonly("dynamic_params", &tessel::CUDAKernel::dynamicParams)
      .def_readonly("threads", &tessel::CUDAKernel::threads)
      .def_readonly("kernel_count", &tessel::CUDAKernel::kernelCount)
      .def_readonly("register_split", &tessel::CUDAKernel::registerSplit)
      .def_readonly("shared_bytes", &tessel::CUDAKernel::sharedBytes)
      .def_property_readonly(
          "tensor_maps",
          [](const tessel::CUDAKernel &k) {
            py::list maps;
            for (const auto &m : k.tensorMaps) {
              py::dict d;
              d["param"] = m.param;
              d["tensor"] = m.tensor;
              d["box"] = m.box;
              d["swizzle"] = m.swizzle;
              maps.append(d);
            }
            return maps;
          })
      .def_readonly("timings", &tessel::CUDAKernel::timings);

  m.def(
      "compile_tile_to_cuda",
      [](const std::string &tileIR, const std::string &arch, bool cubin, bool tma,
         bool warpSpecialize, bool llvmIR, bool fastMath, int kernelIndex) {
        tessel::CUDAOptions options;
        options.kernelIndex = kernelIndex;
        options.arch = arch;
        options.llvmIR = llvmIR;
        options.cubin = cubin && !tessel::findPtxas().empty();
        options.tma = tma;
        options.warpSpecialize = warpSpecialize;
        options.fastMath = fastMath;
        py::gil_scoped_release release;
        return tessel::compileTileToCUDA(tileIR, options);
      },
      py::arg("tile_ir"), py::arg("arch") = "sm_90a", py::arg("cubin") = true,
      py::arg("tma") = true, py::arg("warp_specialize") = true, py::arg("llvm_ir") = false,
      py::arg("fast_math") = false, py::arg("kernel_index") = -1,
      "Compile tile IR (with locations) to PTX, and a cubin when ptxas is found; with "
      "kernel_index >= 0, only that T.Kernel of several.");

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
             const std::vector<py::object> &arguments) {
            // The caller (tessel.jit) has checked dtypes, shapes and
            // contiguity against the signature; here only the layout moves.
            // A Python int is a scalar parameter's bits (as its type stores
            // them); anything else is a buffer.
            std::vector<tessel::BufferArg> args;
            std::vector<py::buffer_info> infos;
            infos.reserve(arguments.size());
            for (const py::object &argument : arguments) {
              tessel::BufferArg arg;
              if (py::isinstance<py::int_>(argument)) {
                arg.scalar = true;
                arg.scalarBits = argument.cast<uint64_t>();
                args.push_back(std::move(arg));
                continue;
              }
              infos.push_back(argument.cast<py::buffer>().request(/*writable=*/true));
              const py::buffer_info &info = infos.back();
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
          py::arg("entry"), py::arg("arguments"),
          "Run a function of the module on writable buffers (numpy arrays) "
          "and scalars (ints holding the bits of the parameter's type).")
      .def_property_readonly("llvm_ir", &tessel::CPUModule::llvmIR)
      .def_property_readonly("from_cache", &tessel::CPUModule::fromCache);
}
