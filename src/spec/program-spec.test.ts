import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgType } from "../uapi/index.ts";
import {
  describeProgram,
  instructionCount,
  MAX_PROGRAM_INSNS,
  type ProgramSpec,
  ProgramSpecError,
  programSpecProblems,
  validateProgramSpec,
} from "./program-spec.ts";

const good: ProgramSpec = {
  name: "ret2",
  type: ProgType.SOCKET_FILTER,
  license: "GPL",
  instructions: new Uint8Array([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
};

test("a valid spec has no problems", () => {
  assert.deepEqual(programSpecProblems(good), []);
  validateProgramSpec(good);
  assert.equal(instructionCount(good), 2);
  assert.equal(describeProgram(good), 'socket_filter program "ret2"');
  assert.equal(describeProgram({ name: "", type: 9999 as ProgType }), "type 9999 program");
});

test("instruction bytes: non-empty, whole instructions, at most 1M", () => {
  const problems = (instructions: Uint8Array) => programSpecProblems({ ...good, instructions });
  assert.match(problems(new Uint8Array(0))[0] ?? "", /no instructions/);
  assert.match(problems(new Uint8Array(12))[0] ?? "", /12\) are not a multiple of 8: 4 trailing/);
  assert.match(
    problems(new Uint8Array((MAX_PROGRAM_INSNS + 1) * 8))[0] ?? "",
    /1000001 instructions exceed the kernel's limit of 1000000/,
  );
  assert.deepEqual(problems(new Uint8Array(MAX_PROGRAM_INSNS * 8)), []);
});

test("licence, type and numeric fields are checked; every problem is reported", () => {
  // An empty license is fine (an object without a license section); a non-string is not.
  assert.deepEqual(programSpecProblems({ ...good, license: "" }), []);
  const bad = {
    ...good,
    license: 7 as unknown as string,
    type: 0 as ProgType,
    flags: -1,
    attachBtfId: 1.5,
  };
  const e = (() => {
    try {
      validateProgramSpec(bad);
    } catch (err) {
      return err;
    }
  })();
  assert.ok(e instanceof ProgramSpecError);
  assert.equal(e.problems.length, 4);
  assert.match(e.message, /^invalid program spec "ret2": /);
  assert.match(e.message, /license must be a string/);
  assert.match(e.message, /program type 0 \(unspec\)/);
  assert.match(e.message, /flags -1 is not a 32-bit unsigned integer/);
  assert.match(e.message, /attachBtfId 1.5/);
});

test("BTF func/line info must be whole records", () => {
  const problems = programSpecProblems({
    ...good,
    btf: { btf: new Uint8Array(24), funcInfo: new Uint8Array(12), funcInfoRecordSize: 8 },
  });
  assert.deepEqual(problems, ["btf.funcInfo (12 bytes) is not a whole number of 8-byte records"]);
});
