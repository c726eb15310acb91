export { netlify, netlifyV1 } from './handler.js';
export type { NetlifyHandler, NetlifyOptions, NetlifyV1Event, NetlifyV1Handler } from './types.js';
export type { LambdaHttpResult, V1RequestFields } from '../lambda/types.js';
export { ENVIRONMENT } from '../limits.js';
export type { LimitOptions } from '../limits.js';
export { PROFILES } from '../profiles.js';
export type { PlatformProfile, ProfileName } from '../profiles.js';
