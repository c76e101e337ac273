#!/usr/bin/env node
// Entry point for `npx recsys`: sources are TypeScript, run through tsx's loader.
import { register } from 'tsx/esm/api';

process.env.TF_CPP_MIN_LOG_LEVEL ??= process.argv.includes('--verbose') ? '0' : '2';
register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
