// The value after `--name` on the command line, else `fallback`: the scripts' and the servers'
// options (bench/run.mjs parses its own, with unknown names refused).
export const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
