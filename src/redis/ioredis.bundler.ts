// How the built `hangtime/redis` loads ioredis under a bundler (package.json "imports" → `#ioredis`
// → "module", the condition esbuild, webpack, Rollup and Vite set): a static import, which the
// bundler follows into ioredis, or fails the build naming it. Node takes `ioredis.node.ts`.
export { Redis, Cluster } from 'ioredis';
