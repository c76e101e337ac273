const strict = new TextDecoder('utf-8', { fatal: true });

/** Decode UTF-8, returning undefined instead of replacing invalid bytes with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

export function excerpt(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The first column whose string value holds a NUL character, or undefined. NUL is never text:
 * it means a binary or UTF-16 file, or corruption, so such a row is rejected rather than having
 * the tokenizer silently drop the byte.
 */
export function nulColumn(values: Record<string, unknown>): string | undefined {
  for (const [k, v] of Object.entries(values)) if (typeof v === 'string' && v.includes('\0')) return k;
  return undefined;
}
