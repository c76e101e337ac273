/**
 * Tokenizer files that travel with every dataset, run and export. A bare vocab.txt gets a
 * generated tokenizer.json + tokenizer_config.json so transformers.js and Hugging Face load it.
 */
export interface BertTokenizerSettings {
  lowercase: boolean;
  stripAccents: boolean | null;
}

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export function tokenizerJsonFromVocab(tokens: string[], s: BertTokenizerSettings): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    if (!(t in vocab)) vocab[t] = i;
  });
  const id = (t: string) => vocab[t];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.filter((t) => t in vocab).map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: s.stripAccents,
      lowercase: s.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

export function tokenizerConfigFor(s: BertTokenizerSettings, modelMaxLength = 512): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: s.lowercase,
    strip_accents: s.stripAccents,
    tokenize_chinese_chars: true,
    model_max_length: modelMaxLength,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  };
}

export function vocabTxtFrom(vocab: Map<string, number>): string {
  const entries = [...vocab];
  let size = 0;
  for (const [, i] of entries) size = Math.max(size, i + 1);
  // Pre-filled, so the array stays dense whatever order the ids come in (an id gap stays an empty line).
  const tokens = new Array<string>(size).fill('');
  for (const [t, i] of entries) tokens[i] = t;
  return `${tokens.join('\n')}\n`;
}
