// The package's public entries, in one place: the build, the examples' build, the docs snippet
// test and vitest read this list, so a new subpath export is added here once.

/** Entry name (dist/<name>.js, subpath export `./<name>`, `.` for index) → its source file. */
export const ENTRIES = {
  index: 'src/index.ts',
  node: 'adapters/node/index.ts',
  redis: 'src/redis/index.ts',
  'aws-lambda': 'adapters/aws-lambda/index.ts',
  vercel: 'adapters/vercel/index.ts',
  'vercel/node': 'adapters/vercel/node.ts',
  netlify: 'adapters/netlify/index.ts',
  cloudflare: 'adapters/cloudflare/index.ts',
  client: 'src/client/index.ts',
  grip: 'src/grip/index.ts',
  react: 'src/react/index.ts',
};

/** The import specifier users write for an entry: `hangtime`, `hangtime/redis`, … */
export const specifierOf = (name) => (name === 'index' ? 'hangtime' : `hangtime/${name}`);
