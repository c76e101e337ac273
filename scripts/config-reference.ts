// Prints the config reference table that the README embeds (test/config/reference.test.ts keeps them equal).
import { configReferenceMarkdown } from '../src/config/reference.js';

process.stdout.write(`${configReferenceMarkdown()}\n`);
