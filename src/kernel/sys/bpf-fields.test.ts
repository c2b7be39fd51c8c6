import assert from "node:assert/strict";
import { test } from "node:test";
import { BpfCmd, bpfAttr } from "../../uapi/index.ts";
import { BpfCall } from "./bpf.ts";

test("BpfCall takes only its command's bpf_attr field names (checked by tsc)", () => {
  // Never called: `npm run typecheck` fails if the misspelled field compiles.
  const misspelled = () => {
    // @ts-expect-error "map_typ" is not a field of BPF_MAP_CREATE's attribute
    new BpfCall(BpfCmd.MAP_CREATE, bpfAttr.mapCreate).u32("map_typ", 1);
    // @ts-expect-error "prog_fd" belongs to other commands, not BPF_MAP_CREATE
    new BpfCall(BpfCmd.MAP_CREATE, bpfAttr.mapCreate).u32("prog_fd", 1);
  };
  assert.equal(typeof misspelled, "function");
});
