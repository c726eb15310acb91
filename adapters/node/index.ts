export { toNodeListener } from './handler.js';
export { serve } from './serve.js';
export type { NodeAdapterOptions, NodeServer, ServeOptions } from './types.js';
