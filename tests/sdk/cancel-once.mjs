// G62: cancelling a finished batch is a deliberate 409 with `x-should-retry: false`; the SDK must
// send it once (its default is to retry 409 twice). Usage: node cancel-once.mjs <batch id>
import OpenAI from 'openai';

const openai = new OpenAI();
try {
  await openai.batches.cancel(process.argv[2]);
  console.log('unexpected success');
  process.exit(1);
} catch (error) {
  console.log(`${error.constructor.name} ${error.status}`);
}
