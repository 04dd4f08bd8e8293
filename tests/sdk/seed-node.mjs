// The seed guide's Node.js steps 2–5 (shared/seed/batch-api-guide.md), in order and as written.
// The only change is glue: step 4 declares `const batchStatus` inside its loop, which step 5 then
// reads; to run the steps as one script, `batchStatus` is declared once before the loop.
// Point it at a server with OPENAI_BASE_URL and OPENAI_API_KEY; run it with
// `node --import ./fast-timers.mjs seed-node.mjs` so the guide's 60 s poll sleep is shortened.

// Step 2: Upload Batch File
import OpenAI from 'openai';
import fs from 'fs';

const openai = new OpenAI();

const batchInputFile = await openai.files.create({
  file: fs.createReadStream('batch_requests.jsonl'),
  purpose: 'batch',
});

console.log(`File ID: ${batchInputFile.id}`);

// Step 3: Create Batch Job
const batchJob = await openai.batches.create({
  input_file_id: batchInputFile.id,
  endpoint: '/v1/chat/completions',
  completion_window: '24h',
});

console.log(`Batch ID: ${batchJob.id}`);
console.log(`Status: ${batchJob.status}`);

// Step 4: Check Batch Status
let batchStatus;   // glue (see above)
// Poll for completion
while (true) {
  batchStatus = await openai.batches.retrieve(batchJob.id);
  console.log(`Status: ${batchStatus.status}`);
  
  if (batchStatus.status === 'completed') {
    console.log('Batch completed!');
    break;
  } else if (batchStatus.status === 'failed') {
    console.log('Batch failed!');
    console.log(`Errors: ${batchStatus.errors}`);
    break;
  }
  
  await new Promise(resolve => setTimeout(resolve, 60000));  // Wait 1 minute
}

// Step 5: Retrieve Results
// Get output file ID
const resultFileId = batchStatus.output_file_id;

// Download results
const resultContent = await openai.files.content(resultFileId);
const resultText = await resultContent.text();

// Parse results
const results = resultText
  .trim()
  .split('\n')
  .map(line => JSON.parse(line));

// Process results
results.forEach(result => {
  const customId = result.custom_id;
  const response = result.response.body.choices[0].message.content;
  console.log(`${customId}: ${response}`);
});
