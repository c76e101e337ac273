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
  return text.length > max ? text.slice(0, max) + '…' : text;
}
