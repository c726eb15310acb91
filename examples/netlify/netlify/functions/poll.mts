import { netlify } from 'hangtime/netlify';
import { hangtime } from '../../lib/hangtime.mjs';

// Netlify gives functions no clock: the adapter counts the synchronous limit (60 s by default;
// `timeLimitMs` or HANGTIME_TIME_LIMIT_MS for accounts on older limits) from the invocation start.
export default netlify(hangtime);

export const config = { path: '/api/poll', method: 'GET' };
