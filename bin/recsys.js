#!/usr/bin/env node
// Entry point for `npx recsys`: sources are TypeScript, run through tsx's loader.
import { register } from 'tsx/esm/api';

process.env.TF_CPP_MIN_LOG_LEVEL ??= process.argv.includes('--verbose') ? '0' : '2';
register();
const { main } = await import('../src/main.ts');
const code = await main(process.argv.slice(2));
// The command is done and has written (and renamed) everything it makes. End here rather than through
// Node's environment teardown, which runs native finalizers: tfjs-node's deletes every tensor still alive
// while TensorFlow's threads and the V8 heap are being torn down, and that has aborted a finished run
// ("free(): invalid pointer") with nothing left to do. Wait for stdout and stderr to drain first (pipes
// are asynchronous on some platforms).
const drained = (stream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
