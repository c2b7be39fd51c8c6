/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The playground page: wires the editor, "Verify", the state view, "Run" and sharing
 * to the model (src/model/, pure and tested in Node as well). Plain DOM, no framework.
 * The VM (model/run.ts) and the ELF reader (model/object.ts) are separate chunks,
 * loaded once the page is ready, so the first verdict does not wait for them.
 * @module
 */
import { decodeProgram } from "../../src/isa/index.ts";
import { ProgType, progTypeName } from "../../src/uapi/index.ts";
import { formatExplanation, type VerifierCase } from "../../src/verifier/index.ts";
import { caseLines, caseText, formatInstruction, type Syntax } from "./model/case-text.ts";
import { EXAMPLES } from "./model/examples.ts";
import type { LoadedObject } from "./model/object.ts";
import { buildPacket, DEFAULT_PACKET, parseHex, toHex } from "./model/packet.ts";
import type { Engine, Runner, RunOutcome } from "./model/run.ts";
import { decodeShare, encodeShare } from "./model/share.ts";
import { assembleSource, SourceError, sourceCase } from "./model/source.ts";
import { statesAt, type Verdict, verifyProgram } from "./model/verify.ts";
import { byId, fill, h } from "./ui/dom.ts";
import { Editor } from "./ui/editor.ts";
import { type RecordDecoder, runView } from "./ui/run-view.ts";
import { stateView } from "./ui/state-view.ts";

const $ = {
  example: byId<HTMLSelectElement>("example"),
  type: byId<HTMLSelectElement>("prog-type"),
  syntax: byId<HTMLSelectElement>("syntax"),
  file: byId<HTMLInputElement>("file"),
  objectProgram: byId<HTMLSelectElement>("object-program"),
  objectProgramLabel: byId("object-program-label"),
  verify: byId<HTMLButtonElement>("verify"),
  run: byId<HTMLButtonElement>("run"),
  share: byId<HTMLButtonElement>("share"),
  shareUrl: byId<HTMLInputElement>("share-url"),
  source: byId<HTMLTextAreaElement>("source"),
  sourceError: byId("source-error"),
  mode: byId("mode"),
  objectNote: byId("object-note"),
  verdict: byId("verdict"),
  errorLines: byId("error-lines"),
  prev: byId<HTMLButtonElement>("prev-insn"),
  next: byId<HTMLButtonElement>("next-insn"),
  stepLabel: byId("step-label"),
  stateView: byId("state-view"),
  explanation: byId("explanation"),
  packet: byId<HTMLTextAreaElement>("packet"),
  ctx: byId<HTMLInputElement>("ctx"),
  repeat: byId<HTMLInputElement>("repeat"),
  runError: byId("run-error"),
  runResult: byId("run-result"),
  decodeAs: byId<HTMLSelectElement>("decode-as"),
  decodeAsLabel: byId("decode-as-label"),
  buildPacket: byId<HTMLButtonElement>("build-packet"),
};

/** The program being looked at: what the verifier judges and where its slots are in the editor. */
interface Current {
  readonly case: VerifierCase;
  readonly lineOfSlot: readonly (number | undefined)[];
  /** Set when the program is one of an uploaded object's. */
  readonly object?: { readonly loaded: LoadedObject; readonly name: string };
}

let current: Current | undefined;
let verdict: Verdict | undefined;
let loaded: LoadedObject | undefined;
let runner: { key: string; runner: Runner } | undefined;
/** The last run, drawn again when "decode records as" changes. */
let lastRun: { o: RunOutcome; repeat: number; type: string } | undefined;
/** A shared link's "decode records as", applied when an object with that struct opens. */
let sharedDecodeAs: string | undefined;
/** The verification the editor's typing schedules (debounced). */
let pending: ReturnType<typeof setTimeout> | undefined;
/** The program the verdict is about (its {@link caseKey}): the same one keeps the selection. */
let verifiedKey = "";
/** The slot the state view shows, and which of its states. */
let selected = { pc: -1, state: 0 };
/** The line of the assembler's error, marked until the text assembles. */
let sourceErrorLine: number | undefined;

const editor = new Editor($.source, byId("gutter"), (line) => selectLine(line));

// ---- program types, examples ---------------------------------------------------------

const TYPES = Object.values(ProgType)
  .filter((t) => t !== 0)
  .map((t) => ({ value: t as ProgType, name: progTypeName(t) ?? String(t) }));
fill($.type, ...TYPES.map((t) => h("option", { value: t.name }, t.name)));
fill(
  $.example,
  h("option", { value: "" }, "—"),
  ...EXAMPLES.map((e) => h("option", { value: e.id }, e.title)),
);

