// Module resolve hook registered by fast-timers.mjs: maps the bare specifier 'openai' (and its
// subpaths) to another installed package name, e.g. the 'openai-v7' alias.
let target = 'openai';

export async function initialize(data) {
  target = data.target;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'openai' || specifier.startsWith('openai/')) {
    return nextResolve(target + specifier.slice('openai'.length), context);
  }
  return nextResolve(specifier, context);
}
