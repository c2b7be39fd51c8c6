/**
 * The files `tsbpf init` writes: a small XDP project (a .bpf.c counting packets per IP
 * protocol, a loader that attaches it to an interface, a test that runs it in the VM
 * and, as root, in the kernel), as text keyed by path.
 *
 * @module
 */

/**
 * The development dependencies a new project gets, at the versions this repository's
 * package-lock.json has (so `npm install --prefer-offline` finds them in a cache that
 * installed tsbpf's own; test/cli-init.test.ts checks they agree).
 */
export const DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  "@types/node": "^20.19.43",
  tsx: "^4.23.15",
  typescript: "~5.9.3",
};

/** What the files depend on: the project's name and where tsbpf comes from. */
export interface ProjectOptions {
  /** The project's name: package name, file stem and object name (`[a-z][a-z0-9-]*`). */
  readonly name: string;
  /** The `tsbpf` dependency: `^0.1.0`, `file:../tsbpf-0.1.0.tgz`, a tarball path. */
  readonly tsbpf: string;
}

/** `my-xdp` → `MyXdp`, as `tsbpf gen types` names the object's loader (gen-types.ts). */
export type PascalCase = (name: string) => string;

/** The project's files, by path relative to its directory, in the order they are written. */
export function projectFiles(opts: ProjectOptions, pascalCase: PascalCase): Map<string, string> {
  const { name } = opts;
  const base = pascalCase(name);
  return new Map([
    ["package.json", packageJson(opts)],
    ["tsconfig.json", TSCONFIG],
    [".gitignore", GITIGNORE],
    ["README.md", readme(name)],
    [`src/${name}.bpf.c`, bpfSource(name)],
    [`src/${name}.ts`, loaderSource(name, base)],
    [`test/${name}.test.ts`, testSource(name, base)],
  ]);
}

function packageJson({ name, tsbpf }: ProjectOptions): string {
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    engines: { node: ">=20.19" },
    scripts: {
      build: `mkdir -p build && tsbpf compile src/${name}.bpf.c -o build/${name}.bpf.o && tsbpf gen types build/${name}.bpf.o > src/${name}.gen.ts`,
      test: `node --import tsx --test test/${name}.test.ts`,
      start: `node --import tsx src/${name}.ts`,
      typecheck: "tsc --noEmit",
    },
    dependencies: { tsbpf },
    devDependencies: DEV_DEPENDENCIES,
    // npm >= 11 runs only the install scripts listed here: koffi's picks its prebuilt
    // addon (tsbpf's syscalls), esbuild's checks its binary (tsx).
    allowScripts: { koffi: true, esbuild: true },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

// tsx runs the .ts files as they are; tsc only checks them (`npm run typecheck`).
const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "es2022",
      module: "nodenext",
      lib: ["es2022", "esnext.disposable"],
      types: ["node"],
      strict: true,
      noUncheckedIndexedAccess: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: false,
    },
    include: ["src", "test"],
  },
  null,
  2,
)}\n`;

const GITIGNORE =
  "node_modules\nbuild/\n# written by `npm run build` (tsbpf gen types)\nsrc/*.gen.ts\n";

function readme(name: string): string {
  return `# ${name}

An XDP program that counts packets per IP protocol, with a TypeScript loader built on
[tsbpf](https://www.npmjs.com/package/tsbpf). Made by \`tsbpf init\`.

- \`src/${name}.bpf.c\`: the BPF program (C). It counts each frame in the \`counts\`
  hash map, keyed by the IPv4 protocol number (6 TCP, 17 UDP, 1 ICMP; 256 for frames
  that are not IPv4), and passes every frame on (\`XDP_PASS\`).
- \`src/${name}.ts\`: loads the object, attaches it to an interface, prints the counts
  each second and detaches on Ctrl-C.
- \`test/${name}.test.ts\`: runs the program on a UDP and a TCP packet in tsbpf's VM (no
  root needed) and, as root, in the kernel (\`BPF_PROG_TEST_RUN\`).

## Build

\`\`\`sh
npm install
npm run build   # tsbpf compile (clang >= 14) -> build/${name}.bpf.o, tsbpf gen types -> src/${name}.gen.ts
\`\`\`

## Test

\`\`\`sh
npm test         # the VM test; the kernel one is skipped without root
sudo npm test    # both
\`\`\`

## Run

As root (or with CAP_BPF and CAP_NET_ADMIN), on an interface (\`ip link\` lists them):

\`\`\`sh
sudo npm start -- eth0
\`\`\`

It attaches in generic (skb) mode, which every device has; Ctrl-C detaches it.
`;
}

