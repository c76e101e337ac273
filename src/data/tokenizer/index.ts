import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { UsageError } from '../../lib/errors.js';
import { bertPreTokenize, type BertNormalizeOptions } from './bert-normalize.js';
import { tokenizerConfigFor, tokenizerJsonFromVocab, vocabTxtFrom } from './files.js';
import { truncatedLengths, type Truncation } from './truncate.js';
import { WordPiece } from './wordpiece.js';
import { MATCH_MARKER, MATCH_MARKING_KEY, markedIds, matchKeys } from './match-marking.js';
import { readJsonFile, readJsonObject } from '../../lib/json-file.js';

export { TRUNCATIONS, type Truncation } from './truncate.js';

/** Serializable description of a tokenizer, enough for a worker thread to load the same one. */
export interface TokenizerSpec {
  path: string;
  lowercase: boolean;
  stripAccents: boolean | null;
  /** Mark the words a pair's texts share (match-marking.ts); a tokenizer saved with marking on keeps it. */
  markMatches?: boolean;
}

export interface Encoded {
  ids: number[];
  typeIds: number[];
  /** Length with special tokens, before truncation. */
  fullLength: number;
}

export interface TextTokenizer {
  readonly spec: TokenizerSpec;
  readonly kind: 'vocab.txt' | 'tokenizer.json';
  readonly vocabSize: number;
  /** sha256 over the tokenizer.json recsys writes: the same tokenizer always hashes the same. */
  readonly sha256: string;
  readonly specialIds: { cls: number; sep: number; pad: number; unk: number };
  /** Whether a pair's texts are encoded with exact-match marks (match-marking.ts). */
  readonly marksMatches: boolean;
  /** Encode one text or pair; null when `only_second` cannot make the pair fit. */
  encode(a: string, b: string | undefined, maxLength: number, truncation: Truncation): Encoded | null;
  /** The files that travel with datasets/runs/exports (file name → content). */
  files(): Record<string, string>;
}

