"""Reference for `recsys embed`: sentence-transformers (mean, cls) and Hugging Face BertModel (pooler) vectors.

Run: .venv/bin/python scripts/st_embed_reference.py MODEL_DIR VOCAB_TXT TEXTS_JSON OUT_JSON MAX_LENGTH [--no-pooler]
Creates MODEL_DIR (a seeded random BERT with a varied init, saved with save_pretrained, plus its
BertTokenizerFast files; with --no-pooler a BertModel without pooler weights), then writes, for each
pooling and normalize setting, the vectors of the texts in TEXTS_JSON (a JSON list of strings):
{"mean": [[...]], "mean_normalized": ..., "cls": ..., "cls_normalized": ..., "pooler": ..., "pooler_normalized": ...}.
sentence-transformers has no BERT-pooler mode, so "pooler" is BertModel's pooler_output.
"""
import json
import sys
import warnings

import torch
from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

warnings.filterwarnings("ignore")
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer  # noqa: E402


def make_model(model_dir, vocab, no_pooler):
    torch.manual_seed(5)
    config = BertConfig(
        vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=128, initializer_range=0.2, num_labels=2,
    )
    model = BertModel(config, add_pooling_layer=False) if no_pooler else BertForSequenceClassification(config)
    with torch.no_grad():  # biases and LayerNorm weights away from 0/1, so a wrong op cannot hide
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(model_dir)
    BertTokenizerFast(vocab_file=vocab, do_lower_case=True, model_max_length=512).save_pretrained(model_dir)


def main(model_dir, vocab, texts_json, out_json, max_length, no_pooler):
    make_model(model_dir, vocab, no_pooler)
    texts = json.load(open(texts_json, encoding="utf-8"))
    out = {}
    for mode in ["mean", "cls"]:
        for norm in [False, True]:
            transformer = Transformer(model_dir, max_seq_length=max_length)
            modules = [transformer, Pooling(transformer.get_embedding_dimension(), pooling_mode=mode)]
            if norm:
                modules.append(Normalize())
            st = SentenceTransformer(modules=modules, device="cpu")
            vecs = st.encode(texts, batch_size=len(texts), convert_to_numpy=True)
            out[mode + ("_normalized" if norm else "")] = vecs.tolist()
    if not no_pooler:
        tok = BertTokenizerFast.from_pretrained(model_dir)
        model = BertModel.from_pretrained(model_dir).eval()
        enc = tok(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        with torch.no_grad():
            pooled = model(**enc).pooler_output
        out["pooler"] = pooled.tolist()
        out["pooler_normalized"] = torch.nn.functional.normalize(pooled, p=2, dim=1).tolist()
    json.dump(out, open(out_json, "w"))


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], a[3], int(a[4]), "--no-pooler" in a[5:])
