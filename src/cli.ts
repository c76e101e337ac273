import { Command, Option } from 'commander';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function withConfigOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config file (repeatable; later files win)', collect)
    .option('--set <key=value>', 'override a config key, e.g. --set data.max_length=64 (repeatable)', collect)
    .option('--json', 'print the result as JSON on stdout')
    .option('--verbose', 'more logs, and stack traces on errors');
}

const intArg = (v: string) => {
  const n = Number(v);
  return Number.isFinite(n) && /^-?\d+$/.test(v.trim()) ? n : v; // keep bad input as-is: the schema names it
};
const numArg = (v: string) => (Number.isFinite(Number(v)) && v.trim() !== '' ? Number(v) : v);
const listArg = (v: string) => v.split(',').map((x) => numArg(x.trim()));

export function buildCli(): Command {
  const program = new Command('recsys')
    .description('Fine-tune BERT text classifiers for e-commerce search and recommendation')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  withConfigOptions(program.command('prepare').description('CSV/JSONL/Arrow → tokenized Arrow dataset + manifest'))
    .option('--input <file>', 'input file (.csv .tsv .jsonl .arrow)')
    .option('--format <fmt>', 'auto | csv | tsv | jsonl | arrow')
    .option('--text-column <name>', 'text column')
    .option('--pair-column <name>', 'second text column (sentence pairs)')
    .option('--label-column <name>', 'label column')
    .option('--id-column <name>', 'id column')
    .option('--split-column <name>', 'existing split column')
    .option('--split <fractions>', 'train,validation,test fractions, e.g. 0.8,0.1,0.1', listArg)
    .option('--stratify', 'stratify the split by label')
    .option('--group-column <name>', 'keep rows with the same key in one split')
    .option('--tokenizer <path>', 'tokenizer dir (tokenizer.json) or WordPiece vocab.txt')
    .option('--max-length <n>', 'max tokens per example', intArg)
    .option('--truncation <mode>', 'longest_first | only_second')
    .option('--out <dir>', 'dataset output dir')
    .option('--seed <n>', 'random seed', intArg)
    .option('--max-bad-rows <n>', 'rejected rows tolerated before failing', intArg)
    .option('--overwrite', 'replace a complete dataset of a different run in --out')
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(async (opts) => (await import('./commands/prepare.js')).prepareCommand(opts));

  withConfigOptions(program.command('train').description('fine-tune a pretrained BERT on a prepared dataset'))
    .option('--data <dir>', 'prepared dataset dir (data.out)')
    .option('--model <dir|config.json|org/name>', 'pretrained HF model dir, a config.json (from scratch), or a hub id')
    .option('--out <dir>', 'run directory (train.out)')
    .option('--epochs <n>', 'epochs', intArg)
    .option('--max-steps <n>', 'stop after this many optimizer steps', intArg)
    .option('--batch-size <n>', 'batch size', intArg)
    .option('--lr <x>', 'peak learning rate', numArg)
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu')
    .option('--seed <n>', 'random seed', intArg)
    .option('--resume', "continue from the run dir's last checkpoint (from step 0 if it has none yet)")
    .option('--overwrite', 'replace a finished run in --out')
    .option('--offline', 'never touch the network')
    .addOption(new Option('--dump-batches <file>', "debug: write each step's row indices as JSONL").hideHelp())
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(async (opts) => (await import('./commands/train.js')).trainCommand(opts));

  withConfigOptions(
    program.command('pretrain').description('masked-LM pretraining (domain adaptation) of BERT on unlabelled text'),
  )
    .option('--input <file>', 'unlabelled text (.csv .tsv .jsonl .arrow) (pretrain.input)')
    .option('--text-column <name>', 'text column (pretrain.text_column)')
    .option('--model <dir|config.json|org/name>', 'a config.json (from scratch), or a HF BERT dir / hub id to continue')
    .option('--tokenizer <path>', 'vocab.txt or tokenizer dir (tokenizer.path; a model dir brings its own)')
    .option('--out <dir>', 'run directory (pretrain.out)')
    .option('--max-length <n>', 'tokens per block or text (pretrain.max_length)', intArg)
    .option('--epochs <n>', 'epochs (pretrain.epochs, else train.epochs)', intArg)
    .option('--max-steps <n>', 'stop after this many optimizer steps', intArg)
    .option('--batch-size <n>', 'blocks per step', intArg)
    .option('--lr <x>', 'peak learning rate', numArg)
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu')
    .option('--seed <n>', 'random seed', intArg)
    .option('--resume', "continue from the run dir's last checkpoint (from step 0 if it has none yet)")
    .option('--overwrite', 'replace a finished run in --out')
    .option('--offline', 'never touch the network')
    .addOption(
      new Option(
        '--dump-batches <file>',
        "debug: each step's rows, and each micro-batch's masks in FILE.masks.jsonl",
      ).hideHelp(),
    )
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(async (opts) => (await import('./commands/pretrain.js')).pretrainCommand(opts));

  program
    .command('predict')
    .description('batch inference on raw text with a run dir, an export dir (ONNX) or a Hugging Face model dir')
    .option('--model <dir|org/name>', 'run dir, export dir (ONNX in onnxruntime), Hugging Face model dir, or hub id')
    .option('--offline', 'never touch the network (also HF_HUB_OFFLINE=1)')
    .option('--input <file>', 'input file (.csv .tsv .jsonl .arrow)')
    .option('--format <fmt>', 'auto | csv | tsv | jsonl | arrow')
    .option('--text-column <name>', 'text column', 'text')
    .option('--pair-column <name>', 'second text column (sentence pairs)')
    .option('--id-column <name>', 'id column carried into the output')
    .option('--output <file>', 'output file (.jsonl or .csv)')
    .option('--logits', 'include the raw logits')
    .option('--top-k <k>', 'include the k best labels with scores (predict.top_k)', intArg)
    .option('--batch-size <n>', 'rows per forward pass (predict.batch_size, default 32)', intArg)
    .option('--max-length <n>', 'max tokens per row (default: the tokenizer/model limit)', intArg)
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu (default auto)')
    .option('--compiled <mode>', 'auto | on | off: run and model dirs as one TensorFlow graph (predict.compiled)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--verbose', 'more logs, and stack traces on errors')
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(async (opts) => (await import('./commands/predict.js')).predictCommand(opts));

  withConfigOptions(
    program
      .command('embed')
      .description('sentence embeddings of raw text → DIR/embeddings.arrow + manifest (sentence-transformers pooling)'),
  )
    .option(
      '--model <dir|org/name>',
      'run dir, Hugging Face model dir, export dir (needs last_hidden_state), or hub id',
    )
    .option('--offline', 'never touch the network (also HF_HUB_OFFLINE=1)')
    .option('--input <file>', 'input file (.csv .tsv .jsonl .arrow)')
    .option('--format <fmt>', 'auto | csv | tsv | jsonl | arrow')
    .option('--text-column <name>', 'text column', 'text')
    .option('--id-column <name>', 'id column written as `id` (default: the 1-based source row as `row`)')
    .option('--out <dir>', 'output dir: embeddings.arrow, manifest.json, rejects.csv')
    .option('--pooling <mode>', "mean | cls | pooler (default: embed.pooling, else a bi-encoder run's own, else mean)")
    .option('--normalize', 'L2-normalise each vector (default: embed.normalize, true)')
    .option('--no-normalize', 'keep the raw pooled vectors')
    .option('--batch-size <n>', 'rows per forward pass (default: embed.batch_size, 32)', intArg)
    .option('--max-length <n>', "max tokens per row (default: the run's, else the tokenizer/model limit)", intArg)
    .option('--max-bad-rows <n>', 'rejected rows tolerated before failing (default: no limit)', intArg)
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu (default auto)')
    .option('--overwrite', 'replace embeddings of another model in --out')
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(async (opts) => (await import('./commands/embed.js')).embedCommand(opts));

  withConfigOptions(
    program.command('index').description('a LanceDB vector index (exact + ANN, cosine) over recsys embed output'),
  )
    .option('--vectors <dir>', 'embeddings dir (the --out of recsys embed)')
    .option('--out <dir>', 'index dir (built aside and renamed into place)')
    .option('--ann <kind>', 'auto | none | ivf_pq | hnsw (default: index.ann, auto)')
    .option('--texts <file>', 'item texts for a BM25 full-text index (search --fts / --hybrid), e.g. the embed input')
    .option('--text-column <name>', 'text column of --texts')
    .option('--text-id-column <name>', 'id column of --texts (default: the id column the vectors were embedded with)')
    .option('--overwrite', 'replace an index of other vectors in --out')
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(async (opts) => (await import('./commands/index.js')).indexCommand(opts));

  withConfigOptions(
    program
      .command('search')
      .description("nearest items of text queries (embedded with the index's model) or of items; ranking metrics"),
  )
    .option('--index <dir>', 'index dir (the --out of recsys index)')
    .option('--model <dir|org/name>', "the index's model: run dir, Hugging Face dir, export dir or hub id")
    .option('--offline', 'never touch the network (also HF_HUB_OFFLINE=1)')
    .option('--queries <file>', 'query file (.csv .tsv .jsonl .arrow)')
    .option('--format <fmt>', 'auto | csv | tsv | jsonl | arrow')
    .option('--text-column <name>', 'query text column', 'text')
    .option('--id-column <name>', 'query id column written as query_id (default: the 1-based source row as row)')
    .option(
      '--similar-to <id>',
      'neighbours of an indexed item by its stored vector, itself excluded (repeatable)',
      collect,
    )
    .option('--k <n>', 'hits per query (default: search.k, 10)', intArg)
    .option('--output <file>', 'hits.jsonl: one line per query {query_id|row|item_id, hits: [{id, score}]}')
    .option('--exact', 'scan every vector even when the index has an ANN index')
    .option('--nprobes <n>', 'ivf_pq partitions probed (default: search.nprobes, 20)', intArg)
    .option('--ef <n>', 'hnsw candidate list (default: max(100, k × refine factor))', intArg)
    .option('--refine-factor <n>', 'ANN: re-rank k × n candidates exactly (default: search.refine_factor, 10)', intArg)
    .option('--batch-size <n>', 'queries per forward pass (default: search.batch_size, 32)', intArg)
    .option('--pooling <mode>', "mean | cls | pooler (default: the index's; another is refused)")
    .option('--normalize', "L2-normalise queries (default: the index's)")
    .option('--no-normalize', 'raw pooled query vectors (refused unless the index has them)')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu (default auto)')
    .option('--qrels <file>', 'judgments (TREC or CSV/TSV/JSONL): print recall@k, nDCG@k, MRR@k and MAP')
    .option('--min <metric=value>', 'gate with --qrels: fail below this, e.g. ndcg@10=0.5 (repeatable)', collect)
    .option('--baseline <file>', 'gate with --qrels: a previous search/rank --json report; exit 1 on a drop')
    .option('--max-drop <x>', 'with --baseline: largest allowed drop below it (default 0)')
    .option('--baseline-metrics <list>', 'with --baseline: metrics compared (default ndcg@k, recall@k, mrr@k, map)')
    .option('--hybrid', 'full-text (BM25) and vector hits fused by reciprocal rank (index built with --text-column)')
    .option('--fts', 'full-text (BM25) search only (index built with --text-column)')
    .action(async (opts) => (await import('./commands/search.js')).searchCommand(opts));

  withConfigOptions(
    program
      .command('serve')
      .description('HTTP inference service for exports: micro-batching, cache, Prometheus metrics, reload, drain'),
  )
    .option('--model <[name=]dir>', 'export dir (recsys export), optionally named; repeatable', collect)
    .option('--host <addr>', 'address to bind (default: serve.host, 127.0.0.1)')
    .option('--port <n>', 'TCP port, 0 for any free one (default: serve.port, 8080)', intArg)
    .option('--quantized', 'serve onnx/model_quantized.onnx (serve.quantized)')
    .option('--threads <n>', 'onnxruntime intra-op threads per session (default: the cores but one)', intArg)
    .option('--workers <n>', 'inference worker threads per model, 0: main thread (default: serve.workers, 1)', intArg)
    .option('--max-batch-size <n>', 'most rows per forward pass (default: serve.max_batch_size, 32)', intArg)
    .option('--max-wait-ms <ms>', 'longest a row waits for a batch (default: serve.max_wait_ms, 0)', numArg)
    .option('--max-queue <n>', 'rows waiting per model before 429 (default: serve.max_queue, 1024)', intArg)
    .option('--index <dir>', 'vector index (recsys index) for /search with its embedding model')
    .option('--log-level <level>', 'JSON log level on stderr (default: serve.log_level, info)')
    .action(async (opts) => (await import('./commands/serve.js')).serveCommand(opts));

  withConfigOptions(
    program
      .command('rank')
      .description('re-rank (query, product) candidates with a pair classifier; ranking metrics with --qrels'),
  )
    .option('--model <dir|org/name>', 'pair classifier: run dir, export dir, Hugging Face dir or hub id')
    .option('--offline', 'never touch the network (also HF_HUB_OFFLINE=1)')
    .option('--candidates <file>', "one row per (query, product) pair; a query's rows adjacent")
    .option(
      '--hits <file>',
      'recsys search output (hits.jsonl) instead of --candidates, with --queries and --catalogue',
    )
    .option('--queries <file>', 'with --hits: query id (--group-column) → text (--query-column)')
    .option('--catalogue <file>', 'with --hits: product id (--id-column) → text (--text-column)')
    .option('--format <fmt>', 'auto | csv | tsv | jsonl | arrow (--candidates)')
    .option('--query-column <name>', 'query text column', 'query')
    .option('--text-column <name>', 'product text column', 'text')
    .option('--group-column <name>', 'query id column', 'query_id')
    .option('--id-column <name>', 'product id column (default: the 1-based source row)')
    .option('--output <file>', 'ranked.jsonl: one line per query {query_id, hits: [{id, score}]}, best first')
    .option('--score <kind>', 'expected_gain | label_probability (default: rank.score, expected_gain)')
    .option('--score-label <label>', 'the label of --score label_probability (default: rank.score_label, Exact)')
    .option('--top <n>', 'candidates kept per query (default: all)', intArg)
    .option('--batch-size <n>', 'pairs per forward pass (default: rank.batch_size, 64)', intArg)
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu (default auto)')
    .option('--qrels <file>', 'judgments (TREC or CSV/TSV/JSONL): print nDCG@k, recall@k, MRR@k and MAP')
    .option('--min <metric=value>', 'gate with --qrels: fail below this, e.g. ndcg@10=0.5 (repeatable)', collect)
    .option('--baseline <file>', 'gate with --qrels: a previous rank/search --json report; exit 1 on a drop')
    .option('--max-drop <x>', 'with --baseline: largest allowed drop below it (default 0)')
    .option('--baseline-metrics <list>', 'with --baseline: metrics compared (default ndcg@k, recall@k, mrr@k, map)')
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(async (opts) => (await import('./commands/rank.js')).rankCommand(opts));

  program
    .command('doctor')
    .description('backends, versions, native TensorFlow, GPUs, and a matmul speed probe per backend')
    .option('--json', 'print the report as JSON')
    .option('--verbose', 'more logs, and stack traces on errors')
    .action(async (opts) => (await import('./commands/doctor.js')).doctorCommand(opts));

  withConfigOptions(
    program
      .command('eval')
      .description(
        'evaluate a run or its ONNX export on a prepared split: sklearn-style report, ' +
          'JSON/markdown/HTML, CI quality gates',
      ),
  )
    .option('--run <dir>', 'run directory (default: train.out of the config)')
    .option(
      '--model <dir>',
      'export directory (recsys export): evaluate its onnx/model.onnx in onnxruntime-node (or an .onnx file in it)',
    )
    .option('--threads <n>', 'with --model: onnxruntime intra-op threads (default: one per core)', intArg)
    .option('--data <dir>', "prepared dataset (default: data.out of the config, else the run's config.yaml)")
    .option('--split <name>', 'train | validation | test (default: eval.split, test)')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu')
    .option('--batch-size <n>', 'rows per forward pass (default: eval.batch_size, 64)', intArg)
    .option('--top-k <list>', 'k values for top-k accuracy, e.g. 2,3 (default: 2,3,5 below the class count)')
    .option('--markdown', 'print the report as markdown (CI job summaries)')
    .option('--report <dir>', 'write DIR/index.html (self-contained) and DIR/report.json')
    .option('--predictions <file>', 'write one JSON line per row: row, label, pred, score, loss, logits')
    .option(
      '--min <metric=value>',
      'gate: fail below this, e.g. accuracy=0.9, macro_f1=0.85, recall:<label>=0.8 (repeatable)',
      collect,
    )
    .option('--max <metric=value>', 'gate: fail above this, e.g. loss=0.6 (repeatable)', collect)
    .option('--baseline <file>', 'gate: a previous eval report (JSON) to compare with')
    .option('--max-drop <x>', 'gate: largest drop below the baseline allowed (default 0)', numArg)
    .option(
      '--baseline-metrics <list>',
      'metrics compared with the baseline (default: accuracy,macro_f1,weighted_f1[,roc_auc,pr_auc] + gated ones)',
    )
    .option('--digits <n>', 'decimals in the text and markdown reports (default: eval.digits, 4)', intArg)
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(async (opts) => (await import('./commands/eval.js')).evalCommand(opts));

  withConfigOptions(
    program
      .command('export')
      .description('export a run to ONNX / TensorFlow SavedModel, each checked for parity on real rows'),
  )
    .option('--run <dir>', 'run directory (default: train.out of the config)')
    .option('--format <list>', 'onnx,savedmodel (default: export.formats, onnx)', listArg)
    .option('--out <dir>', 'export directory (default: export.out of the config)')
    .option('--opset <n>', 'ONNX opset: 17 (LayerNormalization) or 14 (default: export.opset, 17)', intArg)
    .option('--check-data <dir>', "prepared dataset for the parity check (default: the run's dataset)")
    .option('--split <name>', 'split of the parity check: train | validation | test (default: export.split, test)')
    .option('--check-rows <n>', 'rows of the parity check (default: export.check_rows, 256)', intArg)
    .option('--atol <x>', 'largest |logit difference| the parity check accepts (default: export.atol, 1e-4)', numArg)
    .option('--backend <name>', 'training runtime the export is compared with: auto | tensorflow | wasm | cpu')
    .option(
      '--quantize <mode>',
      'int8: also write onnx/model_quantized.onnx (dynamic int8 MatMul weights), with its accuracy/size/speed change',
    )
    .option('--overwrite', 'replace a complete export of a different run in --out')
    .action(async (opts) => (await import('./commands/export.js')).exportCommand(opts));

  const config = program.command('config').description('inspect the configuration');
  withConfigOptions(
    config.command('render').description('print the fully resolved config (YAML, or JSON with --json)'),
  ).action(async (opts) => (await import('./commands/config.js')).renderCommand(opts));
  config
    .command('schema')
    .description('print the JSON Schema of the config file (for editor autocompletion)')
    .action(async () => (await import('./commands/config.js')).schemaCommand());

  return program;
}
