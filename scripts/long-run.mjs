// Shared by `npm run stress` and `npm run fuzz`: run one vitest file with bigger sizes taken from
// the environment (any variable already set wins over the defaults given here).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Run `file` with `defaults` for the variables not set; exits with vitest's code. */
export function runLong(file, defaults) {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(defaults)) if (env[name] === undefined || env[name] === '') env[name] = value;
  const shown = Object.keys(defaults)
    .map((name) => `${name}=${env[name]}`)
    .join(' ');
  console.log(`${shown} vitest run ${file}`);
  const child = spawn(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', file], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
