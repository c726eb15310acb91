// How a client polls and how a publisher publishes, per wire protocol. floor, naive and the
// hangtime systems all speak the hangtime protocol (docs/protocol.md): `GET /poll?channels=…
// &cursor=…&wait=…`, `POST /poll {"channel","data"}`. Nchan speaks its own: long-poll
// subscribers carry the message id in `If-Modified-Since` / `If-None-Match`.

/** @typedef {{ channel: string, cursor?: string, lastModified?: string, etag?: string }} Subscriber */

export const protocols = {
  hangtime: {
    poll(sub, waitS) {
      const cursor = sub.cursor === undefined ? '' : `&cursor=${sub.cursor}`;
      return { path: `/poll?channels=${encodeURIComponent(sub.channel)}&wait=${waitS}${cursor}`, headers: {} };
    },
    /** @returns the event data delivered, or undefined when the answer is not a delivery. */
    answer(sub, status, _headers, body) {
      if (status !== 200) return undefined;
      const parsed = JSON.parse(body);
      sub.cursor = parsed.cursor;
      return parsed.events.map((event) => event.data);
    },
    publish(channel, data) {
      return { method: 'POST', path: '/poll', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel, data }) };
    },
  },
  nchan: {
    poll(sub) {
      const headers = {};
      if (sub.lastModified !== undefined) headers['if-modified-since'] = sub.lastModified;
      if (sub.etag !== undefined) headers['if-none-match'] = sub.etag;
      return { path: `/sub?chid=${encodeURIComponent(sub.channel)}`, headers };
    },
    answer(sub, status, headers, body) {
      // 304 / 408: the subscriber timeout ran out, an empty answer.
      if (status === 304 || status === 408) return [];
      if (status !== 200) return undefined;
      sub.lastModified = headers['last-modified'];
      sub.etag = headers.etag;
      return [JSON.parse(body)];
    },
    publish(channel, data) {
      return {
        method: 'POST',
        path: `/pub?chid=${encodeURIComponent(channel)}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(data),
      };
    },
  },
};

/** Error kind of an answer that is not a delivery: `http_503_too_many_waiters`, … */
export function answerErrorKind(status, body) {
  let code = '';
  try {
    code = JSON.parse(body)?.error?.code ?? '';
  } catch {
    // Not JSON: the status says enough.
  }
  return code ? `http_${status}_${code}` : `http_${status}`;
}
