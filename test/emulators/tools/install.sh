#!/usr/bin/env bash
# Install the offline emulators the e2e suites in test/emulators run (serverless-offline with
# serverless 3, netlify-cli) into this folder, exactly as package-lock.json pins them. Skipped
# when node_modules already matches the lockfile. Kept out of the package's devDependencies:
# they weigh about 600 MB, which nobody running `npm install` in the repository should download.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.installed-lock.sha256
wanted="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  echo "emulators: up to date"
  exit 0
fi
# --ignore-scripts: none of the install scripts is needed to run the emulators offline (they
# print notices, or build optional native modules such as sharp and unix-dgram).
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$wanted" > "$stamp"
echo "emulators: installed"
