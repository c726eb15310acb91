import { netlify } from 'hangtime/netlify';
import { publisher } from '../../lib/hangtime.mjs';

export default netlify(publisher);

export const config = { path: '/api/publish', method: 'POST' };