function bpfSource(name: string): string {
  return `// ${name}: counts packets per IP protocol and passes them all on.
// Built by \`npm run build\` (tsbpf compile); the loader is src/${name}.ts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define NOT_IPV4 256 /* the key of frames that are not IPv4 */

/* The headers this program reads: Ethernet, then the start of IPv4 (RFC 791). */
struct ethernet {
  __u8 dst[6];
  __u8 src[6];
  __be16 type;
};

struct ipv4 {
  __u8 version_ihl;
  __u8 tos;
  __be16 total_length;
  __be16 id;
  __be16 fragment;
  __u8 ttl;
  __u8 protocol;
};

/* Packets seen, by IPv4 protocol number (or NOT_IPV4). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 257);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int count_packets(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethernet *eth = data;
  struct ipv4 *ip = (void *)(eth + 1);
  __u32 key = NOT_IPV4;

  if ((void *)(ip + 1) <= end && eth->type == bpf_htons(ETH_P_IP) &&
      (ip->version_ihl >> 4) == 4)
    key = ip->protocol;

  __u64 *count = bpf_map_lookup_elem(&counts, &key);
  if (count) {
    __sync_fetch_and_add(count, 1);
  } else {
    __u64 one = 1;
    /* Another CPU may have added the key meanwhile: then count on its entry. */
    if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST) != 0) {
      count = bpf_map_lookup_elem(&counts, &key);
      if (count)
        __sync_fetch_and_add(count, 1);
    }
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;
}

function loaderSource(name: string, base: string): string {
  return `/**
 * Loads build/${name}.bpf.o, attaches its XDP program to INTERFACE (generic mode),
 * prints the packets counted per IP protocol each second, and detaches on Ctrl-C.
 *
 * Run as root: npm start -- INTERFACE   (npm run build first)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCollectionSpec } from "tsbpf/elf";
import { attachXdp, kernelBackend, type Program } from "tsbpf/kernel";
import { load${base} } from "./${name}.gen.ts";

/** IP protocol numbers by name, for printing; NOT_IPV4 (256) is "not ipv4". */
const PROTOCOLS: Record<number, string> = { 1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 256: "not ipv4" };

const iface = process.argv[2];
if (!iface) {
  console.error("usage: npm start -- INTERFACE   (as root)");
  process.exit(2);
}

const spec = loadCollectionSpec(readFileSync(join(import.meta.dirname, "../build/${name}.bpf.o")));
using obj = load${base}(kernelBackend, spec);
{
  using link = attachXdp(obj.programs.count_packets as Program, iface, { mode: "generic" });
  console.log(\`attached: \${link}; Ctrl-C to detach\`);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const line = [...obj.maps.counts]
        .sort(([a], [b]) => a - b)
        .map(([proto, packets]) => \`\${PROTOCOLS[proto] ?? \`proto \${proto}\`} \${packets}\`);
      console.log(line.join("  ") || "(no packets yet)");
    }, 1000);
    const stop = () => {
      clearInterval(timer);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
// The link was closed at the end of its block: the program is detached.
console.log("detached");
`;
}

function testSource(name: string, base: string): string {
  return `/**
 * ${name} on a UDP and a TCP packet: in tsbpf's VM (no root needed) and, as root, in
 * the kernel (BPF_PROG_TEST_RUN). Builds the object first when it is missing or older
 * than its source.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { loadCollectionSpec } from "tsbpf/elf";
import { kernelBackend } from "tsbpf/kernel";
import type { Backend, CollectionSpec } from "tsbpf/spec";
import { vmBackend } from "tsbpf/vm";

const ROOT = join(import.meta.dirname, "..");
const SOURCE = join(ROOT, "src/${name}.bpf.c");
const OBJECT = join(ROOT, "build/${name}.bpf.o");
const TYPES = join(ROOT, "src/${name}.gen.ts");
const XDP_PASS = 2;

/** An Ethernet frame carrying IPv4 with protocol \`protocol\` and an 8-byte L4 header. */
function ipv4Frame(protocol: number): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 8);
  const view = new DataView(frame.buffer);
  view.setUint16(12, 0x0800); // EtherType: IPv4
  frame[14] = 0x45; // version 4, 5 words of header
  view.setUint16(16, 20 + 8); // total length
  frame[22] = 64; // TTL
  frame[23] = protocol;
  return frame;
}

const UDP = 17;
const TCP = 6;
let spec: CollectionSpec;
let load${base}: typeof import("../src/${name}.gen.ts").load${base};

before(async () => {
  const stale =
    !existsSync(OBJECT) || !existsSync(TYPES) || statSync(OBJECT).mtimeMs < statSync(SOURCE).mtimeMs;
  if (stale) execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "inherit" });
  spec = loadCollectionSpec(readFileSync(OBJECT));
  ({ load${base} } = await import("../src/${name}.gen.ts"));
});

/** Runs the program on a UDP then a TCP frame with \`backend\` and checks verdicts and counts. */
function check(backend: Backend): void {
  using obj = load${base}(backend, spec);
  for (const protocol of [UDP, TCP]) {
    const { retval } = obj.programs.count_packets.run({ data: ipv4Frame(protocol) });
    assert.equal(retval, XDP_PASS, \`protocol \${protocol}: XDP_PASS\`);
  }
  assert.equal(obj.maps.counts.lookup(UDP), 1n);
  assert.equal(obj.maps.counts.lookup(TCP), 1n);
  assert.deepEqual([...obj.maps.counts.keys()].sort((a, b) => a - b), [TCP, UDP]);
}

test("in the VM: each packet passes and is counted under its protocol", () => check(vmBackend));

const notRoot = process.getuid?.() !== 0 && "the kernel test needs root (CAP_BPF): sudo npm test";
test("in the kernel: the same, with BPF_PROG_TEST_RUN", { skip: notRoot }, () => check(kernelBackend));
`;
}
