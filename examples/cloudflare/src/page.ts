import { subscribe } from 'hangtime/client';

// hangtime/client keeps the cursor, re-polls at once, retries 5xx and network errors with
// backoff, and on a 410 (history after the cursor is gone) reports the gap and resumes from the
// cursor the 410 carries: a plain loop that retried every non-OK answer would retry that 410
// with the same cursor forever.
const list = document.querySelector<HTMLOListElement>('#events')!;
const statusText = document.querySelector<HTMLElement>('#status')!;

function show(text: string, className?: string): void {
  const item = document.createElement('li');
  item.textContent = text;
  if (className !== undefined) item.className = className;
  list.append(item);
}

subscribe('/api/poll', {
  channels: ['chat'],
  storageKey: 'chat-cursor',
  storage: sessionStorage, // one cursor per tab, kept across reloads
  onEvents: (events) => {
    for (const event of events) show(JSON.stringify(event.data));
  },
  onGap: (gaps) => {
    for (const gap of gaps) {
      // Say only what the server knows: a count when it can tell, otherwise that some may be missing.
      const what = gap.missed === null ? 'an unknown number of events may be missing' : `${gap.missed} events were missed`;
      const why = gap.reason === 'reset' ? 'the server lost its history' : 'they are no longer retained';
      show(`(${gap.channel}: ${what}; ${why})`, 'gap');
    }
  },
  onStatus: (status) => {
    statusText.textContent =
      status.state === 'retrying' ? `retrying in ${Math.ceil((status.retryAt - Date.now()) / 1000)} s` : status.state;
  },
  onError: (error) => {
    if (!error.willRetry) statusText.textContent = `stopped: ${error.code}`;
  },
});

// Publishing from the page: a POST to the same endpoint (the Worker allows `chat` when no
// PUBLISH_TOKEN is set). The message comes back to every tab, this one included, as an event.
const form = document.querySelector<HTMLFormElement>('#form')!;
const input = document.querySelector<HTMLInputElement>('#text')!;
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (text === '') return;
  input.value = '';
  void fetch('/api/poll', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ channel: 'chat', data: { text } }),
  });
});
