import YAML from 'yaml';
import type { CommonOptions } from './options.js';
import { configJsonSchema } from '../config/json-schema.js';
import { loadConfig } from '../config/load.js';

export function renderCommand(opts: CommonOptions): void {
  const config = loadConfig({ files: opts.config, sets: opts.set });
  process.stdout.write(opts.json ? `${JSON.stringify(config, null, 2)}\n` : YAML.stringify(config));
}

export function schemaCommand(): void {
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
}
