/**
 * Opcode fields of the eBPF instruction set, as the kernel's UAPI headers name them.
 *
 * Hand-written (not generated: these are preprocessor `#define`s, which BTF does not
 * describe). The values are facts of the ABI, taken from RFC 9669 ("BPF Instruction
 * Set Architecture") and the Linux UAPI headers `include/uapi/linux/bpf_common.h` and
 * `include/uapi/linux/bpf.h` (Linux 6.18: adds load-acquire/store-release, may_goto
 * and addr_space_cast to what the RFC describes). Names keep the kernel's spelling
 * without the `BPF_` prefix.
 *
 * An instruction is 8 bytes: `code:u8, dst_reg:4 | src_reg:4 (low nibble dst),
 * off:s16, imm:s32`, little-endian on little-endian hosts. `code` is
 * `class | size | mode` for loads and stores and `class | op | source` for ALU and jumps.
 * @module
 */

/** Size of one instruction slot in bytes (`struct bpf_insn`). */
export const INSN_SIZE = 8;
/** Bytes of stack a BPF program may use (`MAX_BPF_STACK`). */
export const MAX_BPF_STACK = 512;

// ---- instruction classes: code & 0x07 ----
/** Class: non-standard loads (lddw, legacy packet access). */
export const BPF_LD = 0x00;
/** Class: load into a register from memory. */
export const BPF_LDX = 0x01;
/** Class: store an immediate to memory. */
export const BPF_ST = 0x02;
/** Class: store a register to memory (and atomics). */
export const BPF_STX = 0x03;
/** Class: 32-bit arithmetic. */
export const BPF_ALU = 0x04;
/** Class: 64-bit jumps, calls and exit. */
export const BPF_JMP = 0x05;
/** Class: 32-bit jumps (and `gotol`). */
export const BPF_JMP32 = 0x06;
/** Class: 64-bit arithmetic. */
export const BPF_ALU64 = 0x07;

// ---- sizes: code & 0x18 (load/store classes) ----
/** Size: 32-bit word. */
export const BPF_W = 0x00;
/** Size: 16-bit half word. */
export const BPF_H = 0x08;
/** Size: byte. */
export const BPF_B = 0x10;
/** Size: 64-bit double word. */
export const BPF_DW = 0x18;

// ---- modes: code & 0xe0 (load/store classes) ----
/** Mode: 64-bit immediate (lddw, with BPF_LD|BPF_DW). */
export const BPF_IMM = 0x00;
/** Mode: legacy packet load at an absolute offset. */
export const BPF_ABS = 0x20;
/** Mode: legacy packet load at a register-relative offset. */
export const BPF_IND = 0x40;
/** Mode: regular memory access. */
export const BPF_MEM = 0x60;
/** Mode: sign-extending load (cpu v4). */
export const BPF_MEMSX = 0x80;
/** Mode: atomic operation, selected by `imm`. */
export const BPF_ATOMIC = 0xc0;
/** Old name of BPF_ATOMIC with imm = BPF_ADD. */
export const BPF_XADD = 0xc0;

// ---- sources: code & 0x08 (ALU and jump classes) ----
/** Source: the 32-bit immediate. */
export const BPF_K = 0x00;
/** Source: the source register. */
export const BPF_X = 0x08;

// ---- ALU operations: code & 0xf0 ----
/** dst += src */
export const BPF_ADD = 0x00;
/** dst -= src */
export const BPF_SUB = 0x10;
/** dst *= src */
export const BPF_MUL = 0x20;
/** dst /= src (off = 1: signed division) */
export const BPF_DIV = 0x30;
/** dst |= src */
export const BPF_OR = 0x40;
/** dst &= src */
export const BPF_AND = 0x50;
/** dst <<= src */
export const BPF_LSH = 0x60;
/** dst >>= src (logical) */
export const BPF_RSH = 0x70;
/** dst = -dst */
export const BPF_NEG = 0x80;
/** dst %= src (off = 1: signed modulo) */
export const BPF_MOD = 0x90;
/** dst ^= src */
export const BPF_XOR = 0xa0;
/** dst = src (off = 8/16/32 with BPF_X: sign-extending move) */
export const BPF_MOV = 0xb0;
/** dst s>>= src (arithmetic) */
export const BPF_ARSH = 0xc0;
/** Byte swap: BPF_ALU with TO_LE/TO_BE, BPF_ALU64 for an unconditional swap. */
export const BPF_END = 0xd0;

/** `off` value of BPF_DIV/BPF_MOD selecting the signed variant (sdiv/smod). */
export const BPF_SIGNED_DIVMOD_OFF = 1;
/** `off` values of BPF_MOV|BPF_X selecting a sign-extending move (movsx). */
export const BPF_MOVSX_OFFS = [8, 16, 32] as const;
/** `off` value of BPF_ALU64|BPF_MOV|BPF_X marking an address space cast (arena). */
export const BPF_ADDR_SPACE_CAST = 1;

