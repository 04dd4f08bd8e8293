// Preload for the seed scripts: `node --import ./fast-timers.mjs <script>`.
//
// 1. The seed's poll loop sleeps 60 s between retrieves. Timers between 1 s and 5 min are cut to
//    FAST_TIMERS_MS (default 25 ms). Shorter timers and the SDK's 10-minute request timeout are
//    left alone, so requests are never aborted early.
// 2. SEED_OPENAI_PACKAGE=openai-v7 makes `import OpenAI from 'openai'` load the 7.x SDK installed
//    under that alias, so the same unmodified script runs against both SDK majors.
import { register } from 'node:module';

const cap = Number(process.env.FAST_TIMERS_MS ?? 25);
const originalSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = function (callback, delay, ...args) {
  const shortened = typeof delay === 'number' && delay > 1000 && delay <= 300000 ? cap : delay;
  return originalSetTimeout.call(this, callback, shortened, ...args);
};

const target = process.env.SEED_OPENAI_PACKAGE;
if (target && target !== 'openai') {
  register('./openai-alias-hooks.mjs', import.meta.url, { data: { target } });
  process.stderr.write(`[fast-timers] 'openai' resolves to '${target}'\n`);
}
