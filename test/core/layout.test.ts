import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layout rules of issue 10 ("Redesign for the next person"): no import cycle in src/ and
// adapters/, and no source file over 300 lines, so that one poll's path crosses each file once
// and each file says one thing.

const root = join(import.meta.dirname, '..', '..');
const MAX_LINES = 300;

function sourceFiles(): string[] {
  return ['src', 'adapters']
    .flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((file) => `${dir}/${file}`))
    .filter((file) => file.endsWith('.ts'))
    .sort();
}

/** Every relative import of `file` (values, types and re-exports alike), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found = new Set<string>();
  for (const [, specifier] of text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    found.add(relative(root, resolve(root, dirname(file), specifier!.replace(/\.js$/, '.ts'))));
  }
  return [...found];
}

/** The cycles of the import graph, each as the list of files around it (one per strongly connected part). */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('source layout', () => {
  const files = sourceFiles();

  it('has no import cycle in src/ and adapters/ (type-only imports included)', () => {
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    expect(cyclesOf(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it(`has no source file over ${MAX_LINES} lines`, () => {
    const long = files
      .map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cyclesOf(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('reads type imports and re-exports as imports', () => {
    const imports = importsOf('src/index.ts');
    expect(imports).toContain('src/hangtime.ts');
    expect(imports).toContain('src/hold.ts'); // `export type { Gap } from './hold.js'`
  });
});
