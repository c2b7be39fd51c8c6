/**
 * `npm run fuzz -- TARGET [--seconds N] [--seed S] ...`: runs one fuzz target and exits
 * non-zero when it found a failure. Each target is a module exporting
 * `main(args: string[]): Promise<number>` (the exit code).
 */
const targets: Record<string, () => Promise<{ main(args: string[]): Promise<number> }>> = {
  vm: () => import("./vm.ts"),
};

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : targets[name];
if (!load) {
  console.error(
    `usage: npm run fuzz -- { ${Object.keys(targets).join(" | ")} } [--seconds N] [--seed S]`,
  );
  process.exit(2);
}
process.exitCode = await (await load()).main(args);