function typeByName(name: string): ProgType {
  const t = TYPES.find((x) => x.name === name);
  if (!t) throw new Error(`"${name}" is not a program type`);
  return t.value;
}

function engine(): Engine {
  return (document.querySelector<HTMLInputElement>('input[name="engine"]:checked')?.value ??
    "jit") as Engine;
}

function setEngine(e: Engine): void {
  const r = document.querySelector<HTMLInputElement>(`input[name="engine"][value="${e}"]`);
  if (r) r.checked = true;
}

// ---- the program: text or an object's ------------------------------------------------

/** Text mode: assembles the editor's text; shows the error where it is. */
function fromText(): Current | undefined {
  try {
    const src = assembleSource(editor.text);
    $.sourceError.textContent = "";
    sourceErrorLine = undefined;
    return { case: sourceCase(src, typeByName($.type.value)), lineOfSlot: src.lineOfSlot };
  } catch (e) {
    if (e instanceof SourceError) {
      $.sourceError.textContent = e.message;
      sourceErrorLine = e.line;
    } else $.sourceError.textContent = e instanceof Error ? e.message : String(e);
    return undefined;
  }
}

function setMode(obj: LoadedObject | undefined): void {
  loaded = obj;
  sourceErrorLine = undefined;
  $.source.readOnly = obj !== undefined;
  $.type.disabled = obj !== undefined;
  $.objectProgramLabel.hidden = obj === undefined;
  $.objectNote.hidden = obj === undefined;
  $.mode.textContent = obj ? `(${obj.file}, read-only: pick "—" in Example to type again)` : "";
  fillDecodeAs(obj);
}

/** Shows program `name` of the loaded object. */
function showObjectProgram(name: string): void {
  if (!loaded) return;
  const p = loaded.programs.find((x) => x.name === name);
  if (!p) return;
  $.objectProgram.value = name;
  if (!p.case) {
    current = undefined;
    editor.setText(`; ${name}: cannot be verified here: ${p.skipped}`);
    $.objectNote.textContent = `${name} cannot be verified: ${p.skipped}`;
    showVerdict();
    return;
  }
  $.type.value = progTypeName(p.case.progType) ?? "";
  editor.setText(caseText(p.case, $.syntax.value as Syntax));
  $.objectNote.textContent = `${name}: ${progTypeName(p.case.progType)}, licence ${p.case.license}, ${p.case.maps.length} maps, ${p.case.funcs.length} functions with BTF info.`;
  current = { case: p.case, lineOfSlot: caseLines(p.case), object: { loaded, name } };
  verifyNow();
}

async function loadObjectBytes(bytes: Uint8Array, file: string): Promise<void> {
  let obj: LoadedObject;
  try {
    const { readObject } = await import("./model/object.ts");
    obj = readObject(bytes, file);
  } catch (e) {
    $.sourceError.textContent = e instanceof Error ? e.message : String(e);
    return;
  }
  $.sourceError.textContent = "";
  setMode(obj);
  runner = undefined;
  $.example.value = "";
  fill(
    $.objectProgram,
    ...obj.programs.map((p) =>
      h("option", { value: p.name }, p.case ? p.name : `${p.name} (cannot be verified)`),
    ),
  );
  $.objectProgram.dataset.file = file;
  const first = obj.programs.find((p) => p.case) ?? obj.programs[0];
  if (first) showObjectProgram(first.name);
  else {
    editor.setText("; the object has no programs");
    current = undefined;
    showVerdict();
  }
}

// ---- verify --------------------------------------------------------------------------

/** Re-reads the program (text mode) and verifies it. */
function verifyNow(): void {
  clearTimeout(pending);
  const t0 = performance.now();
  if (!loaded) current = fromText();
  verdict = current ? verifyProgram(current.case) : undefined;
  showVerdict();
  // How long the last verification took to show, assembly to state view (the test reads it).
  $.verdict.dataset.ms = (performance.now() - t0).toFixed(1);
}

function lineOf(pc: number): number | undefined {
  return current?.lineOfSlot[pc];
}