interface TokenizerJson {
  model?: {
    type?: string;
    vocab?: Record<string, number>;
    unk_token?: string;
    continuing_subword_prefix?: string;
    max_input_chars_per_word?: number;
  };
  normalizer?: {
    type?: string;
    clean_text?: boolean;
    handle_chinese_chars?: boolean;
    strip_accents?: boolean | null;
    lowercase?: boolean;
  } | null;
  pre_tokenizer?: { type?: string } | null;
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

function readVocabTxt(file: string): string[] {
  const tokens = readFileSync(file, 'utf8').split(/\r?\n/);
  while (tokens.length && tokens[tokens.length - 1] === '') tokens.pop();
  if (tokens.length === 0) throw new UsageError(`${file}: vocabulary file is empty`);
  return tokens;
}

function resolveFiles(p: string): { json?: string; vocab?: string; config?: string } {
  if (!existsSync(p))
    throw new UsageError(`${p}: tokenizer not found (expected a directory with tokenizer.json, or a vocab.txt file)`);
  if (statSync(p).isDirectory()) {
    const json = path.join(p, 'tokenizer.json');
    const vocab = path.join(p, 'vocab.txt');
    const config = path.join(p, 'tokenizer_config.json');
    if (existsSync(json)) return { json, config: existsSync(config) ? config : undefined };
    if (existsSync(vocab)) return { vocab, config: existsSync(config) ? config : undefined };
    throw new UsageError(`${p}: no tokenizer.json or vocab.txt in this directory`);
  }
  if (p.endsWith('.json')) return { json: p };
  return { vocab: p };
}

/** Split raw text around special added tokens ([CLS], [SEP], …), which HF matches before normalizing. */
function splitAddedTokens(text: string, added: Map<string, number>, pattern: RegExp | null): (string | number)[] {
  if (!pattern || !text.includes('[')) return [text];
  const parts: (string | number)[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index! > last) parts.push(text.slice(last, m.index));
    parts.push(added.get(m[0])!);
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

class BertWordPieceTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly sha256: string;
  readonly specialIds: TextTokenizer['specialIds'];
  private readonly wordpiece: WordPiece;
  private readonly addedPattern: RegExp | null;
  private readonly added: Map<string, number>;
  private readonly json: Record<string, unknown>;
  /** The marker's id when this tokenizer marks matching words of a pair, else null. */
  private readonly marker: number | null = null;

  constructor(
    readonly spec: TokenizerSpec,
    readonly kind: 'vocab.txt' | 'tokenizer.json',
    json: TokenizerJson,
    private readonly norm: BertNormalizeOptions,
    private config: Record<string, unknown>,
    /** Token → id when the caller has it already (a vocab.txt): listing a 30k-key object is slow. */
    known: Map<string, number> | undefined,
    markMatches: boolean,
  ) {
    const vocab = known ?? new Map(Object.entries(json.model!.vocab!));
    this.vocabSize = Math.max(...vocab.values()) + 1;
    this.wordpiece = new WordPiece(vocab, {
      unkToken: json.model!.unk_token ?? '[UNK]',
      continuingSubwordPrefix: json.model!.continuing_subword_prefix ?? '##',
      maxInputCharsPerWord: json.model!.max_input_chars_per_word ?? 100,
    });
    const need = (t: string) => {
      const id = vocab.get(t);
      if (id === undefined) throw new UsageError(`${spec.path}: vocabulary has no ${t} token`);
      return id;
    };
    this.specialIds = { cls: need('[CLS]'), sep: need('[SEP]'), pad: need('[PAD]'), unk: this.wordpiece.unkId };
    this.added = new Map((json.added_tokens ?? []).filter((t) => t.special).map((t) => [t.content, t.id]));
    const escaped = [...this.added.keys()]
      .sort((x, y) => y.length - x.length)
      .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.addedPattern = escaped.length ? new RegExp(escaped.join('|'), 'g') : null;
    this.json = json as Record<string, unknown>;
    const hash = createHash('sha256').update(JSON.stringify(this.json));
    if (markMatches) {
      const marker = vocab.get(MATCH_MARKER);
      if (marker === undefined)
        throw new UsageError(`${spec.path}: tokenizer.mark_matches needs a ${MATCH_MARKER} token in the vocabulary`);
      this.marker = marker;
      this.config = { ...config, [MATCH_MARKING_KEY]: true };
      // Marked and unmarked encodings of one vocabulary are different tokenizers to every manifest.
      hash.update(`\n${MATCH_MARKING_KEY}`);
    }
    this.sha256 = hash.digest('hex');
  }

  // No closure is made per call on this path (tokenize, words, encode): the TypeScript loader wraps each
  // named one in a call that defines its name, which cost more than encoding a short query.

  /** Ids of a text; with `marks`, a marker before each word whose match key the set holds. */
  private tokenize(text: string, marks?: Set<string>): number[] {
    const ids: number[] = [];
    for (const part of splitAddedTokens(text, this.added, this.addedPattern)) {
      if (typeof part === 'number') ids.push(part);
      else if (marks) ids.push(...markedIds(part, marks, this.wordsOf, this.marker!));
      else this.words(part, ids);
    }
    return ids;
  }

  /** Word piece ids of a text without special tokens, appended to `into`. */
  private words(text: string, into: number[]): number[] {
    for (const word of bertPreTokenize(text, this.norm)) this.wordpiece.encodeWord(word, into);
    return into;
  }

  private readonly wordsOf = (text: string) => this.words(text, []);

  get marksMatches(): boolean {
    return this.marker !== null;
  }

  encode(a: string, b: string | undefined, maxLength: number, truncation: Truncation): Encoded | null {
    // A pair under marking: each text marks the words the other one has.
    const marking = b !== undefined && this.marker !== null;
    return assemble(
      this.tokenize(a, marking ? matchKeys(b) : undefined),
      b === undefined ? undefined : this.tokenize(b, marking ? matchKeys(a) : undefined),
      maxLength,
      truncation,
      this.specialIds,
    );
  }

  files(): Record<string, string> {
    const files: Record<string, string> = {
      'tokenizer.json': JSON.stringify(this.json),
      'tokenizer_config.json': JSON.stringify(this.config, null, 2),
    };
    files['vocab.txt'] = vocabTxtFrom(this.wordpiece.vocab); // a Map: walking the JSON object is slow
    return files;
  }
}

/** [CLS] A [SEP] (B [SEP]) with truncation; token type 1 for B and its [SEP]. */
export function assemble(
  a: number[],
  b: number[] | undefined,
  maxLength: number,
  truncation: Truncation,
  sp: { cls: number; sep: number },
): Encoded | null {
  const specials = b === undefined ? 2 : 3;
  const fullLength = a.length + (b?.length ?? 0) + specials;
  const keep = truncatedLengths(a.length, b?.length, Math.max(0, maxLength - specials), truncation, maxLength);
  if (!keep) return null;
  const ids = [sp.cls, ...a.slice(0, keep[0]), sp.sep];
  const typeIds = new Array<number>(ids.length).fill(0);
  if (b !== undefined) {
    const tail = [...b.slice(0, keep[1]), sp.sep];
    ids.push(...tail);
    for (let i = 0; i < tail.length; i++) typeIds.push(1);
  }
  return { ids, typeIds, fullLength };
}

/** Any other tokenizer.json: the transformers.js tokenizer, with recsys's truncation and template. */
class GenericTokenizer implements TextTokenizer {
  readonly kind = 'tokenizer.json' as const;
  readonly marksMatches = false;
  readonly vocabSize: number;
  readonly sha256: string;
  readonly specialIds: TextTokenizer['specialIds'];
  private readonly hf: HfTokenizer;

