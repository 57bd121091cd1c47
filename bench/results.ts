/** Where every bench leaves its raw figures: bench/results/<bench>-<ISO time>.json and the like (gitignored; a run worth keeping is copied to docs/benchmarks/). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Benches run compiled, from dist/bench: the repository root is two levels up.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Writes `data` as pretty JSON and returns the file's path. */
export async function writeResults(bench: string, date: Date | string, data: unknown): Promise<string> {
  const iso = typeof date === 'string' ? date : date.toISOString();
  const dir = join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${bench}-${iso.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}
