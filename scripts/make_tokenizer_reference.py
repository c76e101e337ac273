"""Reference encodings from Hugging Face `tokenizers` (Rust) for recsys's tokenizer tests.

Run: .venv/bin/python scripts/make_tokenizer_reference.py VOCAB_TXT test/fixtures/tokenizer/reference.json
Needs: tokenizers (see scripts/requirements-dev.txt). Encodes tricky single texts and pairs with
truncation through BertWordPieceTokenizer built from the same vocab.txt recsys reads.
"""
import json
import random
import sys

from tokenizers import BertWordPieceTokenizer

TEXTS = [
    "Hello, World!",
    "wireless earbuds under $50 - noise cancelling (black)",
    "Café déjà-vu naïve façade Ünïcödé ÀÉÎÕÜ",
    "東京タワー 北京 한국어 日本語のテキスト",
    "emoji 😀👍🏽 and ❤️ hearts",
    "tabs\tand\nnewlines\r\nand  multiple   spaces",
    "nul\x00byte and \x07bell and \x1funit sep and \x7fdel",
    "zero\u200bwidth\u200djoiner and nbsp\u00a0here and soft\u00adhyphen",
    "“curly quotes” ‘single’ — em dash – en dash … ellipsis",
    "İstanbul ß straße ΣΊΣΥΦΟΣ Ελληνικά العربية עברית",
    "a" * 101 + " after a very long word",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "[CLS] special [SEP] tokens [MASK] in [PAD] text [UNK]",
    "brackets [like] this and [sep] lowercase",
    "prices: 1,299.99 €, 50% off!!! #1 best-seller @home",
    "https://example.com/path?q=shoes&size=10 user@mail.com",
    "combining e\u0301 and a\u0308 and n\u0303",
    "ﬁ ligature and ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ and ① ② ③",
    "",
    "   ",
    "MixedCASE iPhone 15 Pro Max 256GB USB-C",
    "don't won't can't it's kids' toys",
    "\ufeffbom at start",
    "\ufffdreplacement char\ufffd",
]

PAIRS = [
    ("running shoes", "Nike Air Zoom Pegasus 40 Men's Road Running Shoes, Black/White, Size 10"),
    ("a b c d e f g h i j k l", "m n o p q r s t u v w x"),
    ("one two three four five six seven eight nine ten eleven twelve thirteen", "x"),
    ("x", "one two three four five six seven eight nine ten eleven twelve thirteen"),
    ("same length text here ok", "other length text here ok"),
    ("", "only the second text"),
    ("coffee maker", ""),
]


def main(vocab_path: str, out_path: str) -> None:
    rng = random.Random(7)
    words = ["the", "blender", "works", "great", "but", "it's", "LOUD", "déjà", "naïve", "!!!", "😀", "1,299", "USB-C", "東京"]
    texts = TEXTS + [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(40)]
    cases = []
    for lowercase in (True, False):
        tok = BertWordPieceTokenizer(vocab_path, lowercase=lowercase)
        for max_length in (8, 16, 17, 128):
            tok.enable_truncation(max_length, strategy="longest_first")
            for t in texts:
                e = tok.encode(t)
                cases.append({"lowercase": lowercase, "max_length": max_length, "a": t, "ids": e.ids, "type_ids": e.type_ids})
            for strategy in ("longest_first", "only_second"):
                tok.enable_truncation(max_length, strategy=strategy)
                for a, b in PAIRS + [(texts[i], texts[i + 1]) for i in range(0, len(texts) - 1, 3)]:
                    try:
                        e = tok.encode(a, b)
                        cases.append({"lowercase": lowercase, "max_length": max_length, "strategy": strategy, "a": a, "b": b, "ids": e.ids, "type_ids": e.type_ids})
                    except Exception as err:  # only_second cannot fit: recsys rejects the row
                        cases.append({"lowercase": lowercase, "max_length": max_length, "strategy": strategy, "a": a, "b": b, "error": str(err)})
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"generator": "tokenizers BertWordPieceTokenizer", "cases": cases}, f, ensure_ascii=False)
    print(f"wrote {len(cases)} cases to {out_path}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
