/**
 * bench/train: samples/s of `recsys train` (the whole loop: batches from Arrow, forward, backward,
 * clipping, AdamW) for BERT-tiny and BERT-mini shapes at seq 128, batch 32, next to a plain
 * Hugging Face + torch training loop on the same rows in the same run.
 *
 *   npx tsx bench/train.ts [--steps 30] [--backend tensorflow] [--models tiny,mini]
 *
 * Needs the reference Python env (bash scripts/setup-python.sh) and, for the tensorflow backend,
 * npm run setup:native. The first 5 steps of each side are warm-up and not counted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '../src/lib/rng.js';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const steps = Number(arg('steps', '30'));
const backend = arg('backend', 'tensorflow');
const models = arg('models', 'tiny,mini').split(',');
const WARM = 5;
const python = process.env.RECSYS_PYTHON ?? path.join(root, '.venv/bin/python');
const SHAPES: Record<
  string,
  { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; intermediate_size: number }
> = {
  tiny: { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512 },
  mini: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024 },
};

const dir = mkdtempSync(path.join(tmpdir(), 'recsys-bench-train-'));
const words = readFileSync(path.join(root, 'data/vocab.txt'), 'utf8')
  .split('\n')
  .filter((w) => /^[a-z]{3,}$/.test(w));
const rng = new Rng(5);
const rows = 32 * (steps + 2);
const csv = [
  'text,label',
  ...Array.from(
    { length: rows },
    (_, i) => `${Array.from({ length: 160 }, () => words[rng.int(words.length)]).join(' ')},c${i % 4}`,
  ),
];
writeFileSync(path.join(dir, 'data.csv'), `${csv.join('\n')}\n`);
const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
run(process.execPath, [
  path.join(root, 'bin/recsys.js'),
  'prepare',
  '--input',
  path.join(dir, 'data.csv'),
  '--tokenizer',
  path.join(root, 'data/vocab.txt'),
  '--max-length',
  '128',
  '--split',
  '1,0,0',
  '--out',
  path.join(dir, 'ds'),
]);

console.log(`seq 128, batch 32, ${steps} steps (first ${WARM} not counted), backend ${backend}, 2 cores`);
console.log('| model | recsys samples/s | torch samples/s | ratio |');
console.log('|---|---|---|---|');
for (const name of models) {
  const cfg = path.join(dir, `${name}.json`);
  writeFileSync(
    cfg,
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 30522,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      ...SHAPES[name],
    }),
  );
  const out = path.join(dir, `run-${name}`);
  run(process.execPath, [
    path.join(root, 'bin/recsys.js'),
    'train',
    '--data',
    path.join(dir, 'ds'),
    '--model',
    cfg,
    '--out',
    out,
    '--backend',
    backend,
    '--max-steps',
    String(steps),
    '--batch-size',
    '32',
    '--lr',
    '1e-4',
    '--no-progress',
  ]);
  const lines = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'train');
  const ours = (32 * (steps - WARM)) / (lines[steps - 1].time_s - lines[WARM - 1].time_s);
  const torch = Number(
    run(python, [
      '-c',
      `
import sys, time, json, torch, pyarrow.ipc as ipc
from transformers import BertConfig, BertForSequenceClassification, get_linear_schedule_with_warmup
torch.manual_seed(0)
cfg = json.load(open(sys.argv[1])); cfg.pop("model_type")
model = BertForSequenceClassification(BertConfig(num_labels=4, **cfg)); model.train()
t = ipc.open_file(sys.argv[2] + "/train.arrow").read_all()
ids = t.column("input_ids").to_pylist(); labels = t.column("label").to_pylist()
def decays(n):
    return n.endswith(".weight") and "LayerNorm" not in n and "embeddings" not in n
decay = [p for n, p in model.named_parameters() if decays(n)]
rest = [p for n, p in model.named_parameters() if not decays(n)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-4)
steps = int(sys.argv[3]); sched = get_linear_schedule_with_warmup(opt, 0, steps)
times = []
for s in range(steps):
    rows = range(s * 32, s * 32 + 32)
    w = max(len(ids[i]) for i in rows)
    x = torch.zeros((32, w), dtype=torch.long); m = torch.zeros_like(x)
    for j, i in enumerate(rows):
        x[j, :len(ids[i])] = torch.tensor(ids[i]); m[j, :len(ids[i])] = 1
    y = torch.tensor([labels[i] for i in rows])
    loss = model(input_ids=x, attention_mask=m, labels=y).loss
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step(); opt.zero_grad()
    times.append(time.perf_counter())
print(32 * (steps - ${WARM}) / (times[-1] - times[${WARM} - 1]))
`,
      cfg,
      path.join(dir, 'ds'),
      String(steps),
    ]).trim(),
  );
  console.log(`| bert-${name} | ${ours.toFixed(1)} | ${torch.toFixed(1)} | ${(ours / torch).toFixed(2)}× |`);
}
rmSync(dir, { recursive: true, force: true });
