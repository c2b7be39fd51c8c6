/**
 * `tsbpf vm dump jited OBJ PROG`: the JavaScript the VM's JIT generates for a program
 * of an ELF object — what `bpftool prog dump jited` is to the kernel's machine code.
 * The program is compiled as `vm run OBJ PROG jit` would compile it (with the maps of
 * the loaded object, so inline map lookups show); a program the JIT refuses fails with
 * the reason (exit 1). Plain text is a comment line naming the program followed by the
 * generated function body; `-j` gives `{ name, type, insns, source }`.
 */
import { progTypeName } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { loadObject, readObject } from "./vm-load.ts";

/** `vm dump jited OBJ PROG`. */
export async function vmDump(ctx: Context, args: Args): Promise<void> {
  args.require(1);
  const what = args.next();
  if (what !== "jited")
    throw new CliError(`'${what}' is not something 'vm dump' prints: jited (the JIT's JavaScript)`);
  args.require(2);
  const path = args.next();
  const name = args.next();
  args.end();
  // The JavaScript target: what this command prints (a wasm module is bytes, not text).
  const vm = loadObject(readObject(path), path, undefined, { jitTarget: "js" });
  const prog = vm.programs[name];
  if (!prog)
    throw new CliError(
      `no program "${name}" in ${path} (it has: ${Object.keys(vm.programs).join(", ") || "none"})`,
    );
  if (!prog.jitCompile() || prog.jitSource === undefined)
    throw new CliError(
      `${name}: the JIT refused the program: ${prog.jitRefusal ?? "no reason given"}`,
    );
  const type = progTypeName(prog.type) ?? `type ${prog.type}`;
  const insns = prog.instructions.reduce((n, i) => n + i.bytes / 8, 0);
  if (ctx.out.json) {
    ctx.out.value({ name, type, insns, source: prog.jitSource });
    return;
  }
  ctx.out.write(
    `// ${type} program "${name}": ${insns} instructions, ${prog.jitSource.length} chars of JavaScript\n${prog.jitSource}\n`,
  );
}
