// The page of test/browser/react.test.ts: `useHangtime` in StrictMode, built by esbuild with
// React 18 or 19 (aliased at build time). No JSX, so that tsc checks it as a plain .ts file.
import { StrictMode, createElement as h, useState, version } from 'react';
import { createRoot } from 'react-dom/client';
import { useHangtime } from '../../src/react/index.js';

type Message = { text: string };

declare global {
  interface Window {
    reactVersion: string;
    renders: number;
  }
}
window.reactVersion = version;
window.renders = 0;

function Chat() {
  window.renders++;
  const { events, status, gaps, error, retryNow } = useHangtime<Message>('/api/poll', {
    channels: ['chat'],
    from: 'last:3',
    storageKey: 'react-chat',
    backoffMs: 500,
    maxBackoffMs: 8_000,
    // A new function on every render: no new loop for it.
    onError: (failure) => void failure,
  });
  return h(
    'section',
    null,
    h(
      'span',
      { id: 'status', 'data-state': status.state, 'data-retry-at': status.state === 'retrying' ? String(status.retryAt) : '' },
      status.state,
    ),
    h('span', { id: 'error' }, error?.code ?? ''),
    h('span', { id: 'gaps' }, String(gaps.length)),
    h('button', { id: 'retry', type: 'button', onClick: retryNow }, 'retry now'),
    h(
      'ul',
      { id: 'events' },
      events.map((event) => h('li', { key: event.position }, event.data.text)),
    ),
  );
}

/** A reducer instead of a list: the number of events and the longest text. */
function Stats() {
  const { data } = useHangtime<Message, { count: number; longest: string }>('/api/poll', {
    channels: ['chat'],
    from: 'last:3',
    initial: { count: 0, longest: '' },
    reduce: (state, events) =>
      events.reduce(
        (next, { data: message }) => ({
          count: next.count + 1,
          longest: message.text.length > next.longest.length ? message.text : next.longest,
        }),
        state,
      ),
  });
  return h('p', { id: 'stats' }, `${data.count} ${data.longest}`);
}

function App() {
  const [shown, setShown] = useState(true);
  return h(
    'main',
    null,
    h('button', { id: 'toggle', type: 'button', onClick: () => setShown(!shown) }, shown ? 'unmount' : 'mount'),
    shown ? h(Chat) : null,
    shown ? h(Stats) : null,
  );
}

createRoot(document.querySelector('#root')!).render(h(StrictMode, null, h(App)));
