/**
 * The object's BTF re-encoded for a kernel that lacks some kinds: src/btf's sanitiser
 * rewrites what the kernel does not know, the externs are rewritten as
 * btf-patch.ts does on raw bytes (here on the type model), and the types
 * are encoded with new strings.
 *
 * @module
 */

import type { BTF } from "../../btf/btf.ts";
import { encodeTypes } from "../../btf/encode.ts";
import { type BTFFeatures, sanitizeTypes } from "../../btf/sanitize.ts";
import { type BTFType, cIntType, type TypeId } from "../../btf/types.ts";
import { DUMMY_KSYM_NAME as DUMMY_NAME } from "./btf-patch.ts";

/**
 * Encodes `btf` for BPF_BTF_LOAD on a kernel with `features` (strings re-encoded).
 *
 * @example
 * ```ts
 * const bytes = kernelBTFBytes(spec.btf, probeBTFFeatures());
 * ```
 */
export function kernelBTFBytes(btf: BTF, features: BTFFeatures): Uint8Array {
  const types = sanitizeTypes(btf, features);
  const first = btf.firstId;
  const at = (id: TypeId) => types[id - first];
  let nextId = first + types.length;
  let intId = 0;
  const needInt = (): TypeId => {
    if (intId !== 0) return intId;
    const found = types.find((t) => t.kind === "INT" && t.size === 4 && t.bits === 32);
    if (found) {
      intId = found.id;
      return intId;
    }
    const int = cIntType(nextId++);
    types.push(int);
    intId = int.id;
    return intId;
  };
  let dummyId = 0;
  const needDummy = (): TypeId => {
    if (dummyId !== 0) return dummyId;
    const type = needInt();
    dummyId = nextId++;
    types.push({ kind: "VAR", id: dummyId, name: DUMMY_NAME, type, linkage: "global" });
    return dummyId;
  };

  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind === "FUNC" && t.linkage === "extern") {
      types[i] = { kind: "FUNC", id: t.id, name: t.name, type: t.type, linkage: "global" };
      const proto = at(t.type);
      if (proto?.kind === "FUNC_PROTO" && proto.params.some((p) => p.type !== 0 && p.name === "")) {
        types[proto.id - first] = {
          kind: "FUNC_PROTO",
          id: proto.id,
          name: proto.name,
          returnType: proto.returnType,
          params: proto.params.map((p) => ({
            name: p.type !== 0 && p.name === "" ? DUMMY_NAME : p.name,
            type: p.type,
          })),
        };
      }
    } else if (t.kind === "VAR" && t.linkage === "extern") {
      types[i] = { kind: "VAR", id: t.id, name: t.name, type: needInt(), linkage: "global" };
    }
  }
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind !== "DATASEC" || t.name !== ".ksyms") continue;
    const vars = t.vars.map((v, j) => {
      const vt: BTFType | undefined = at(v.type);
      return { type: vt?.kind === "FUNC" ? needDummy() : v.type, offset: j * 4, size: 4 };
    });
    types[i] = { kind: "DATASEC", id: t.id, name: t.name, size: vars.length * 4, vars };
  }
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind !== "DATASEC") continue;
    const vars = [...t.vars].sort((a, b) => a.offset - b.offset);
    types[i] = { kind: "DATASEC", id: t.id, name: t.name, size: t.size, vars };
  }
  return encodeTypes(types, { base: btf.base });
}
