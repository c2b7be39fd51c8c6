// Preloaded into every test file's process by scripts/test.mjs: when the file's process
// ends, appends one line {file, start, end} (ms since the epoch) to the file named by
// TSBPF_TEST_TIMELINE. scripts/test.mjs uses the timeline to name the test files that
// were running when something the suite left behind (a pin in /sys/fs/bpf) was made.
import { appendFileSync } from "node:fs";

const timeline = process.env.TSBPF_TEST_TIMELINE;
const file = process.argv[1];
if (timeline && file) {
  const start = Date.now();
  process.on("exit", () => {
    appendFileSync(timeline, `${JSON.stringify({ file, start, end: Date.now() })}\n`);
  });
}
