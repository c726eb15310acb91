/** @type {import('next').NextConfig} */
const config = {
  // This example sits inside the hangtime repository, whose package-lock.json would otherwise make
  // Next.js take the repository for the workspace root.
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
};

export default config;