  constructor(
    readonly spec: TokenizerSpec,
    private readonly raw: string,
    private readonly config: Record<string, unknown>,
  ) {
    const json = JSON.parse(raw);
    this.hf = new HfTokenizer(json, config);
    const vocab: Record<string, number> = json.model?.vocab ?? {};
    const ids = Array.isArray(vocab) ? vocab.map((_: unknown, i: number) => i) : Object.values(vocab);
    this.vocabSize = Math.max(...ids, ...(json.added_tokens ?? []).map((t: { id: number }) => t.id)) + 1;
    const lookup = (...names: string[]) => {
      for (const n of names) {
        const t = (json.added_tokens ?? []).find((x: { content: string }) => x.content === n);
        if (t) return t.id as number;
        if (!Array.isArray(vocab) && vocab[n] !== undefined) return vocab[n];
      }
      throw new UsageError(`${spec.path}: tokenizer has none of ${names.join(', ')}`);
    };
    this.specialIds = {
      cls: lookup('[CLS]', '<s>'),
      sep: lookup('[SEP]', '</s>'),
      pad: lookup('[PAD]', '<pad>'),
      unk: lookup('[UNK]', '<unk>'),
    };
    this.sha256 = createHash('sha256').update(raw).digest('hex');
  }

  encode(a: string, b: string | undefined, maxLength: number, truncation: Truncation): Encoded | null {
    const enc = (t: string) => this.hf.encode(t, { add_special_tokens: false }).ids;
    return assemble(enc(a), b === undefined ? undefined : enc(b), maxLength, truncation, this.specialIds);
  }

  files(): Record<string, string> {
    return { 'tokenizer.json': this.raw, 'tokenizer_config.json': JSON.stringify(this.config, null, 2) };
  }
}

export function loadTokenizer(spec: TokenizerSpec): TextTokenizer {
  const found = resolveFiles(spec.path);
  const config = found.config ? readJsonFile(found.config, UsageError) : undefined;
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) {
    throw new UsageError(`${found.config}: not a tokenizer_config.json (expected a JSON object)`);
  }
  const file = (found.vocab ?? found.json)!;
  try {
    return buildTokenizer(spec, found, config as Record<string, unknown> | undefined);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // Library errors ("Tokenizer must contain a decoder", a vocab without [UNK], …): name the file.
    throw new UsageError(`${file}: not a usable tokenizer (${(err as Error).message.split('\n')[0]})`);
  }
}

