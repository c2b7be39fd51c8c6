/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * What a run gave, drawn: the return value as `tsbpf vm run` prints it, the packet
 * before and after with changed bytes marked, each map before and after, ring buffer
 * records and trace_printk lines.
 * @module
 */
import type { MapSnapshot, RunOutcome } from "../model/run.ts";
import { h, hexWithChanges } from "./dom.ts";

const XDP_ACTIONS = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"];

/** The CLI's line: `Return value: 2, duration (average): 40ns`. */
export function returnLine(o: RunOutcome, repeat: number): string {
  return `Return value: ${o.retval}, duration${repeat > 1 ? " (average)" : ""}: ${Math.round(o.duration)}ns`;
}

const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** A value as little-endian numbers when its size says one (4 or 8 bytes). */
function asNumber(b: Uint8Array): string {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === 8) return ` = ${v.getBigUint64(0, true)}`;
  if (b.length === 4) return ` = ${v.getUint32(0, true)}`;
  return "";
}

function mapTable(before: MapSnapshot | undefined, after: MapSnapshot): HTMLElement {
  const keyHex = (k: Uint8Array) => hexOf(k);
  const old = new Map((before?.entries ?? []).map((e) => [keyHex(e.key), e.value]));
  const rows = after.entries.map((e) => {
    const was = old.get(keyHex(e.key));
    const changed = was === undefined || hexOf(was) !== hexOf(e.value);
    return h(
      "tr",
      { class: changed ? "changed" : undefined },
      h("td", {}, h("code", {}, keyHex(e.key) || "(none)")),
      h("td", {}, was ? h("code", {}, hexOf(was) + asNumber(was)) : "(absent)"),
      h("td", {}, h("code", {}, hexOf(e.value) + asNumber(e.value))),
    );
  });
  for (const [k, v] of old)
    if (!after.entries.some((e) => keyHex(e.key) === k))
      rows.push(
        h(
          "tr",
          { class: "changed" },
          h("td", {}, h("code", {}, k)),
          h("td", {}, h("code", {}, hexOf(v))),
          h("td", {}, "(deleted)"),
        ),
      );
  return h(
    "div",
    { class: "map", "data-map": after.name },
    h(
      "h4",
      {},
      `${after.name} `,
      h(
        "span",
        { class: "muted" },
        `${after.type}, key ${after.keySize} B, value ${after.valueSize} B`,
      ),
    ),
    rows.length
      ? h(
          "div",
          { class: "scroll" },
          h(
            "table",
            {},
            h(
              "thead",
              {},
              h("tr", {}, ...["Key", "Before", "After"].map((t) => h("th", { scope: "col" }, t))),
            ),
            h("tbody", {}, ...rows),
          ),
        )
      : h("p", { class: "muted" }, "empty"),
    after.more ? h("p", { class: "muted" }, "(more entries not shown)") : null,
  );
}

/** A ring buffer record as text (decoded through BTF), or undefined to show its bytes. */
export type RecordDecoder = (record: Uint8Array) => string | undefined;

function recordItem(r: Uint8Array, decode: RecordDecoder | undefined): HTMLElement {
  const text = decode?.(r);
  return text === undefined
    ? h("li", {}, h("code", {}, hexOf(r) + asNumber(r)))
    : h("li", { title: hexOf(r) }, h("pre", { class: "record" }, text));
}

/** The result panel for `o`; `decode` shows ring buffer records as text. */
export function runView(
  o: RunOutcome,
  repeat: number,
  progType: string,
  decode?: RecordDecoder,
): HTMLElement {
  const action = progType === "xdp" ? XDP_ACTIONS[o.retval] : undefined;
  const lenNote =
    o.dataOut.length !== o.dataIn.length
      ? h(
          "p",
          {},
          `The packet is ${o.dataOut.length} bytes after the run (${o.dataIn.length} before).`,
        )
      : null;
  return h(
    "div",
    {},
    h(
      "p",
      { class: "retval" },
      h("strong", { id: "return-line" }, returnLine(o, repeat)),
      action ? ` (${action})` : "",
    ),
    h(
      "p",
      { class: "muted", id: "run-stats" },
      `${o.engine}; ${o.instructions} instructions in the last run; ${repeat} run${repeat > 1 ? "s" : ""} in ${o.wallMs.toFixed(1)} ms`,
    ),
    o.dataIn.length || o.dataOut.length
      ? h(
          "div",
          { class: "diff" },
          h("h4", {}, "Packet out ", h("span", { class: "muted" }, "(changed bytes marked)")),
          h("div", { id: "data-out" }, hexWithChanges(o.dataOut, o.dataIn)),
          lenNote,
        )
      : null,
    o.ctxOut ? h("div", {}, h("h4", {}, "Context out"), hexWithChanges(o.ctxOut, undefined)) : null,
    o.mapsAfter.length
      ? h(
          "div",
          { id: "maps" },
          h("h4", {}, "Maps"),
          ...o.mapsAfter.map((m) =>
            mapTable(
              o.mapsBefore.find((b) => b.name === m.name),
              m,
            ),
          ),
        )
      : null,
    ...o.ringbuf.map((rb) =>
      h(
        "div",
        { class: "ringbuf", "data-map": rb.map },
        h(
          "h4",
          {},
          `Ring buffer ${rb.map}: ${rb.records.length} record${rb.records.length === 1 ? "" : "s"}`,
        ),
        h("ol", {}, ...rb.records.map((r) => recordItem(r, decode))),
      ),
    ),
    o.printk.length
      ? h("div", {}, h("h4", {}, "trace_printk"), h("pre", { id: "printk" }, o.printk.join("\n")))
      : null,
  );
}
