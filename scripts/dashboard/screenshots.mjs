// Drives the Aspire dashboard of a running CouponAspire AppHost with headless Chromium and takes the README's
// screenshots: the resources (three consumer replicas), the load generator started from the dashboard, one request's
// trace across Kafka, the consumer lag and the decisions by outcome. Usage: node screenshots.mjs <dashboard> <api> <admin token> <out dir>
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [dashboard, api, token, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 810 }, deviceScaleFactor: 1 });

async function open(path, ready) {
  await page.goto(dashboard + path);
  await page.getByText(ready, { exact: false }).first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500);
}

async function shot(name) {
  // The banners about this machine's development setup (no trusted certificate, an anonymous dashboard) are not the point.
  for (const dismiss of await page.getByLabel('Dismiss notification').all()) {
    await dismiss.click().catch(() => {});
  }
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${out}/${name}.png` });
  console.log(`${out}/${name}.png`);
}

async function until(condition, what, seconds = 180) {
  for (let waited = 0; waited < seconds; waited++) {
    if (await condition()) return;
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const telemetry = async path => (await fetch(dashboard + '/api/telemetry' + path)).json();
const call = (path, body, headers = {}) => fetch(api + path, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
  body: JSON.stringify(body),
});

// 1. The load generator, started from the Resources page like a user would, runs a sale to its end.
await open('/', 'consumer-');
await page.getByRole('row', { name: /loadgen/ }).getByRole('button', { name: /Start/ }).click();
await until(async () => (await page.getByRole('row', { name: /loadgen/ }).innerText()).includes('Finished'), 'the load generator to finish');
await shot('resources');

await open('/consolelogs/resource/loadgen', 'The sale held');
await shot('loadgen');

// 2. One request of its own, in a trace of its own, its client waiting for the result: the trace goes from the POST
// through the consumer's decision to its publish on coupon-decisions and the API instance that woke the client.
const policy = await (await call('/api/coupon-policies', { name: 'Dashboard tour', totalQuantity: 10 })).json();
let traceId;
await until(async () => {
  traceId = [...crypto.getRandomValues(new Uint8Array(16))].map(b => b.toString(16).padStart(2, '0')).join('');
  const spanId = [...crypto.getRandomValues(new Uint8Array(8))].map(b => b.toString(16).padStart(2, '0')).join('');
  const accepted = await (await call(`/api/coupon-policies/${policy.id}/requests`, { userId: 1 + Math.floor(Math.random() * 1e9) }, { traceparent: `00-${traceId}-${spanId}-01` })).json();
  await fetch(`${api}/api/coupon-requests/${accepted.requestId}?wait=10`, { headers: { Authorization: `Bearer ${token}` } });
  await new Promise(resolve => setTimeout(resolve, 5000));
  const trace = JSON.stringify(await telemetry(`/traces/${traceId}`));
  return ['coupon-events publish', 'coupon-events process', '"Npgsql"', 'coupon-decisions publish', 'coupon-decisions process'].every(name => trace.includes(name));
}, 'a whole trace');
await open(`/traces/detail/${traceId}`, 'coupon-events');
await shot('trace');

// 3. What the sale did to the consumers: lag per partition, decisions by outcome.
const consumer = (await telemetry('/resources')).find(r => r.name === 'consumer').displayName;
const metrics = (meter, instrument) => `/metrics/resource/${consumer}?meter=${meter}&instrument=${instrument}&duration=5`;
await open(metrics('CouponAspire.Kafka', 'messaging.kafka.consumer.lag'), 'messaging.kafka.consumer.lag');
await shot('consumer-lag');
await open(metrics('CouponAspire.Issuance', 'coupon.decisions'), 'coupon.decisions');
await shot('decisions');

// 4. Parallelism: one consumer replica stopped from its row; its partitions move to the others, which the gauge of the
// partitions each replica holds shows within seconds (one series a partition).
const replicas = (await telemetry('/resources')).filter(r => r.name === 'consumer').map(r => r.displayName).sort();
const [stopped, watched] = replicas;
await open('/', stopped);
await page.getByRole('row', { name: new RegExp(stopped) }).getByRole('button', { name: /Stop/ }).click();
const held = async () => {
  const logs = JSON.stringify(await telemetry('/logs'));
  return [...logs.matchAll(/Assigned partition\(s\) ([0-9,]+)/g)].map(m => m[1].split(',').length);
};
await until(async () => (await held()).some(count => count > 12 / replicas.length), 'a replica given the stopped one\'s partitions');
await new Promise(resolve => setTimeout(resolve, 8000)); // the gauge's next exports
await open(`/metrics/resource/${watched}?meter=CouponAspire.Kafka&instrument=messaging.kafka.consumer.assigned_partitions&duration=5&view=Table`,
  'messaging.kafka.consumer.assigned_partitions');
await shot('partitions');

await browser.close();
