//===- ExecControl.cpp - branches, exit, calls (vprintf) -------------------===//

#include "lib/Emulator/Exec.h"

#include <cstdio>

namespace tessel::emu {

namespace {

void execBra(Thread &t, const Instr &in) { t.pc = uint32_t(in.ops[0].imm); }

void execExit(Thread &t, const Instr &) {
  Block &b = *t.block;
  t.state = ThreadState::Exited;
  b.live--;
  b.progress();
  // A warp collective still waiting for this thread can never complete.
  for (const auto &[id, c] : b.collectives)
    for (uint32_t m : c.members)
      if (m == t.linear)
        throw EmuError(ErrIllegalInstruction,
                       t.where() + ": this thread exits while the collective at PTX line " +
                           std::to_string(b.kernel->code[c.pc].ptxLine) +
                           " waits for it (its member mask includes this thread)");
  // Barriers counting every live thread may now be complete.
  for (NamedBarrier &nb : b.barriers)
    if (nb.arrived && nb.expected == 0 && nb.arrived >= b.live) {
      std::vector<uint32_t> waiting = std::move(nb.waiting);
      nb = NamedBarrier{};
      for (uint32_t w : waiting)
        b.wake(w);
    }
}

void execTrap(Thread &t, const Instr &) {
  t.fail(ErrIllegalInstruction, "the kernel executed trap");
}

void execNop(Thread &, const Instr &) {}

std::string readCString(Thread &t, uint64_t address) {
  std::string s;
  for (size_t i = 0; i < 4096; ++i) {
    char c = char(*t.generic(address + i, 1, false));
    if (!c)
      return s;
    s += c;
  }
  return s;
}

/// vprintf(format, args): the arguments are packed in the caller's local
/// memory, each aligned to its size (ints 4 or 8 bytes, doubles 8,
/// pointers 8).
void execVprintf(Thread &t, const Instr &in) {
  auto paramWord = [&](const Operand &o) {
    uint64_t v;
    std::memcpy(&v, t.localMem(uint64_t(o.imm), 8), 8);
    return v;
  };
  std::string format = readCString(t, paramWord(in.ops[1]));
  uint64_t args = in.ops[2].kind == Operand::Imm ? paramWord(in.ops[2]) : 0;
  size_t offset = 0;
  auto fetch = [&](unsigned bytes) -> uint64_t {
    offset = (offset + bytes - 1) / bytes * bytes;
    uint64_t v = 0;
    std::memcpy(&v, t.generic(args + offset, bytes, false), bytes);
    offset += bytes;
    return v;
  };
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    size_t j = i + 1;
    if (j < format.size() && format[j] == '%') {
      out += '%';
      i = j;
      continue;
    }
    while (j < format.size() && std::string("-+ #0123456789.*").find(format[j]) != std::string::npos)
      ++j;
    std::string length;
    while (j < format.size() && std::string("hlLqjzt").find(format[j]) != std::string::npos)
      length += format[j++];
    if (j >= format.size())
      break;
    char conv = format[j];
    std::string spec = format.substr(i, j - i - length.size());
    char buf[512];
    bool wide = length.find('l') != std::string::npos || length == "q" || length == "j" ||
                length == "z" || length == "t";
    switch (conv) {
    case 'd': case 'i':
      std::snprintf(buf, sizeof buf, (spec + "lld").c_str(),
                    wide ? (long long)fetch(8) : (long long)int32_t(fetch(4)));
      break;
    case 'u': case 'x': case 'X': case 'o': case 'c':
      std::snprintf(buf, sizeof buf, (spec + (conv == 'c' ? "c" : std::string("ll") + conv)).c_str(),
                    wide ? (unsigned long long)fetch(8) : (unsigned long long)uint32_t(fetch(4)));
      break;
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A': {
      uint64_t bits = fetch(8);
      double d;
      std::memcpy(&d, &bits, 8);
      std::snprintf(buf, sizeof buf, (spec + conv).c_str(), d);
      break;
    }
    case 's':
      std::snprintf(buf, sizeof buf, (spec + "s").c_str(), readCString(t, fetch(8)).c_str());
      break;
    case 'p':
      std::snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)fetch(8));
      break;
    default:
      std::snprintf(buf, sizeof buf, "%%%c", conv);
    }
    out += buf;
    i = j;
  }
  Launch &l = *t.block->launch;
  {
    std::lock_guard<std::mutex> lock(l.printMutex);
    l.printed += out;
  }
  if (in.ops[0].kind == Operand::Imm) {
    uint32_t zero = 0;
    std::memcpy(t.localMem(uint64_t(in.ops[0].imm), 4), &zero, 4);
  }
}

void execUnsupportedCall(Thread &t, const Instr &) {
  t.fail(ErrNotSupported, "the emulator runs calls to vprintf only; this call's function "
                          "would have to be inlined");
}

} // namespace

void bindCall(Instr &in, const std::string &function) {
  in.op = OpCall;
  in.exec = function == "vprintf" ? execVprintf : execUnsupportedCall;
  if (function != "vprintf")
    in.flags |= FlagUnsupported;
}

bool bindControl(Instr &in, const DecodedOpcode &d) {
  switch (d.op) {
  case OpBra:
    if (in.ops[0].kind != Operand::Target)
      return false;
    in.exec = execBra;
    return true;
  case OpRet:
  case OpExit:
    in.exec = execExit;
    return true;
  case OpTrap:
  case OpBrkpt:
    in.exec = execTrap;
    return true;
  case OpNanosleep:
  case OpGriddepcontrol:
    in.exec = execNop;
    return true;
  default:
    return false;
  }
}

} // namespace tessel::emu
