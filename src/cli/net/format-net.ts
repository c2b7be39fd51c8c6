/**
 * The one formatter for `net show`: a {@link NetView} printed as bpftool 7.1's plain
 * text or as its JSON, so the two never drift apart.
 *
 * The layout is bpftool's: an `xdp:` section (one line per device with a program, the
 * modes in generic, driver, offload order), a `tc:` section (one line per cls_bpf
 * filter: device, where the filter hangs — a qdisc or class kind, `root`,
 * `clsact/ingress`, `clsact/egress` — its name, program id and bpf actions), a
 * `flow_dissector:` section. In JSON, one object in an array, with bpftool's own
 * oddities kept (the flow dissector's id is a member written inside an array).
 *
 * tsbpf's own lines (bpftool 7.1 has none): programs on a device's tcx and netkit hooks
 * (Linux 6.6/6.7), printed first in a device's tc lines as later bpftool versions
 * print them (`tcx/ingress NAME prog_id N link_id M`).
 */
import type { JsonWriter } from "../format/json-writer.ts";
import type { Output } from "../format/output.ts";

/** An XDP mode as bpftool names it. */
export type XdpModeName = "generic" | "driver" | "offload";

/** A device with XDP programs. */
export interface XdpEntry {
  readonly devname: string;
  readonly ifindex: number;
  /** One program per mode, in generic, driver, offload order; two or more print as a list. */
  readonly progs: readonly { readonly mode: XdpModeName; readonly id: number }[];
}

/** A cls_bpf filter on a device. */
export interface TcFilterEntry {
  readonly type: "filter";
  /** "" when unknown (not printed then). */
  readonly devname: string;
  readonly ifindex: number;
  /** Where it hangs: a qdisc or class kind, "root", "clsact/ingress", "clsact/egress". */
  readonly kind: string;
  readonly name?: string;
  readonly id?: number;
  /** The bpf actions of its action list (other actions print nothing), when it has one. */
  readonly actions?: readonly { readonly name?: string; readonly id?: number }[];
}

/** A program on a tcx or netkit hook (tsbpf's own line; bpftool 7.1 has none). */
export interface TcMprogEntry {
  readonly type: "mprog";
  readonly devname: string;
  readonly ifindex: number;
  /** "tcx/ingress", "tcx/egress", "netkit/primary" or "netkit/peer". */
  readonly kind: string;
  /** The program's full name, when it has one. */
  readonly name?: string;
  readonly progId: number;
  /** Its attach flags, one bit value each. */
  readonly progFlags: readonly number[];
  /** The link that holds it, 0 when attached without one. */
  readonly linkId: number;
  readonly linkFlags: readonly number[];
}

export type TcEntry = TcFilterEntry | TcMprogEntry;

/** Everything `net show` prints. */
export interface NetView {
  readonly xdp: readonly XdpEntry[];
  /** Undefined when listing the devices failed (bpftool then prints no tc section). */
  readonly tc: readonly TcEntry[] | undefined;
  /** The network namespace's flow dissector program, if one. */
  readonly flowDissector: number | undefined;
}

/** bpftool's plain text. */
export function netPlain(v: NetView): string {
  let s = "xdp:\n";
  for (const x of v.xdp) s += `${xdpPlain(x)}\n`;
  s += "\n";
  if (v.tc) {
    s += "tc:\n";
    for (const t of v.tc) s += `${t.type === "filter" ? filterPlain(t) : mprogPlain(t)}\n`;
    s += "\n";
  }
  s += "flow_dissector:\n";
  if (v.flowDissector) s += `id ${v.flowDissector}`;
  return `${s}\n`;
}

function xdpPlain(x: XdpEntry): string {
  return `${x.devname}(${x.ifindex})${x.progs.map((p) => ` ${p.mode} id ${p.id}`).join("")}`;
}

function filterPlain(f: TcFilterEntry): string {
  let s = `${f.devname}(${f.ifindex}) ${f.kind}`;
  if (f.name !== undefined) s += ` ${f.name}`;
  if (f.id !== undefined) s += ` id ${f.id}`;
  if (f.actions) {
    const acts = f.actions.map(
      (a) => `{${a.name ?? ""}${a.id !== undefined ? ` id ${a.id}` : ""}}`,
    );
    s += ` act [${acts.join("")}] `;
  }
  return s;
}

function mprogPlain(m: TcMprogEntry): string {
  let s = `${m.devname}(${m.ifindex}) ${m.kind}`;
  if (m.name !== undefined) s += ` ${m.name}`;
  s += ` prog_id ${m.progId} `;
  if (m.progFlags.length > 0) s += `prog_flags ${m.progFlags.map((f) => `${f} `).join("")}`;
  if (m.linkId) {
    s += `link_id ${m.linkId} `;
    if (m.linkFlags.length > 0) s += `link_flags ${m.linkFlags.map((f) => `${f} `).join("")}`;
  }
  return s;
}

/** bpftool's JSON: `[{"xdp":[...],"tc":[...],"flow_dissector":[...]}]`. */
export function netJson(w: JsonWriter, v: NetView): void {
  w.startArray().startObject();
  w.name("xdp").startArray();
  for (const x of v.xdp) xdpJson(w, x);
  w.endArray();
  if (v.tc) {
    w.name("tc").startArray();
    for (const t of v.tc) {
      if (t.type === "filter") filterJson(w, t);
      else mprogJson(w, t);
    }
    w.endArray();
  }
  w.name("flow_dissector").startArray();
  // bpftool writes the id as a member inside the array: kept, for byte-identical output.
  if (v.flowDissector) w.field("id", v.flowDissector);
  w.endArray();
  w.endObject().endArray();
}

function xdpJson(w: JsonWriter, x: XdpEntry): void {
  w.startObject().field("devname", x.devname).field("ifindex", x.ifindex);
  if (x.progs.length > 1) {
    w.name("multi_attachments").startArray();
    for (const p of x.progs) w.startObject().field("mode", p.mode).field("id", p.id).endObject();
    w.endArray();
  } else {
    for (const p of x.progs) w.field("mode", p.mode).field("id", p.id);
  }
  w.endObject();
}

function filterJson(w: JsonWriter, f: TcFilterEntry): void {
  w.startObject();
  if (f.devname !== "") w.field("devname", f.devname);
  w.field("ifindex", f.ifindex).field("kind", f.kind);
  if (f.name !== undefined) w.field("name", f.name);
  if (f.id !== undefined) w.field("id", f.id);
  if (f.actions) {
    w.name("act").startArray();
    for (const a of f.actions) {
      w.startObject();
      if (a.name !== undefined) w.field("name", a.name);
      if (a.id !== undefined) w.field("id", a.id);
      w.endObject();
    }
    w.endArray();
  }
  w.endObject();
}

function mprogJson(w: JsonWriter, m: TcMprogEntry): void {
  w.startObject().field("devname", m.devname).field("ifindex", m.ifindex).field("kind", m.kind);
  if (m.name !== undefined) w.field("name", m.name);
  w.field("prog_id", m.progId);
  w.name("prog_flags").value(m.progFlags);
  w.field("link_id", m.linkId);
  w.name("link_flags").value(m.linkFlags);
  w.endObject();
}

/** Prints `v` in the output's mode. */
export function printNet(out: Output, v: NetView): void {
  if (out.json) netJson(out.w, v);
  else out.write(netPlain(v));
}
