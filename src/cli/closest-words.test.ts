import assert from "node:assert/strict";
import { test } from "node:test";
import { closestWords, editDistance } from "./closest-words.ts";

test("editDistance: insertions, deletions, substitutions and neighbour swaps count one each", () => {
  assert.equal(editDistance("show", "show"), 0);
  assert.equal(editDistance("shwo", "show"), 1); // a swap
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "map"), 3);
  assert.equal(editDistance("ca", "abc"), 3); // optimal string alignment, not Damerau
});

test("closestWords: the nearest names, ties in table order, nothing when nothing is close", () => {
  const names = ["show", "list", "help", "dump", "pin", "pop", "freeze"];
  assert.deepEqual(closestWords("shwo", names), ["show"]);
  assert.deepEqual(closestWords("SHOW", names), ["show"]); // case aside
  assert.deepEqual(closestWords("pon", names), ["pin", "pop"]);
  assert.deepEqual(closestWords("shows", names), ["show"]);
  assert.deepEqual(closestWords("showall", names), ["show"]); // starts with the name
  assert.deepEqual(closestWords("frobnicate", names), []);
  assert.deepEqual(closestWords("xy", names), []); // short words: one edit at most
  assert.deepEqual(closestWords("", names), []);
  assert.deepEqual(closestWords("s".repeat(100_000), names), []); // not compared at all
});
