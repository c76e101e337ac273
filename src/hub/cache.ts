import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** Hub settings from the environment, as huggingface_hub reads them. */
export interface HubSettings {
  endpoint: string;
  token?: string;
  offline: boolean;
  cacheDir: string;
}

const truthy = (v: string | undefined) => !!v && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

export function hubSettings(env: NodeJS.ProcessEnv = process.env, overrides: Partial<HubSettings> = {}): HubSettings {
  const hfHome = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'huggingface');
  let token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  const tokenFile = path.join(hfHome, 'token');
  if (!token && existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim() || undefined;
  return {
    endpoint: (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''),
    token,
    offline: truthy(env.HF_HUB_OFFLINE),
    cacheDir: env.HF_HUB_CACHE ?? path.join(hfHome, 'hub'),
    ...overrides,
  };
}

/** `org/name` or `org/name@revision`: what a hub model reference looks like (a path never does). */
export function parseRepoId(ref: string): { repo: string; revision: string } | undefined {
  const m = /^([\w.-]+\/[\w.-]+)(?:@([\w./-]+))?$/.exec(ref);
  if (!m || m[1].includes('..') || m[2]?.includes('..')) return undefined;
  return { repo: m[1], revision: m[2] ?? 'main' };
}

/** The huggingface_hub cache layout, so Python and recsys share downloads. */
export function repoCacheDir(cacheDir: string, repo: string): string {
  return path.join(cacheDir, `models--${repo.replace(/\//g, '--')}`);
}
