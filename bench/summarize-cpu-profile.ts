/**
 * Self time per function of a V8 .cpuprofile (as written by `bench/profile-decode.ts --cpu-profile` or
 * `node --cpu-prof`), largest first.
 *   node --import tsx bench/summarize-cpu-profile.ts <file.cpuprofile> [--top 30]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const file = positionals[0];
if (file === undefined) throw new Error('usage: summarize-cpu-profile.ts <file.cpuprofile> [--top N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const names = new Map<number, string>();
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  names.set(node.id, `${functionName || '(anonymous)'} ${url === '' ? '' : `${basename(url)}:${lineNumber + 1}`}`.trim());
}
const selfMicroseconds = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  const name = names.get(id) ?? '?';
  selfMicroseconds.set(name, (selfMicroseconds.get(name) ?? 0) + delta);
  total += delta;
});
const rows = [...selfMicroseconds.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
console.log(`total ${(total / 1000).toFixed(1)} ms`);
for (const [name, time] of rows) console.log(`${(time / 1000).toFixed(1).padStart(9)} ms ${((100 * time) / total).toFixed(1).padStart(5)} %  ${name}`);
