export { vercel } from './handler.js';
export type { VercelHandler, VercelOptions } from './types.js';
export { ENVIRONMENT } from '../limits.js';
export type { LimitOptions } from '../limits.js';
export { PROFILES } from '../profiles.js';
export type { PlatformProfile, ProfileName } from '../profiles.js';