// ---- byte order sources for BPF_END (the BPF_K/BPF_X bit) ----
/** BPF_END: convert to little-endian. */
export const BPF_TO_LE = 0x00;
/** BPF_END: convert to big-endian. */
export const BPF_TO_BE = 0x08;
/** Alias of BPF_TO_LE used by RFC 9669. */
export const BPF_FROM_LE = BPF_TO_LE;
/** Alias of BPF_TO_BE used by RFC 9669. */
export const BPF_FROM_BE = BPF_TO_BE;

// ---- jump operations: code & 0xf0 ----
/** Unconditional jump (`goto`, `gotol` in JMP32). */
export const BPF_JA = 0x00;
/** Jump if equal. */
export const BPF_JEQ = 0x10;
/** Jump if greater (unsigned). */
export const BPF_JGT = 0x20;
/** Jump if greater or equal (unsigned). */
export const BPF_JGE = 0x30;
/** Jump if dst & src is non-zero. */
export const BPF_JSET = 0x40;
/** Jump if not equal. */
export const BPF_JNE = 0x50;
/** Jump if greater (signed). */
export const BPF_JSGT = 0x60;
/** Jump if greater or equal (signed). */
export const BPF_JSGE = 0x70;
/** Function call. */
export const BPF_CALL = 0x80;
/** Return from the program or function. */
export const BPF_EXIT = 0x90;
/** Jump if lower (unsigned). */
export const BPF_JLT = 0xa0;
/** Jump if lower or equal (unsigned). */
export const BPF_JLE = 0xb0;
/** Jump if lower (signed). */
export const BPF_JSLT = 0xc0;
/** Jump if lower or equal (signed). */
export const BPF_JSLE = 0xd0;
/** Conditional pseudo jump (`may_goto`, with src_reg = BPF_MAY_GOTO). */
export const BPF_JCOND = 0xe0;
/** src_reg of BPF_JCOND: jump while the loop budget lasts. */
export const BPF_MAY_GOTO = 0;

// ---- atomic operations: imm of BPF_STX|BPF_ATOMIC ----
/** Atomic flag: also load the old value into src_reg. */
export const BPF_FETCH = 0x01;
/** Atomic exchange (src_reg <-> memory). */
export const BPF_XCHG = 0xe0 | BPF_FETCH;
/** Atomic compare-and-exchange (r0 compared, src_reg written). */
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
/** Atomic load-acquire (dst_reg = *(src_reg + off)). */
export const BPF_LOAD_ACQ = 0x100;
/** Atomic store-release (*(dst_reg + off) = src_reg). */
export const BPF_STORE_REL = 0x110;

// ---- pseudo sources of lddw (src_reg of BPF_LD|BPF_IMM|BPF_DW) ----
/** lddw: imm is a map file descriptor. */
export const BPF_PSEUDO_MAP_FD = 1;
/** lddw: imm is a map fd, next imm an offset into the map's value. */
export const BPF_PSEUDO_MAP_VALUE = 2;
/** lddw: imm is a kernel BTF id (a ksym's address). */
export const BPF_PSEUDO_BTF_ID = 3;
/** lddw: imm is the instruction offset of a function (callback address). */
export const BPF_PSEUDO_FUNC = 4;
/** lddw: imm is an index into the fd_array of maps. */
export const BPF_PSEUDO_MAP_IDX = 5;
/** lddw: like BPF_PSEUDO_MAP_IDX, next imm an offset into the value. */
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

// ---- pseudo sources of call (src_reg of BPF_JMP|BPF_CALL) ----
/** call: imm is a helper function id (src_reg = 0). */
export const BPF_HELPER_CALL = 0;
/** call: imm is the pc-relative offset of a bpf-to-bpf function. */
export const BPF_PSEUDO_CALL = 1;
/** call: imm is the BTF id of a kernel function (kfunc). */
export const BPF_PSEUDO_KFUNC_CALL = 2;

// ---- registers ----
/** Return value, and the first result of calls. */
export const BPF_REG_0 = 0;
/** First argument; the context pointer at program entry. */
export const BPF_REG_1 = 1;
/** Second argument. */
export const BPF_REG_2 = 2;
/** Third argument. */
export const BPF_REG_3 = 3;
/** Fourth argument. */
export const BPF_REG_4 = 4;
/** Fifth argument. */
export const BPF_REG_5 = 5;
/** Callee-saved register. */
export const BPF_REG_6 = 6;
/** Callee-saved register. */
export const BPF_REG_7 = 7;
/** Callee-saved register. */
export const BPF_REG_8 = 8;
/** Callee-saved register. */
export const BPF_REG_9 = 9;
/** Read-only frame pointer. */
export const BPF_REG_10 = 10;
/** Number of registers visible to programs (`MAX_BPF_REG`). */
export const MAX_BPF_REG = 11;

// ---- field accessors (the BPF_CLASS/BPF_SIZE/... macros) ----
/** Class bits of an opcode. */
export const BPF_CLASS = (code: number): number => code & 0x07;
/** Size bits of a load/store opcode. */
export const BPF_SIZE = (code: number): number => code & 0x18;
/** Mode bits of a load/store opcode. */
export const BPF_MODE = (code: number): number => code & 0xe0;
/** Operation bits of an ALU/jump opcode. */
export const BPF_OP = (code: number): number => code & 0xf0;
/** Source bit of an ALU/jump opcode. */
export const BPF_SRC = (code: number): number => code & 0x08;
