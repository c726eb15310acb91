// The floor: a bare node:http server that holds polls in memory and answers every poll held
// on a channel when an event is published to it. The least work in-process fan-out over
// loopback HTTP can do in Node: no validation, no cursor encoding, one shared body string.
// It speaks the subset of the hangtime protocol the bench uses; cursors are sequence numbers.
import { JSON_HEADERS as HEADERS, listen, pollRoutes } from './common.mjs';

/** @type {Map<string, { seq: number, events: Array<{ seq: number, fragment: string }>, held: Set<import('node:http').ServerResponse> }>} */
const channels = new Map();
let held = 0;

const channelOf = (name) => {
  let channel = channels.get(name);
  if (channel === undefined) channels.set(name, (channel = { seq: 0, events: [], held: new Set() }));
  return channel;
};

const body = (events, seq) => `{"events":[${events.map((e) => e.fragment).join(',')}],"cursor":"${seq}","more":false}`;

function onPoll(_req, res, query) {
  const name = query.get('channels');
  const channel = channelOf(name);
  const cursor = query.get('cursor');
  const after = cursor === null ? channel.seq : Number(cursor);
  if (after < channel.seq) {
    const events = channel.events.filter((e) => e.seq > after);
    res.writeHead(200, HEADERS).end(body(events, channel.seq));
    return;
  }
  channel.held.add(res);
  held++;
  res.once('close', () => {
    if (channel.held.delete(res)) held--;
  });
}

function onPublish({ channel: name, data }, res) {
  const channel = channelOf(name);
  const seq = ++channel.seq;
  const event = { seq, fragment: `{"channel":"${name}","position":"${seq}","data":${JSON.stringify(data)}}` };
  channel.events.push(event);
  if (channel.events.length > 1000) channel.events.shift();
  res.writeHead(201, HEADERS).end(`{"channel":"${name}","position":"${seq}"}`);
  // One body for all the waiters: the answer is the same string for every one of them.
  const answer = body([event], seq);
  const waiting = channel.held;
  channel.held = new Set();
  held -= waiting.size;
  for (const waiter of waiting) waiter.writeHead(200, HEADERS).end(answer);
}

await listen(pollRoutes(onPoll, onPublish), () => ({ held }));
