/**
 * "Did you mean ...?": the names closest to a word that matched none, by edit distance
 * (a swap of two neighbours counts as one edit, so `shwo` is one from `show`) or
 * because the word starts with the name (`progs`). Loaded only when a word is unknown.
 */

/** Words longer than this are not compared (no name is near; the cost stays small). */
const MAX_WORD = 64;

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and
 * transpositions of adjacent characters, each one edit.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number) => d[i * cols + j] as number;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The names in `names` nearest to `word` (case aside), best first, at most three; none
 * when nothing is close. Close means at most one edit for words of up to three
 * letters, two for longer ones, or a word that starts with the name.
 */
export function closestWords(word: string, names: readonly string[]): string[] {
  if (word.length === 0 || word.length > MAX_WORD) return [];
  const w = word.toLowerCase();
  const limit = w.length <= 3 ? 1 : 2;
  const scored: { name: string; score: number }[] = [];
  for (const name of names) {
    let score = editDistance(w, name);
    if (name.length >= 2 && w.startsWith(name)) score = Math.min(score, 1);
    if (score <= limit) scored.push({ name, score });
  }
  if (scored.length === 0) return [];
  const best = Math.min(...scored.map((s) => s.score));
  return scored
    .filter((s) => s.score === best)
    .slice(0, 3)
    .map((s) => s.name);
}
