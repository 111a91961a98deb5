// 500 unauthenticated requests per family against the built service; log bytes written.
import { spawn } from 'node:child_process';
const API_TOKEN = 'measure-api-token-0123456789abcdef';
const port = 30000 + Math.floor(Math.random() * 20000);
let out = '';
const child = spawn(process.execPath, ['dist/main.js'], {
  env: { PATH: process.env.PATH, NODE_ENV: 'production', OPENAI_API_KEY: 'sk-x', TWILIO_AUTH_TOKEN: 'authtoken0123456789abcdef01234567', API_TOKEN, PORT: String(port),
    OPENAI_WEBHOOK_SECRET: `whsec_${Buffer.from('measure key of the webhook').toString('base64')}` },
  stdio: ['ignore', 'pipe', 'pipe'],
});
child.stdout.on('data', (c) => (out += c)); child.stderr.on('data', (c) => (out += c));
while (!/listening on port/.test(out)) await new Promise((r) => setTimeout(r, 50));
const base = `http://127.0.0.1:${port}`;
const headers = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', accept: 'application/json, text/plain, */*', 'accept-language': 'en-US,en;q=0.9' };
const families = {
  'GET /api/calls?token=<API_TOKEN>, no Authorization': () => fetch(`${base}/api/calls?token=${API_TOKEN}`, { headers }),
  'POST /api/twiml unsigned': () => fetch(`${base}/api/twiml`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: 'CallSid=CA0123456789abcdef0123456789abcdef&From=%2B15550001111' }),
  'POST /api/openai/webhook unsigned': () => fetch(`${base}/api/openai/webhook`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(Date.now()/1000)), 'webhook-signature': 'v1,AAAA' }, body: '{}' }),
  'POST /console/login wrong token': () => fetch(`${base}/console/login`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ token: 'wrong' }) }),
};
const results = {};
for (const [name, send] of Object.entries(families)) {
  const before = Buffer.byteLength(out);
  const statuses = {};
  for (let i = 0; i < 500; i++) { const r = await send(); await r.arrayBuffer(); statuses[r.status] = (statuses[r.status] ?? 0) + 1; }
  await new Promise((r) => setTimeout(r, 300));
  results[name] = { statuses, logBytes: Buffer.byteLength(out) - before, lines: out.slice(before).split('\n').filter(Boolean).length };
}
console.log(JSON.stringify(results, null, 1));
console.log('API token occurrences in log:', out.split(API_TOKEN).length - 1);
const sample = out.split('\n').filter((l) => l.includes('/api/calls')).slice(0, 2);
console.log('sample lines:\n' + sample.join('\n'));
child.kill('SIGKILL');
