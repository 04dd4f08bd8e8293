// Verifies webhook deliveries with the official openai package (7.x): node verify-webhooks.mjs <deliveries.json> <secret>
// deliveries.json: [{"headers": {...}, "body": "..."}]. Prints {"events": [the unwrapped events], "tampered": "<error>"}:
// every delivery must unwrap, and the first with one byte of its body changed must not.
import { readFileSync } from 'node:fs';
import OpenAI from 'openai-v7';

const [file, secret] = process.argv.slice(2);
const deliveries = JSON.parse(readFileSync(file, 'utf8'));
const client = new OpenAI({ apiKey: 'unused', webhookSecret: secret });

const events = [];
for (const { headers, body } of deliveries) {
  events.push(await client.webhooks.unwrap(body, headers, secret));
}

let tampered = null;
const first = deliveries[0];
try {
  await client.webhooks.unwrap(first.body.replace('"object":"event"', '"object":"evenT"'), first.headers, secret);
} catch (error) {
  tampered = `${error.constructor.name}: ${error.message}`;
}
console.log(JSON.stringify({ events, tampered }));
