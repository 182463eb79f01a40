#!/usr/bin/env node
// pg asks at load whether it runs on Cloudflare Workers: where `navigator` is not defined (Node 20) it builds a
// fetch Response to find out, which loads Node's fetch implementation (about 25 ms of every start). The CLI runs
// on Node: it loads pg with the answer in place, then takes it away again.
if (globalThis.navigator === undefined) {
  globalThis.navigator = { userAgent: `Node.js/${process.versions.node}` };
  try {
    await import('pg');
  } finally {
    delete globalThis.navigator;
  }
}
const { main } = await import('../dist/src/cli/main.js');

process.exitCode = await main(process.argv);
