/**
 * BERT's normalizer and pre-tokenizer (Hugging Face `BertNormalizer` + `BertPreTokenizer`),
 * written for speed: ASCII text (most e-commerce text) takes a regex fast path; everything else
 * walks code points with the same Unicode rules as the Rust implementation.
 */
export interface BertNormalizeOptions {
  lowercase: boolean;
  stripAccents: boolean;
  cleanText: boolean;
  handleChineseChars: boolean;
}

const ASCII = /^[\x00-\x7f]*$/;
// ASCII control chars other than \t \n \r are dropped by clean_text (DEL included).
const ASCII_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
// After cleaning, an ASCII word is a run of letters/digits; each punctuation char stands alone.
const ASCII_PIECES = /[A-Za-z0-9]+|[!-/:-@[-`{-~]/g;

const CONTROL = /\p{C}/u;
const WHITESPACE = /\p{White_Space}/u;
const PUNCTUATION = /\p{P}/u;
const NONSPACING_MARK = /\p{Mn}/gu;

function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isAsciiPunct(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

function isWhitespaceChar(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || WHITESPACE.test(ch);
}

function isControlChar(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return CONTROL.test(ch);
}

/** Normalize then split into BERT "words" (whitespace removed, punctuation isolated). */
export function bertPreTokenize(text: string, opts: BertNormalizeOptions): string[] {
  if (opts.cleanText && ASCII.test(text)) {
    let t = opts.cleanText ? text.replace(ASCII_CONTROL, '') : text;
    if (opts.lowercase) t = t.toLowerCase();
    return t.match(ASCII_PIECES) ?? [];
  }
  return unicodePreTokenize(text, opts);
}

/** What the splitter does with each ASCII char, for the given options (same predicates as the Unicode path). */
const DROP = 0;
const SPACE = 1;
const PUNCT = 2;
const WORD = 3;
const asciiTables = new Map<boolean, Uint8Array>();
function asciiClasses(cleanText: boolean): Uint8Array {
  let table = asciiTables.get(cleanText);
  if (table) return table;
  table = new Uint8Array(128);
  for (let cp = 0; cp < 128; cp++) {
    const ch = String.fromCharCode(cp);
    if (cleanText && (cp === 0 || isControlChar(ch))) table[cp] = DROP;
    else if (isWhitespaceChar(ch)) table[cp] = SPACE;
    else if (isAsciiPunct(cp) || PUNCTUATION.test(ch)) table[cp] = PUNCT;
    else table[cp] = WORD;
  }
  asciiTables.set(cleanText, table);
  return table;
}

const NON_ASCII_RUN = /[^\x00-\x7f]+/g;

/**
 * Text with some non-ASCII: ASCII stretches go through a table, and only the runs of non-ASCII
 * chars take the full Unicode normalization (clean, pad CJK, NFD + strip accents, lower-case).
 * Normalizing run by run equals normalizing the whole text: every step is per char except NFD's
 * reordering of combining marks, which never crosses an ASCII char (ASCII chars are starters).
 */
function unicodePreTokenize(text: string, opts: BertNormalizeOptions): string[] {
  const classes = asciiClasses(opts.cleanText);
  const words: string[] = [];
  let word = '';
  const ascii = (from: number, to: number) => {
    if (from >= to) return;
    const seg = opts.lowercase ? text.slice(from, to).toLowerCase() : text.slice(from, to);
    let start = 0;
    for (let i = 0; i < seg.length; i++) {
      const c = classes[seg.charCodeAt(i)];
      if (c === WORD) continue;
      if (i > start) word += seg.slice(start, i);
      start = i + 1;
      if (c === DROP) continue;
      if (word) words.push(word);
      word = '';
      if (c === PUNCT) words.push(seg[i]);
    }
    if (seg.length > start) word += seg.slice(start);
  };
  let last = 0;
  for (const m of text.matchAll(NON_ASCII_RUN)) {
    ascii(last, m.index);
    last = m.index + m[0].length;
    for (const ch of normalizeRun(m[0], opts)) {
      const cp = ch.codePointAt(0)!;
      if (isWhitespaceChar(ch)) {
        if (word) words.push(word);
        word = '';
      } else if (isAsciiPunct(cp) || PUNCTUATION.test(ch)) {
        if (word) words.push(word);
        words.push(ch);
        word = '';
      } else {
        word += ch;
      }
    }
  }
  ascii(last, text.length);
  if (word) words.push(word);
  return words;
}

/** The Rust BertNormalizer's steps, in its order: clean, pad CJK, strip accents, lower-case. */
function normalizeRun(run: string, opts: BertNormalizeOptions): string {
  let buf = '';
  for (const ch of run) {
    const cp = ch.codePointAt(0)!;
    if (opts.cleanText) {
      if (cp === 0 || cp === 0xfffd || isControlChar(ch)) continue;
      if (isWhitespaceChar(ch)) {
        buf += ' ';
        continue;
      }
    }
    if (opts.handleChineseChars && isChineseChar(cp)) buf += ` ${ch} `;
    else buf += ch;
  }
  if (opts.stripAccents) buf = buf.normalize('NFD').replace(NONSPACING_MARK, '');
  // Char by char, as Rust's NormalizedString::lowercase: no context rules such as final sigma.
  if (opts.lowercase) buf = Array.from(buf, (c) => c.toLowerCase()).join('');
  return buf;
}
