/**
 * The demo's one page. The script is the bundle of `app.ts`, served at `/app.js`. The empty
 * `data:` icon keeps browsers from asking for `/favicon.ico`, which the demo does not serve.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hangtime demo: chat</title>
<link rel="icon" href="data:,">
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  header { display: flex; align-items: baseline; justify-content: space-between; }
  #status { font-size: .85rem; padding: .1rem .5rem; border-radius: 1rem; background: #ddd; }
  #status[data-status="live"] { background: #c8f0c8; }
  #status[data-status="retrying"] { background: #f8dca0; }
  #status[data-status="paused"] { background: #d8e4f8; }
  #status[data-status="closed"] { background: #f4c0c0; }
  #retry { font-size: .85rem; margin-left: .3rem; padding: 0; border: 0; background: none; color: #06c; text-decoration: underline; cursor: pointer; }
  #messages { list-style: none; padding: 0; min-height: 12rem; border: 1px solid #ddd; border-radius: .5rem; }
  #messages li { padding: .3rem .7rem; border-bottom: 1px solid #f0f0f0; }
  #messages li.notice { color: #a06000; font-style: italic; }
  #messages b { margin-right: .4rem; }
  form { display: flex; gap: .5rem; }
  #name { width: 8rem; }
  #text { flex: 1; }
  small { color: #777; }
</style>
</head>
<body>
<header><h1>hangtime chat</h1><span><span id="status" data-status="connecting">connecting</span><button id="retry" type="button" hidden>· retry now</button></span></header>
<p><small>Open this page in two tabs: each sees the other's messages as they are sent.
A new tab starts with the last 50 messages. Reload a tab: it resumes from its stored cursor and misses nothing.</small></p>
<ul id="messages"></ul>
<form id="send">
  <input id="name" aria-label="name" maxlength="20">
  <input id="text" aria-label="message" placeholder="Say something" maxlength="500" autocomplete="off" required>
  <button>Send</button>
</form>
<script type="module" src="/app.js"></script>
</body>
</html>
`;
