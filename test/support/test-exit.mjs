// Preloaded into every test file's process by scripts/test.mjs (node --test marks those
// with NODE_TEST_CONTEXT): once the file's tests are done, its process exits within
// 10 s even if a leaked handle (a reader's fd watch left open by a failed test) would
// keep its event loop alive, and says so. Node's --test-force-exit did this before, but
// under load it ended files before their last tests ran and reported them passed (the
// JIT matrices lost 16-19 of their 588 tests in two runs side by side; none without it).
// And a file stopped by SIGTERM runs its `exit` handlers.
import { after } from "node:test";

if (process.env.NODE_TEST_CONTEXT?.startsWith("child")) {
  // The runner stops a file that outlives --test-timeout with SIGTERM, whose default
  // action skips `exit` handlers: exiting instead lets the ones that undo what a test
  // made outside the process (pinDir's bpffs directory, network namespaces) run, so a
  // timeout does not also leave pins that fail the run's leftover check.
  process.once("SIGTERM", () => {
    console.error(`${process.argv[1]}: stopped by SIGTERM (the test timeout?), cleaning up`);
    process.exit(143);
  });
  after(() => {
    setTimeout(() => {
      console.error(`${process.argv[1]}: a handle kept the process alive after its tests`);
      process.exit();
    }, 10_000).unref();
  });
}
