/**
 * Values of global variables as both backends take them: `encodeVariableValue` turns a
 * number, bigint or bytes into a variable's bytes, and `constantPatches` turns the
 * `constants` option of a load (new values of `.rodata` variables) into byte patches
 * per map. The kernel's Collection and the VM's VirtualMachine use these, so the rules
 * and messages are the same in both.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { CollectionSpec } from "./collection-spec.ts";

/** A variable's new value: exactly its bytes, or an integer written little-endian. */
export type VariableValue = Uint8Array | number | bigint;

/**
 * `value` as `size` bytes: a Uint8Array of that length, or a number/bigint written
 * little-endian in 1, 2, 4 or 8 bytes.
 *
 * @throws RangeError naming the variable when the value does not fit
 */
export function encodeVariableValue(name: string, size: number, value: VariableValue): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== size) {
      throw new RangeError(
        `variable "${name}" is ${size} bytes, the value given is ${value.length}`,
      );
    }
    return value;
  }
  if (![1, 2, 4, 8].includes(size)) {
    throw new RangeError(`variable "${name}" is ${size} bytes: give its value as bytes`);
  }
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new RangeError(`variable "${name}": ${value} is not an integer`);
  }
  const v = BigInt(value);
  const bits = BigInt(size * 8);
  if (v < -(1n << (bits - 1n)) || v >= 1n << bits) {
    throw new RangeError(`variable "${name}": ${value} does not fit in ${size} bytes`);
  }
  const out = new Uint8Array(size);
  let u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

/**
 * `constants` as byte patches per map: map name → [offset, bytes][].
 *
 * @throws Error naming the constant when the object has no such variable, or when it
 * is not read-only (those are set through the loaded collection's variables)
 */
export function constantPatches(
  spec: CollectionSpec,
  constants: Readonly<Record<string, VariableValue>>,
): Map<string, [number, Uint8Array][]> {
  const out = new Map<string, [number, Uint8Array][]>();
  for (const [name, value] of Object.entries(constants)) {
    const v = spec.variables[name];
    if (!v) {
      const ro = Object.values(spec.variables)
        .filter((x) => x.readOnly)
        .map((x) => x.name);
      throw new Error(
        `constant "${name}": the object has no such variable (read-only variables: ${ro.join(", ") || "none"})`,
      );
    }
    if (!v.readOnly) {
      throw new Error(
        `constant "${name}" is in ${v.map}, not .rodata: set it through the loaded collection's variables`,
      );
    }
    const list = out.get(v.map) ?? [];
    list.push([v.offset, encodeVariableValue(name, v.size, value)]);
    out.set(v.map, list);
  }
  return out;
}
