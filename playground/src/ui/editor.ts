/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The editor: a textarea with a gutter of line numbers that marks the instruction
 * selected, the lines on the failing path and the line of an error. The caret's line is
 * reported on every move, so the verifier's state view follows it.
 * @module
 */
import { h } from "./dom.ts";

/** Marks for gutter lines (1-based). */
export interface LineMarks {
  readonly current?: number;
  readonly error?: number;
  readonly path?: ReadonlySet<number>;
}

/** The editor over `textarea` and `gutter`. */
export class Editor {
  private marks: LineMarks = {};
  private lastLine = 0;

  constructor(
    readonly textarea: HTMLTextAreaElement,
    private readonly gutter: HTMLElement,
    /** Called when the caret moves to another line. */
    private readonly onLine: (line: number) => void,
  ) {
    textarea.addEventListener("scroll", () => {
      gutter.scrollTop = textarea.scrollTop;
    });
    const moved = () => {
      const line = this.caretLine();
      if (line !== this.lastLine) {
        this.lastLine = line;
        this.onLine(line);
      }
    };
    for (const ev of ["keyup", "click", "input", "focus", "select"])
      textarea.addEventListener(ev, moved);
    // Tab indents instead of leaving the editor only with Shift+Tab or Escape then Tab,
    // so keyboard users can still move on.
    let escaped = false;
    textarea.addEventListener("keydown", (e) => {
      if (e.key === "Escape") escaped = true;
      else if (e.key === "Tab" && !e.shiftKey && !escaped && !textarea.readOnly) {
        e.preventDefault();
        textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
        textarea.dispatchEvent(new Event("input"));
      } else escaped = false;
    });
    this.render();
  }

  /** The editor's text. */
  get text(): string {
    return this.textarea.value;
  }

  /** Replaces the text (the caret goes to the start). */
  setText(text: string): void {
    this.textarea.value = text;
    this.textarea.setSelectionRange(0, 0);
    this.lastLine = 0;
    this.render();
  }

  /** The caret's line (1-based). */
  caretLine(): number {
    const t = this.textarea.value;
    let n = 1;
    for (let i = 0; i < this.textarea.selectionStart && i < t.length; i++) if (t[i] === "\n") n++;
    return n;
  }

  /** Puts the caret at the start of `line` and scrolls it into view. */
  goToLine(line: number): void {
    const lines = this.textarea.value.split("\n");
    let at = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) at += (lines[i] as string).length + 1;
    this.textarea.setSelectionRange(at, at);
    const lh = Number.parseFloat(getComputedStyle(this.textarea).lineHeight) || 20;
    const top = (line - 1) * lh;
    if (
      top < this.textarea.scrollTop ||
      top > this.textarea.scrollTop + this.textarea.clientHeight - lh
    )
      this.textarea.scrollTop = Math.max(0, top - this.textarea.clientHeight / 3);
    this.lastLine = line;
    this.onLine(line);
  }

  /** Sets the gutter's marks. */
  mark(marks: LineMarks): void {
    this.marks = marks;
    this.render();
  }

  /** Redraws the gutter (after the text or the marks change). */
  render(): void {
    const count = this.textarea.value.split("\n").length;
    const rows: HTMLElement[] = [];
    for (let n = 1; n <= count; n++) {
      const cls = [
        n === this.marks.current ? "current" : "",
        this.marks.path?.has(n) ? "on-path" : "",
        n === this.marks.error ? "error-line" : "",
      ]
        .filter(Boolean)
        .join(" ");
      rows.push(h("div", { class: cls || undefined }, String(n)));
    }
    this.gutter.replaceChildren(...rows);
    this.gutter.scrollTop = this.textarea.scrollTop;
  }
}
