/**
 * clang's diagnostics, read from its standard error: `file:line:column: severity:
 * message [-Wflag]`, and the ones without a place (`clang-19: error: ...`). The caret
 * and source lines clang prints under each are left in the text, not parsed.
 *
 * @module
 */

/** How serious a diagnostic is, as clang words it (`fatal error` is `fatal`). */
export type DiagnosticSeverity = "fatal" | "error" | "warning" | "note" | "remark";

/** One message from clang. */
export interface Diagnostic {
  /** The file it is about (the source's `name` option for the source), or none. */
  readonly file?: string;
  /** 1-based line, when clang gave a place. */
  readonly line?: number;
  /** 1-based column, when clang gave one. */
  readonly column?: number;
  readonly severity: DiagnosticSeverity;
  /** The message without its `[-Wflag]` suffix. */
  readonly message: string;
  /** The warning flag that controls it (`-Wunused-variable`), when clang named one. */
  readonly flag?: string;
}

const SEVERITY: Record<string, DiagnosticSeverity> = {
  "fatal error": "fatal",
  error: "error",
  warning: "warning",
  note: "note",
  remark: "remark",
};

const SEVERITIES = "fatal error|error|warning|note|remark";
/** `file:line:column: severity: message` (the column may be missing). */
const PLACED = new RegExp(`^(.+?):(\\d+):(?:(\\d+):)? (${SEVERITIES}): (.*)$`);
/** `clang-19: error: message` or `error: message`: about the command, not a file. */
const UNPLACED = new RegExp(`^(?:[\\w.+-]*clang[\\w.+-]*: )?(${SEVERITIES}): (.*)$`);
/** `In file included from FILE:LINE:` and its continuation lines. */
const INCLUDED_FROM = /^((?:In file included from|\s+from) )(.+?)(:\d+:)$/;

/** clang's diagnostics and its stderr, with the file names `rename` maps replaced. */
export interface ParsedOutput {
  readonly diagnostics: Diagnostic[];
  readonly stderr: string;
}

/**
 * Parses clang's standard error. `rename` maps a file name as clang printed it (the
 * temporary copy of the source) to the one users know; both the diagnostics and the
 * returned text use the new name.
 *
 * @example
 * ```ts
 * parseDiagnostics("x.c:3:9: error: expected expression\n", new Map([["x.c", "<source>"]]));
 * // { diagnostics: [{ file: "<source>", line: 3, column: 9, severity: "error", ... }], ... }
 * ```
 */
export function parseDiagnostics(
  stderr: string,
  rename: ReadonlyMap<string, string> = new Map(),
): ParsedOutput {
  const diagnostics: Diagnostic[] = [];
  const lines = stderr.split("\n").map((line) => {
    const placed = PLACED.exec(line);
    if (placed) {
      const rawFile = placed[1]!;
      const file = rename.get(rawFile) ?? rawFile;
      const column = placed[3];
      diagnostics.push({
        file,
        line: Number(placed[2]),
        ...(column !== undefined && { column: Number(column) }),
        ...splitFlag(placed[4]!, placed[5]!),
      });
      return file + line.slice(rawFile.length);
    }
    const included = INCLUDED_FROM.exec(line);
    if (included) {
      const rawFile = included[2]!;
      return `${included[1]}${rename.get(rawFile) ?? rawFile}${included[3]}`;
    }
    const unplaced = UNPLACED.exec(line);
    if (unplaced) {
      diagnostics.push(splitFlag(unplaced[1]!, unplaced[2]!));
    }
    return line;
  });
  return { diagnostics, stderr: lines.join("\n") };
}

/** A diagnostic without a place, its `[-Wflag]` suffix taken off the message. */
function splitFlag(severityWord: string, text: string): Diagnostic {
  const severity = SEVERITY[severityWord] ?? "error";
  const m = / \[(-W[^\]]+)\]$/.exec(text);
  return m
    ? { severity, message: text.slice(0, m.index), flag: m[1]! }
    : { severity, message: text };
}

/**
 * A diagnostic as clang prints it: `file:line:column: severity: message [-Wflag]`.
 *
 * @example
 * ```ts
 * formatDiagnostic({ file: "a.c", line: 3, column: 9, severity: "error", message: "expected expression" });
 * // "a.c:3:9: error: expected expression"
 * ```
 */
export function formatDiagnostic(d: Diagnostic): string {
  const place = [d.file, d.line, d.column].filter((p) => p !== undefined).join(":");
  const severity = d.severity === "fatal" ? "fatal error" : d.severity;
  const flag = d.flag === undefined ? "" : ` [${d.flag}]`;
  return `${place ? `${place}: ` : ""}${severity}: ${d.message}${flag}`;
}