function showVerdict(): void {
  $.verdict.className = verdict ? (verdict.accepted ? "accepted" : "rejected") : "";
  $.verdict.textContent = verdict
    ? verdict.line
    : current
      ? ""
      : "Not verified: fix the program first.";
  $.verdict.dataset.accepted = verdict ? String(verdict.accepted) : "";
  const extra = verdict?.lines.slice(1) ?? [];
  $.errorLines.hidden = extra.length === 0;
  $.errorLines.textContent = extra.join("\n");
  if (verdict && current) {
    const insns = decodeProgram(current.case.insns);
    $.explanation.textContent = formatExplanation(insns, verdict.result);
  } else $.explanation.textContent = "";
  // The same program verified again keeps its place; a new one starts where it matters:
  // the error, else the caret's instruction, else the first.
  const key = current ? caseKey(current.case) : "";
  if (key !== "" && key === verifiedKey && selected.pc >= 0) {
    showState();
    return;
  }
  verifiedKey = key;
  const pc =
    verdict?.insn ??
    slotOfLine(editor.caretLine()) ??
    current?.lineOfSlot.findIndex((l) => l !== undefined) ??
    -1;
  selected = { pc, state: 0 };
  showState();
}

function slotOfLine(line: number): number | undefined {
  const pc = current?.lineOfSlot.indexOf(line) ?? -1;
  return pc >= 0 ? pc : undefined;
}

/** The caret moved to `line`: follow it. */
function selectLine(line: number): void {
  const pc = slotOfLine(line);
  if (pc === undefined || pc === selected.pc) {
    markGutter();
    return;
  }
  selected = { pc, state: 0 };
  showState();
}

function markGutter(): void {
  const path = new Set<number>();
  for (const pc of verdict?.path ?? []) {
    const l = lineOf(pc);
    if (l !== undefined) path.add(l);
  }
  const error = sourceErrorLine ?? (verdict?.insn !== undefined ? lineOf(verdict.insn) : undefined);
  const cur = lineOf(selected.pc);
  editor.mark({
    ...(cur !== undefined && { current: cur }),
    ...(error !== undefined && { error }),
    path,
  });
}

/** The instruction at `pc` as the editor's syntax prints it. */
function insnText(pc: number): string {
  if (!current) return "";
  let slot = 0;
  for (const i of decodeProgram(current.case.insns)) {
    if (slot === pc) return formatInstruction(i, $.syntax.value as Syntax);
    slot += i.bytes / 8;
  }
  return "?";
}

function showState(): void {
  markGutter();
  if (!verdict || !current || selected.pc < 0) {
    fill($.stateView);
    $.stepLabel.textContent = "";
    return;
  }
  const pc = selected.pc;
  const states = statesAt(verdict, pc);
  const onPath = verdict.path.includes(pc);
  fill(
    $.stateView,
    stateView(pc, insnText(pc), states, selected.state, onPath, (i) => {
      selected = { pc, state: i };
      showState();
    }),
  );
  const k = verdict.path.lastIndexOf(pc);
  $.stepLabel.textContent =
    !verdict.accepted && k >= 0
      ? `step ${k + 1} of ${verdict.path.length} on the failing path`
      : `insn ${pc} of ${current.lineOfSlot.length}`;
}

/** Steps the state view: along the failing path on a rejection, else instruction by instruction. */
function step(dir: 1 | -1): void {
  if (!current || !verdict) return;
  let pc: number | undefined;
  const k = verdict.path.lastIndexOf(selected.pc);
  if (!verdict.accepted && k >= 0) pc = verdict.path[k + dir];
  else
    for (let p = selected.pc + dir; p >= 0 && p < current.lineOfSlot.length; p += dir)
      if (current.lineOfSlot[p] !== undefined) {
        pc = p;
        break;
      }
  if (pc === undefined) return;
  selected = { pc, state: 0 };
  const line = lineOf(pc);
  if (line !== undefined) {
    editor.goToLine(line);
  }
  showState();
}

// ---- run -----------------------------------------------------------------------------

/** What makes a program the same program: type, instructions and maps. */
function caseKey(c: VerifierCase): string {
  return `${c.progType} ${toHex(c.insns, 1 << 30)} ${JSON.stringify(c.maps.map((m) => m.spec))}`;
}

let runs = 0;

async function runNow(): Promise<void> {
  await runOnce();
  // How many runs finished (the test waits for it).
  $.runResult.dataset.runs = String(++runs);
}

