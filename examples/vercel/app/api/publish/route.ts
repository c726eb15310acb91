import { vercel } from 'hangtime/vercel';
import { publisher } from '../../../lib/hangtime';

export const maxDuration = 10;
export const dynamic = 'force-dynamic';

export const POST = vercel(publisher, { maxDuration });
