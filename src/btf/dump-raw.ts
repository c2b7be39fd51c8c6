/**
 * bpftool's raw BTF format (`bpftool btf dump file F format raw`, its default): one
 * line per type, `[1] INT 'long unsigned int' size=8 bits_offset=0 nr_bits=64 encoding=(none)`,
 * members, enumerators, parameters and section variables on tab-indented lines below.
 *
 * @module
 */

import type { BTF } from "./btf.ts";
import type { BTFType, IntType } from "./types.ts";

const q = (name: string): string => `'${name === "" ? "(anon)" : name}'`;

function intEncoding(t: IntType): string {
  const n = (t.signed ? 1 : 0) | (t.char ? 2 : 0) | (t.bool ? 4 : 0);
  switch (n) {
    case 0:
      return "(none)";
    case 1:
      return "SIGNED";
    case 2:
      return "CHAR";
    case 4:
      return "BOOL";
    default:
      return "UNKN";
  }
}

/**
 * One type in bpftool's raw format, without a trailing newline (members and the like
 * follow on `\n\t` lines).
 *
 * @example
 * ```ts
 * formatRawType(btf, btf.type(1)); // "[1] INT 'long unsigned int' size=8 bits_offset=0 nr_bits=64 encoding=(none)"
 * ```
 */
export function formatRawType(btf: BTF, t: BTFType): string {
  let s = `[${t.id}] ${t.kind} ${q(t.name)}`;
  switch (t.kind) {
    case "VOID":
      return s;
    case "INT":
      return `${s} size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${intEncoding(t)}`;
    case "PTR":
    case "CONST":
    case "VOLATILE":
    case "RESTRICT":
    case "TYPEDEF":
    case "TYPE_TAG":
      return `${s} type_id=${t.type}`;
    case "ARRAY":
      return `${s} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case "STRUCT":
    case "UNION":
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t${q(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      return s;
    case "ENUM":
      s += ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t${q(v.name)} val=${v.value}`;
      return s;
    case "ENUM64": {
      s += ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      const suffix = t.signed ? "LL" : "ULL";
      for (const v of t.values) s += `\n\t${q(v.name)} val=${v.value}${suffix}`;
      return s;
    }
    case "FWD":
      return `${s} fwd_kind=${t.fwdKind}`;
    case "FUNC":
      return `${s} type_id=${t.type} linkage=${t.linkage}`;
    case "FUNC_PROTO":
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t${q(p.name)} type_id=${p.type}`;
      return s;
    case "VAR":
      return `${s} type_id=${t.type}, linkage=${t.linkage}`;
    case "DATASEC":
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        const vt = btf.types[v.type];
        const what = vt ? `${vt.kind} ${q(vt.name)}` : "? '(anon)'";
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size} (${what})`;
      }
      return s;
    case "FLOAT":
      return `${s} size=${t.size}`;
    case "DECL_TAG":
      return `${s} type_id=${t.type} component_idx=${t.componentIdx}`;
  }
}

/**
 * Every type of `btf` in bpftool's raw format, one per line, newline-terminated. For
 * split BTF only the blob's own types are listed (from {@link BTF.firstId}), as bpftool
 * does with `-B base`.
 *
 * @example
 * ```ts
 * process.stdout.write(dumpRaw(parseBTF(bytes)));
 * ```
 */
export function dumpRaw(btf: BTF): string {
  const parts: string[] = [];
  const types = btf.types;
  for (let id = Math.max(1, btf.firstId); id < types.length; id++) {
    parts.push(formatRawType(btf, types[id] as BTFType));
  }
  parts.push("");
  return parts.join("\n");
}
