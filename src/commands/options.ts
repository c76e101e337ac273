import type { Override } from '../config/load.js';
import { UsageError } from '../lib/errors.js';

/** Options every config-driven command takes; plain flags are just overrides of config keys. */
export interface CommonOptions {
  config?: string[];
  set?: string[];
  json?: boolean;
  verbose?: boolean;
  overwrite?: boolean;
}

/** Map commander's camelCase options to dotted config keys (relative paths are cwd-relative). */
export function flagOverrides(
  opts: Record<string, unknown>,
  table: Record<string, string>,
  cwd = process.cwd(),
): Override[] {
  const out: Override[] = [];
  for (const [flag, key] of Object.entries(table)) {
    if (opts[flag] !== undefined) out.push({ key, value: opts[flag], baseDir: cwd });
  }
  return out;
}

/** A flag the command cannot run without: its value, or a usage error naming the command and the flag. */
export function requiredFlag(value: string | undefined, command: string, flag: string): string {
  if (!value) throw new UsageError(`recsys ${command}: ${flag} is required`);
  return value;
}
