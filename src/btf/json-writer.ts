/**
 * A streaming JSON writer that lays text out exactly as bpftool's json_writer does, so
 * `tsbpf -j`/`-p` output can be compared with bpftool's byte for byte:
 * compact with `-j`; with `-p`, four-space indentation, a newline before each object
 * member and before a closing bracket, and array elements kept on the opening line
 * (`"map_ids": [4,5\n    ]`, `[{\n        "id": 1 ...\n    },{`).
 *
 * Strings are escaped as JSON requires (bpftool writes `\'` and turns `\` into `\n`,
 * which is not JSON; tsbpf does not copy that).
 */

/** A value the writer can emit; `undefined` members of an object are skipped. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/** Streaming writer; `sink` receives the text in order. */
export class JsonWriter {
  #depth = 0;
  #sep = false;
  #open: string[] = [];
  readonly #sink: (text: string) => void;
  /** Pretty layout (bpftool `-p`). */
  readonly pretty: boolean;

  constructor(sink: (text: string) => void, pretty: boolean) {
    this.#sink = sink;
    this.pretty = pretty;
  }

  /** How many objects/arrays are open. */
  get depth(): number {
    return this.#depth;
  }

  #eor(): void {
    if (this.#sep) this.#sink(",");
    this.#sep = true;
  }

  #eol(): void {
    if (!this.pretty) return;
    this.#sink(`\n${"    ".repeat(this.#depth)}`);
  }

  #begin(c: string, close: string): void {
    this.#eor();
    this.#sink(c);
    this.#depth++;
    this.#open.push(close);
    this.#sep = false;
  }

  #end(): void {
    const close = this.#open.pop();
    if (close === undefined) throw new Error("internal: JSON writer closed more than it opened");
    this.#depth--;
    if (this.#sep) this.#eol();
    this.#sink(close);
    this.#sep = true;
  }

  /** `{` */
  startObject(): this {
    this.#begin("{", "}");
    return this;
  }
  /** `}` */
  endObject(): this {
    this.#end();
    return this;
  }
  /** `[` */
  startArray(): this {
    this.#begin("[", "]");
    return this;
  }
  /** `]` */
  endArray(): this {
    this.#end();
    return this;
  }
  /** Closes every open object and array (used when an error cuts output short). */
  closeAll(): this {
    while (this.#open.length > 0) this.#end();
    return this;
  }

  /** An object member's name; the value follows. */
  name(name: string): this {
    this.#eor();
    this.#eol();
    this.#sep = false;
    this.#sink(JSON.stringify(name));
    this.#sink(this.pretty ? ": " : ":");
    return this;
  }

  /** Any value, recursively. */
  value(v: JsonValue): this {
    if (v === null) return this.#raw("null");
    switch (typeof v) {
      case "boolean":
        return this.#raw(v ? "true" : "false");
      case "number":
        return this.#raw(Number.isFinite(v) ? String(v) : "null");
      case "bigint":
        return this.#raw(v.toString());
      case "string":
        return this.#raw(JSON.stringify(v));
    }
    if (Array.isArray(v)) {
      this.startArray();
      for (const e of v as readonly JsonValue[]) this.value(e);
      return this.endArray();
    }
    this.startObject();
    for (const [k, e] of Object.entries(v as { [key: string]: JsonValue | undefined })) {
      if (e === undefined) continue;
      this.name(k).value(e);
    }
    return this.endObject();
  }

  /** `name: value` */
  field(name: string, v: JsonValue): this {
    return this.name(name).value(v);
  }

  /** A token written as it is (bpftool's jsonw_printf): numbers, bare hex, `"c"`. */
  raw(text: string): this {
    return this.#raw(text);
  }

  #raw(text: string): this {
    this.#eor();
    this.#sink(text);
    return this;
  }
}