function buildTokenizer(
  spec: TokenizerSpec,
  found: { json?: string; vocab?: string },
  config: Record<string, unknown> | undefined,
): TextTokenizer {
  const marks = spec.markMatches === true || config?.[MATCH_MARKING_KEY] === true;
  if (found.vocab) {
    const stripAccents = spec.stripAccents;
    const settings = { lowercase: spec.lowercase, stripAccents };
    const tokens = readVocabTxt(found.vocab);
    const json = tokenizerJsonFromVocab(tokens, settings) as TokenizerJson;
    const norm = {
      lowercase: spec.lowercase,
      stripAccents: stripAccents ?? spec.lowercase,
      cleanText: true,
      handleChineseChars: true,
    };
    const vocab = new Map<string, number>();
    tokens.forEach((t, i) => {
      // As tokenizerJsonFromVocab's object: the first line of a repeated token wins, and names an
      // object inherits ("constructor", …) are left out there, so here too (the same tokenizer either way).
      if (!vocab.has(t) && !(t in Object.prototype)) vocab.set(t, i);
    });
    const tokConfig = config ?? tokenizerConfigFor(settings);
    return new BertWordPieceTokenizer(spec, 'vocab.txt', json, norm, tokConfig, vocab, marks);
  }
  const raw = readFileSync(found.json!, 'utf8');
  let json: TokenizerJson;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`${found.json}: not valid JSON (${(err as Error).message})`);
  }
  if (
    typeof json !== 'object' ||
    json === null ||
    Array.isArray(json) ||
    typeof json.model !== 'object' ||
    json.model === null
  ) {
    throw new UsageError(`${found.json}: not a tokenizer.json (expected a JSON object with a "model")`);
  }
  const n = json.normalizer;
  if (
    json.model?.type === 'WordPiece' &&
    json.model.vocab &&
    n?.type === 'BertNormalizer' &&
    json.pre_tokenizer?.type === 'BertPreTokenizer'
  ) {
    const lowercase = n.lowercase ?? true;
    const norm = {
      lowercase,
      stripAccents: n.strip_accents ?? lowercase,
      cleanText: n.clean_text ?? true,
      handleChineseChars: n.handle_chinese_chars ?? true,
    };
    return new BertWordPieceTokenizer(
      spec,
      'tokenizer.json',
      json,
      norm,
      config ?? tokenizerConfigFor({ lowercase, stripAccents: n.strip_accents ?? null }),
      undefined,
      marks,
    );
  }
  if (marks) {
    // Marking tokenizes a text in pieces cut at word boundaries, which only BERT's pre-tokenizer splits at too.
    throw new UsageError(
      `${found.json}: tokenizer.mark_matches needs a BERT WordPiece tokenizer (BertNormalizer, BertPreTokenizer)`,
    );
  }
  return new GenericTokenizer(spec, raw, config ?? {});
}

/** Lower-casing and length limits a model dir's tokenizer_config.json declares (HF BertTokenizer keys). */
export function tokenizerSettingsOf(dir: string): {
  lowercase: boolean;
  stripAccents: boolean | null;
  modelMaxLength?: number;
} {
  const file = path.join(dir, 'tokenizer_config.json');
  if (!existsSync(file)) return { lowercase: true, stripAccents: null };
  const c = readJsonObject(file, UsageError);
  const max = c.model_max_length;
  return {
    lowercase: typeof c.do_lower_case === 'boolean' ? c.do_lower_case : true,
    stripAccents: typeof c.strip_accents === 'boolean' ? c.strip_accents : null,
    modelMaxLength: typeof max === 'number' && max < 1e6 ? max : undefined,
  };
}

/**
 * The tokenizer stored in a model/run/export dir, with the settings its tokenizer_config.json gives;
 * `markMatches` turns exact-match marking on where the dir's tokenizer does not have it already.
 */
export function loadModelDirTokenizer(dir: string, markMatches = false): TextTokenizer {
  const s = tokenizerSettingsOf(dir);
  return loadTokenizer({ path: dir, lowercase: s.lowercase, stripAccents: s.stripAccents, markMatches });
}