async function runOnce(): Promise<void> {
  $.runError.textContent = "";
  if (!current || !verdict) {
    $.runError.textContent = "Nothing to run: the program does not assemble.";
    return;
  }
  if (!verdict.accepted) {
    $.runError.textContent = `The verifier rejects the program (${verdict.line}); the kernel would not load it, so it does not run.`;
    return;
  }
  let data: Uint8Array;
  let ctx: Uint8Array | undefined;
  const repeat = Number($.repeat.value);
  try {
    data = parseHex($.packet.value, "packet");
    ctx = $.ctx.value.trim() ? parseHex($.ctx.value, "context") : undefined;
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1_000_000)
      throw new Error(`repeat: ${$.repeat.value} is not a count from 1 to 1000000`);
  } catch (e) {
    $.runError.textContent = e instanceof Error ? e.message : String(e);
    return;
  }
  // The maps live as long as the program and engine do.
  const key = `${engine()} ${current.object?.name ?? ""} ${caseKey(current.case)}`;
  try {
    const { objectRunner, runInput, textRunner } = await import("./model/run.ts");
    if (runner?.key !== key) {
      const c = current;
      runner = {
        key,
        runner: c.object
          ? objectRunner(c.object.loaded.spec, c.object.name, engine())
          : textRunner(c.case, engine()),
      };
    }
    const o = runner.runner.run(runInput(current.case.progType, data, ctx, repeat));
    lastRun = { o, repeat, type: progTypeName(current.case.progType) ?? "" };
    await showRun();
  } catch (e) {
    $.runError.textContent = `The program cannot run: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** The decoder "decode records as" picks: undefined for hex or without an object's BTF. */
async function recordDecoder(): Promise<RecordDecoder | undefined> {
  const obj = loaded;
  const type = $.decodeAs.value;
  if (!obj?.spec.btf || !type || type === "hex") return undefined;
  const { recordText } = await import("./model/records.ts");
  return (r) => {
    try {
      return recordText(obj.spec.btf, obj.recordTypes, type, r);
    } catch (e) {
      return `(cannot decode as struct ${type}: ${e instanceof Error ? e.message : String(e)})`;
    }
  };
}

async function showRun(): Promise<void> {
  if (!lastRun) return;
  const { o, repeat, type } = lastRun;
  fill($.runResult, runView(o, repeat, type, await recordDecoder()));
}

/** "Decode records as": hex and the object's structs, shown when it has any. */
function fillDecodeAs(obj: LoadedObject | undefined): void {
  const types = obj?.recordTypes ?? [];
  $.decodeAsLabel.hidden = types.length === 0;
  fill(
    $.decodeAs,
    h("option", { value: "hex" }, "hex"),
    ...types.map((t) => h("option", { value: t.name }, `struct ${t.name} (${t.size} B)`)),
  );
  const wanted = sharedDecodeAs;
  // A shared link's choice applies to the first object opened after it.
  if (obj) sharedDecodeAs = undefined;
  lastRun = undefined;
  $.decodeAs.value =
    wanted && (wanted === "hex" || types.some((t) => t.name === wanted))
      ? wanted
      : (obj?.defaultRecordType ?? "hex");
}

// ---- packet builder ------------------------------------------------------------------

const B = {
  srcMac: byId<HTMLInputElement>("b-srcmac"),
  dstMac: byId<HTMLInputElement>("b-dstmac"),
  srcIp: byId<HTMLInputElement>("b-srcip"),
  dstIp: byId<HTMLInputElement>("b-dstip"),
  ttl: byId<HTMLInputElement>("b-ttl"),
  proto: byId<HTMLSelectElement>("b-proto"),
  sport: byId<HTMLInputElement>("b-sport"),
  dport: byId<HTMLInputElement>("b-dport"),
  flags: byId<HTMLInputElement>("b-flags"),
  payload: byId<HTMLInputElement>("b-payload"),
};
B.srcMac.value = DEFAULT_PACKET.srcMac;
B.dstMac.value = DEFAULT_PACKET.dstMac;
B.srcIp.value = DEFAULT_PACKET.srcIp;
B.dstIp.value = DEFAULT_PACKET.dstIp;
B.ttl.value = String(DEFAULT_PACKET.ttl);
B.proto.value = DEFAULT_PACKET.proto;
B.sport.value = String(DEFAULT_PACKET.srcPort);
B.dport.value = String(DEFAULT_PACKET.dstPort);
B.flags.value = DEFAULT_PACKET.tcpFlags.join(" ");
B.payload.value = DEFAULT_PACKET.payload;

function buildNow(): void {
  try {
    const bytes = buildPacket({
      srcMac: B.srcMac.value,
      dstMac: B.dstMac.value,
      srcIp: B.srcIp.value,
      dstIp: B.dstIp.value,
      ttl: Number(B.ttl.value),
      proto: B.proto.value === "tcp" ? "tcp" : "udp",
      srcPort: Number(B.sport.value),
      dstPort: Number(B.dport.value),
      tcpFlags: B.flags.value.split(/[\s,|]+/).filter(Boolean),
      payload: B.payload.value,
    });
    $.packet.value = toHex(bytes);
    $.runError.textContent = "";
  } catch (e) {
    $.runError.textContent = e instanceof Error ? e.message : String(e);
  }
}

// ---- share ---------------------------------------------------------------------------

function shareNow(): void {
  const fragment = encodeShare({
    text: editor.text,
    type: $.type.value,
    syntax: $.syntax.value as Syntax,
    packet: $.packet.value,
    repeat: Number($.repeat.value) || 1,
    engine: engine(),
    ...(loaded ? { decodeAs: $.decodeAs.value } : {}),
  });
  history.replaceState(null, "", fragment);
  $.shareUrl.hidden = false;
  $.shareUrl.value = location.href;
  $.shareUrl.select();
  navigator.clipboard?.writeText(location.href).catch(() => {
    // Not allowed (no focus or permission): the link is selected in the field instead.
  });
}

/**
 * Opens the state a link holds: true when it did, false when the fragment holds none;
 * a damaged link's error is shown in the editor's error line.
 */
function openShared(): boolean {
  let s: ReturnType<typeof decodeShare>;
  try {
    s = decodeShare(location.hash);
  } catch (e) {
    if (!current) openExample(EXAMPLES[0]?.id ?? "");
    $.sourceError.textContent = e instanceof Error ? e.message : String(e);
    return true;
  }
  if (!s) return false;
  setMode(undefined);
  $.example.value = "";
  $.type.value = TYPES.some((t) => t.name === s.type) ? s.type : "xdp";
  $.syntax.value = s.syntax;
  $.packet.value = s.packet;
  $.repeat.value = String(s.repeat);
  setEngine(s.engine);
  sharedDecodeAs = s.decodeAs;
  editor.setText(s.text);
  verifyNow();
  return true;
}

function openExample(id: string): void {
  const e = EXAMPLES.find((x) => x.id === id);
  if (!e) return;
  $.example.value = id;
  setMode(undefined);
  $.type.value = e.type;
  editor.setText(e.text);
  verifyNow();
}

// ---- events --------------------------------------------------------------------------

$.source.addEventListener("input", () => {
  editor.render();
  if (loaded) return;
  clearTimeout(pending);
  pending = setTimeout(verifyNow, 150);
});
$.example.addEventListener("change", () => {
  if ($.example.value) openExample($.example.value);
  else {
    setMode(undefined);
    verifyNow();
  }
});
$.type.addEventListener("change", verifyNow);
$.syntax.addEventListener("change", () => {
  // Rewrites the program in the other syntax (labels and comments become offsets).
  if (current) {
    const c = current;
    editor.setText(caseText(c.case, $.syntax.value as Syntax));
    if (c.object) current = { ...c, lineOfSlot: caseLines(c.case) };
  }
  verifyNow();
});
$.objectProgram.addEventListener("change", () => showObjectProgram($.objectProgram.value));
// A new object starts with new maps even where a program's instructions are the same.
$.file.addEventListener("change", async () => {
  const f = $.file.files?.[0];
  if (f) await loadObjectBytes(new Uint8Array(await f.arrayBuffer()), f.name);
});
document.addEventListener("dragover", (e) => {
  e.preventDefault();
  document.body.classList.add("dragging");
});
document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
document.addEventListener("drop", async (e) => {
  e.preventDefault();
  document.body.classList.remove("dragging");
  const f = e.dataTransfer?.files[0];
  if (f) await loadObjectBytes(new Uint8Array(await f.arrayBuffer()), f.name);
});
$.verify.addEventListener("click", verifyNow);
$.run.addEventListener("click", () => void runNow());
$.share.addEventListener("click", shareNow);
$.decodeAs.addEventListener("change", () => void showRun());
$.buildPacket.addEventListener("click", buildNow);
$.prev.addEventListener("click", () => step(-1));
$.next.addEventListener("click", () => step(1));
for (const r of document.querySelectorAll('input[name="engine"]'))
  r.addEventListener("change", () => {
    runner = undefined;
  });
document.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    if (e.shiftKey) void runNow();
    else verifyNow();
  } else if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
    e.preventDefault();
    step(e.key === "ArrowUp" ? -1 : 1);
  }
});
window.addEventListener("hashchange", openShared);

// ---- start ---------------------------------------------------------------------------

if (!openShared()) openExample(EXAMPLES[0]?.id ?? "");
if (!$.packet.value) buildNow();
document.documentElement.dataset.ready = String(Math.round(performance.now()));
// The chunks "Run" and "Open .bpf.o" need, fetched while the reader reads.
setTimeout(() => {
  void import("./model/run.ts");
  void import("./model/object.ts");
}, 0);
