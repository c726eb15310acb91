import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it, vi } from 'vitest';

const MARKER = '// Runs as is (tested in test/adapters/docs.test.ts).';
const snippetFile = fileURLToPath(new URL(`./.docs-snippet-${process.pid}.ts`, import.meta.url));

afterEach(() => {
  rmSync(snippetFile, { force: true });
  vi.restoreAllMocks();
});

/** The code blocks of a doc that say they run, with the package's specifiers pointed at the sources. */
function runnableSnippets(doc: string): string[] {
  const text = readFileSync(new URL(`../../docs/${doc}`, import.meta.url), 'utf8');
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks
    .filter((code) => code.startsWith(MARKER))
    .map((code) =>
      code
        .replace(/from 'hangtime'/g, "from '../../src/index.js'")
        .replace(/from 'hangtime\/([a-z-]+)'/g, "from '../../adapters/$1/index.js'"),
    );
}

it('docs/platforms.md: the local Lambda invocation runs and prints the event', async () => {
  const [snippet] = runnableSnippets('platforms.md');
  expect(snippet).toBeDefined();
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  writeFileSync(snippetFile, snippet!);
  await import(/* @vite-ignore */ snippetFile);
  expect(log).toHaveBeenCalledWith(200, [{ channel: 'chat', position: expect.any(String), data: { text: 'hi' } }]);
});

it('docs/platforms.md: the startup error it quotes is the one thrown', async () => {
  const text = readFileSync(new URL('../../docs/platforms.md', import.meta.url), 'utf8');
  const quoted = /TypeError: ([\s\S]*?)\n```/.exec(text)![1]!.replace(/\n/g, ' ');
  const { awsLambda } = await import('../../adapters/aws-lambda/index.js');
  const { createHangtime, memoryLog } = await import('../../src/index.js');
  const hangtime = createHangtime({ log: memoryLog({ maxEventBytes: 600_000 }), maxResponseBytes: 2_000_000 });
  expect(() => awsLambda(hangtime)).toThrow(quoted);
});
