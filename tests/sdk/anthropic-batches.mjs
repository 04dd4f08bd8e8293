// The Sandbox's Message Batches API driven by the official @anthropic-ai/sdk: create, retrieve, list, results,
// cancel, delete. Configured only by ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY. Prints one line per step for
// tests/BatchAspire.Sandbox.Tests/Messages/AnthropicNodeSdkTests.cs to check.
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic();
const reviews = [
  "I love this product! It's amazing!",
  'Terrible experience, would not recommend.',
  "It's okay, nothing special.",
];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitEnded(id) {
  for (let i = 0; i < 600; i++) {
    const batch = await client.messages.batches.retrieve(id);
    if (batch.processing_status === 'ended') return batch;
    await sleep(50);
  }
  throw new Error(`batch ${id} did not end`);
}

const batch = await client.messages.batches.create({
  requests: reviews.map((review, i) => ({
    custom_id: `review-${i}`,
    params: {
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      system: 'Classify sentiment as: positive, negative, or neutral',
      messages: [{ role: 'user', content: review }],
    },
  })),
});
console.log(`created ${batch.id} ${batch.type} ${batch.processing_status} processing=${batch.request_counts.processing}`);

const ended = await waitEnded(batch.id);
const c = ended.request_counts;
console.log(`retrieved ${ended.id} ${ended.processing_status} succeeded=${c.succeeded} errored=${c.errored} results_url=${ended.results_url}`);

for await (const line of await client.messages.batches.results(batch.id)) {
  const text = line.result.type === 'succeeded' ? line.result.message.content[0].text : '';
  console.log(`result ${line.custom_id} ${line.result.type} ${text} ${line.result.message?.usage.input_tokens > 0}`);
}

const toCancel = await client.messages.batches.create({
  requests: [0, 1, 2, 3].map((i) => ({
    custom_id: `slow-${i}`,
    params: { model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: `slow ${i}` }] },
  })),
});
const canceling = await client.messages.batches.cancel(toCancel.id);
console.log(`cancel ${canceling.id} ${canceling.processing_status} initiated=${canceling.cancel_initiated_at !== null}`);
const canceled = await waitEnded(toCancel.id);
console.log(`canceled ${canceled.id} canceled=${canceled.request_counts.canceled}`);
const canceledTypes = [];
for await (const line of await client.messages.batches.results(toCancel.id)) canceledTypes.push(line.result.type);
console.log(`canceled results ${canceledTypes.join(',')}`);

// limit 1: the SDK's auto-pagination follows after_id over every page.
const listed = [];
for await (const item of client.messages.batches.list({ limit: 1 })) listed.push(item.id);
console.log(`listed ${listed.join(',')}`);

const deleted = await client.messages.batches.delete(toCancel.id);
console.log(`deleted ${deleted.id} ${deleted.type}`);
try {
  await client.messages.batches.retrieve(toCancel.id);
  console.log('retrieved a deleted batch');
} catch (error) {
  console.log(`after delete ${error.constructor.name} ${error.status} ${error.error?.error?.type}`);
}
