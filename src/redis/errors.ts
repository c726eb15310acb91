// The error class is the core's (every log may be unsure of an append); hangtime/redis re-exports
// it where users of the Redis log look for it.
export { AppendUncertainError, isAppendUncertainError } from '../errors.js';
