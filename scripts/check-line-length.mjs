#!/usr/bin/env node
// Biome wraps code at 120 columns but leaves comments and long string literals alone; this check
// holds every tracked source line to the same limit, so a comment cannot grow past it unnoticed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const LIMIT = 120;
const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts', '*.mjs', '*.js'], {
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);
const long = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // listed by git but deleted in the work tree
  }
  text.split('\n').forEach((line, i) => {
    if ([...line].length > LIMIT) long.push(`${file}:${i + 1}: ${[...line].length} characters`);
  });
}
if (long.length) {
  process.stderr.write(`${long.join('\n')}\n${long.length} lines over ${LIMIT} characters\n`);
  process.exit(1);
}
