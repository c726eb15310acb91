import { gripProxy } from 'hangtime/grip';

// Optional: with GRIP_URL set (Pushpin or Fastly Fanout in front of the API, see pushpin/routes),
// polls that come through the proxy are held by it, not by the function, and every append
// publishes to it. Without it, polls are held in the function as before. docs/grip.md.
export const grip = process.env.GRIP_URL ? gripProxy() : undefined;
