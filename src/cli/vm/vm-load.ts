/**
 * `tsbpf vm load OBJ`: loads an ELF object into the userspace VM and lists what loaded
 * (programs with their type and size, maps with their shape), or says why it did not.
 */
import { loadCollectionSpec } from "../../elf/index.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import { describeMapType } from "../../spec/map-spec.ts";
import { progTypeName } from "../../uapi/index.ts";
import { VirtualMachine, type VirtualMachineOptions } from "../../vm/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { reason } from "../objects/selectors.ts";

/** Reads an object file, or fails naming it. */
export function readObject(path: string): Uint8Array {
  try {
    return readInputFile(path, MAX_OBJECT_BYTES, "BPF object");
  } catch (e) {
    throw new CliError(`failed to open ${path}: ${reason(e)}`);
  }
}

/** The VM with `bytes` (an ELF object) loaded, or a CliError with the reason on one line. */
export function loadObject(
  bytes: Uint8Array,
  what: string,
  exitCode?: number,
  opts: VirtualMachineOptions = {},
): VirtualMachine {
  try {
    return VirtualMachine.load(loadCollectionSpec(bytes), opts);
  } catch (e) {
    throw new CliError(`failed to load ${what}: ${oneLine(e)}`, exitCode);
  }
}

/** An error's message on one line. */
export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, "; ");
}

/** `vm load`. */
export async function vmLoad(ctx: Context, args: Args): Promise<void> {
  args.require(1);
  const path = args.next();
  args.end();
  const vm = loadObject(readObject(path), path);
  const progs = Object.entries(vm.programs).map(([name, p]) => ({
    name,
    type: progTypeName(p.type) ?? `type ${p.type}`,
    insns: p.instructions.reduce((n, i) => n + i.bytes / 8, 0),
  }));
  const maps = Object.entries(vm.maps).map(([name, m]) => ({
    name,
    type: describeMapType(m.type),
    key: m.keySize,
    value: m.valueSize,
    max_entries: m.maxEntries,
    flags: m.flags,
  }));
  if (ctx.out.json) {
    ctx.out.value({
      programs: progs,
      maps: maps.map((m) => ({
        name: m.name,
        type: m.type,
        bytes_key: m.key,
        bytes_value: m.value,
        max_entries: m.max_entries,
        flags: m.flags,
      })),
    });
    return;
  }
  let s = "";
  for (const p of progs) s += `prog ${p.name}  type ${p.type}  insns ${p.insns}\n`;
  for (const m of maps) {
    s += `map ${m.name}  type ${m.type}  key ${m.key}B  value ${m.value}B  max_entries ${m.max_entries}`;
    s += m.flags ? `  flags 0x${m.flags.toString(16)}\n` : "\n";
  }
  ctx.out.write(s);
}
