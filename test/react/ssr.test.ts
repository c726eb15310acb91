// A server render (react-dom/server) of a component with `useHangtime`: `connecting`, no
// events, no reducer state but `initial`, nothing read from storage, and no poll sent.
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { useHangtime } from '../../src/react/index.js';
import { HangtimeStore } from '../../src/react/store.js';

describe('useHangtime on the server', () => {
  it('renders the initial state and sends nothing', () => {
    let fetched = 0;
    const fetch = async (): Promise<Response> => {
      fetched++;
      return new Response('{}');
    };
    // biome-ignore lint/correctness/noComponentHookFactories: a component defined per test, rendered once to a string
    function Chat() {
      const { events, status, data } = useHangtime<{ text: string }, number>('http://127.0.0.1:9/poll', {
        channels: ['chat'],
        fetch,
        initial: 7,
        reduce: (count, batch) => count + batch.length,
      });
      return h('p', null, `${status.state} ${events.length} ${data}`);
    }
    expect(renderToString(h(Chat))).toBe('<p>connecting 0 7</p>');
    expect(fetched).toBe(0);
  });

  it('hydration starts from what the server rendered, not from storage', () => {
    const storage = {
      getItem: () => JSON.stringify({ cursor: 'c.1', events: [{ channel: 'chat', position: 'p', data: { text: 'stored' } }] }),
      setItem: () => {},
    };
    const store = new HangtimeStore<{ text: string }, undefined>('http://127.0.0.1:9/poll', {
      channels: ['chat'],
      storageKey: 'k',
      storage,
    });
    expect(store.getSnapshot().events.map((event) => event.data.text)).toEqual(['stored']);
    expect(store.getServerSnapshot().events).toEqual([]);
    expect(store.getServerSnapshot().status).toEqual({ state: 'connecting' });
  });
});
