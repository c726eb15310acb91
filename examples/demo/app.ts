/**
 * The demo page's script: the real `hangtime/client` following the `chat` channel.
 *
 * Each tab keeps its transcript and its cursor in `sessionStorage` (per tab, kept across
 * reloads): after a reload it shows the stored transcript and resumes after the stored cursor,
 * so messages sent meanwhile arrive once, and nothing is shown twice.
 */
import { subscribe, type Gap, type HangtimeEvent, type Status } from '../../src/client/index.js';

interface Message {
  name: string;
  text: string;
}

/** One line of the transcript: a message with its position, or a notice (a gap). */
interface Line {
  position?: string;
  name?: string;
  text: string;
}

const ENDPOINT = '/api/poll';
const TRANSCRIPT_KEY = 'hangtime-demo:transcript';
const CURSOR_KEY = 'hangtime-demo:cursor';
const NAME_KEY = 'hangtime-demo:name';
const KEEP_LINES = 200;

const list = document.querySelector<HTMLUListElement>('#messages')!;
const status = document.querySelector<HTMLSpanElement>('#status')!;
const retry = document.querySelector<HTMLButtonElement>('#retry')!;
const form = document.querySelector<HTMLFormElement>('#send')!;
const nameInput = document.querySelector<HTMLInputElement>('#name')!;
const textInput = document.querySelector<HTMLInputElement>('#text')!;

const transcript: Line[] = JSON.parse(sessionStorage.getItem(TRANSCRIPT_KEY) ?? '[]') as Line[];
const shown = new Set(transcript.map((line) => line.position));
transcript.forEach(show);

nameInput.value = sessionStorage.getItem(NAME_KEY) ?? `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
nameInput.addEventListener('change', () => sessionStorage.setItem(NAME_KEY, nameInput.value));
sessionStorage.setItem(NAME_KEY, nameInput.value);

function show(line: Line): void {
  const item = document.createElement('li');
  if (line.position === undefined) {
    item.className = 'notice';
    item.textContent = line.text;
  } else {
    item.dataset.position = line.position;
    const name = document.createElement('b');
    name.textContent = line.name ?? '';
    item.append(name, line.text);
  }
  list.append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function add(line: Line): void {
  transcript.push(line);
  transcript.splice(0, transcript.length - KEEP_LINES);
  // Stored before `onEvents` returns, that is before the client stores the cursor: a reload
  // never finds a cursor ahead of the transcript.
  sessionStorage.setItem(TRANSCRIPT_KEY, JSON.stringify(transcript));
  show(line);
}

/** What a gap means, saying only what the server knows: never "missed" without a number. */
function describeGap(gap: Gap): string {
  if (gap.missed !== null) return `${gap.missed} message${gap.missed === 1 ? '' : 's'} missed: older than the server keeps.`;
  if (gap.reason === 'reset')
    return 'The server restarted with an empty history (its log is in memory): whether any messages were missed is unknown.';
  // An older server, which does not say why.
  return 'The server no longer has the history after the last message shown (was it restarted?): whether any messages were missed is unknown.';
}

// The status badge; while retrying, a countdown to the next attempt and a "retry now" button.
let countdown: ReturnType<typeof setInterval> | undefined;
function showStatus(next: Status): void {
  clearInterval(countdown);
  status.dataset.status = next.state;
  retry.hidden = next.state !== 'retrying';
  if (next.state !== 'retrying') {
    status.textContent = next.state;
    delete status.dataset.retryAt;
    return;
  }
  const { retryAt } = next;
  status.dataset.retryAt = String(retryAt);
  const tick = () => (status.textContent = `retrying in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s`);
  tick();
  countdown = setInterval(tick, 250);
}

const subscription = subscribe<Message>(ENDPOINT, {
  channels: ['chat'],
  // A new tab starts with the recent conversation (the last 50 messages, at once); a reload
  // resumes after its cursor, so it gets none of them twice.
  from: 'last:50',
  storageKey: CURSOR_KEY,
  storage: sessionStorage,
  onEvents(events: ReadonlyArray<HangtimeEvent<Message>>) {
    for (const { position, data } of events) {
      // The batch may come again if the tab closed before the cursor was stored: show it once.
      if (shown.has(position)) continue;
      shown.add(position);
      add({ position, name: String(data.name).slice(0, 20), text: String(data.text).slice(0, 500) });
    }
  },
  onGap(gaps) {
    for (const gap of gaps) add({ text: describeGap(gap) });
  },
  onStatus: showStatus,
  onError(error) {
    if (!error.willRetry) add({ text: `Live updates stopped: ${error.code} (${error.message})` });
  },
});
retry.addEventListener('click', () => subscription.retryNow());

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = textInput.value.trim();
  if (text === '') return;
  textInput.value = '';
  void fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'chat', data: { name: nameInput.value, text } }),
  }).then(
    (answer) => {
      if (!answer.ok) add({ text: `Not sent (${answer.status}): ${text}` });
    },
    () => add({ text: `Not sent (offline?): ${text}` }),
  );
});
