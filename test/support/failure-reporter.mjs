// A node:test reporter scripts/test.mjs adds beside TAP: one JSON line per failed test
// (its file, its path of names, the first lines of the error), so the run can end with
// a summary of what failed (a CI log shows its tail) and rerun just those files.
// Suites whose only failure is a failed subtest are left out (the subtest is listed).

/** The error's message, cut to a few lines. */
function errorText(error) {
  const cause = error?.cause ?? error;
  const text = String(cause?.stack ?? cause?.message ?? cause ?? "");
  return text.split("\n").slice(0, 6).join("\n");
}

export default async function* failureReporter(source) {
  // per file, the names of the tests still open by nesting level: each failure's path
  const openByFile = new Map();
  const openIn = (file) => {
    const open = openByFile.get(file) ?? [];
    openByFile.set(file, open);
    return open;
  };
  for await (const event of source) {
    const { data } = event;
    if (event.type === "test:start") {
      const open = openIn(data.file);
      open[data.nesting] = data.name;
      open.length = data.nesting + 1;
    } else if (event.type === "test:fail") {
      if (data.details?.error?.failureType === "subtestsFailed") continue;
      const path = [...openIn(data.file).slice(0, data.nesting), data.name];
      yield `${JSON.stringify({ file: data.file ?? null, test: path.join(" > "), error: errorText(data.details?.error) })}\n`;
    }
  }
}
