import { vercel } from 'hangtime/vercel';
import { hangtime } from '../../../lib/hangtime';

// The one number Vercel and hangtime must agree on: Vercel stops the function after maxDuration
// seconds, so hangtime answers before. Next.js reads this export statically (keep it a literal);
// the adapter gets the very same constant, so the two cannot drift apart.
export const maxDuration = 60;

// Route handlers must run on every request, never from a cache.
export const dynamic = 'force-dynamic';

export const GET = vercel(hangtime, { maxDuration });
