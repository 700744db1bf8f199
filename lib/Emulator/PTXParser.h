//===- PTXParser.h - PTX text to statements -----------------------*- C++ -*-===//
//
// Reads a PTX module into functions of raw instructions: opcode parts,
// predicate guard and operand trees with names still unresolved. Register,
// parameter and variable declarations are kept in scope order so that the
// decoder can give every name its slot or address.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_PTXPARSER_H
#define TESSEL_LIB_EMULATOR_PTXPARSER_H

#include "lib/Emulator/Program.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tessel::emu {

struct RawOperand {
  enum Kind : uint8_t { Name, Int, Float, Mem, Vec, Sink, Pair, Tensor, Call };
  Kind kind = Name;
  bool neg = false;          ///< `!%p`, or unary minus on a name
  std::string name;          ///< Name; Mem/Tensor base (empty: absolute)
  uint64_t bits = 0;         ///< Int; Float as f32 (`0f`) or f64 (`0d`) bits
  bool isDouble = false;     ///< Float: `0d` or a decimal literal
  double value = 0;          ///< Float: decimal literals
  int64_t offset = 0;        ///< Mem: the constant part
  std::vector<RawOperand> elems; ///< Vec, Pair, Tensor (coordinates), Call (lists)
};

struct RawInstr {
  std::string opcode;            ///< "add.rn.f32", "@" and guard removed
  std::string guard;             ///< predicate register name, or empty
  bool guardNeg = false;
  std::vector<RawOperand> operands;
  uint32_t line = 0;
  uint32_t loc = 0;              ///< Kernel::locs index active at it
  uint32_t scope = 0;            ///< index into ParsedFunction::scopes
};

/// A declared name: register (range expanded), variable or parameter.
struct Decl {
  enum Kind : uint8_t { Reg, Shared, Local, Param, Global, Const } kind = Reg;
  std::string name;
  DType type = DType::None;
  uint32_t count = 1;       ///< array elements (bytes = count * width)
  uint32_t align = 0;
  uint32_t vec = 1;         ///< .v2 / .v4 registers
  bool external = false;    ///< extern .shared: the dynamic shared memory
  std::vector<uint8_t> init;
};

/// A `{ ... }` block's declarations; scope 0 is the function's body.
struct Scope {
  uint32_t parent = 0;
  std::vector<Decl> decls;
};

struct ParsedFunction {
  std::string name;
  bool isEntry = false;
  bool isExtern = false;         ///< declared only (vprintf)
  std::vector<Decl> params;
  std::vector<Scope> scopes;
  std::vector<RawInstr> body;
  std::vector<std::pair<std::string, uint32_t>> labels; ///< label -> body index
  uint32_t maxntid[3] = {0, 0, 0}, reqntid[3] = {0, 0, 0};
  uint32_t minnctapersm = 0, maxnreg = 0;
  uint32_t line = 0;
};

struct ParsedModule {
  std::vector<ParsedFunction> functions;
  std::vector<Decl> globals;     ///< module-scope .global / .const / .shared
  std::vector<std::pair<uint32_t, std::string>> files;
  std::vector<SourceLoc> locs;   ///< locs[0] is "none"
  std::vector<std::string> lines;
};

/// Throws EmuError(ErrInvalidPTX) naming the line it could not read.
ParsedModule parsePTX(const std::string &text);

/// Parses ".f32"-style type names (without the dot); DType::None if unknown.
DType parseType(const std::string &name);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_PTXPARSER_H
