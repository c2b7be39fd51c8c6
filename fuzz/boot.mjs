// Worker entry of the fuzz harness: workers do not inherit `--import tsx`, so the
// TypeScript loader is registered here before the TypeScript worker is imported.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.worker);
