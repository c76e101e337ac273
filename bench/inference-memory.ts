/**
 * Peak tensor memory of one inference forward pass (eval, predict, the export parity check) with
 * and without freeing each layer's intermediates as the next begins (ForwardOptions.inference).
 *   npx tsx bench/inference-memory.ts [backend] [layers] [hidden]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { bertLogits, initParams, parseBertConfig } from '../src/model/index.js';
await initBackend((process.argv[2] ?? 'tensorflow') as 'tensorflow', { log: () => {} });
const L = Number(process.argv[3] ?? 12),
  H = Number(process.argv[4] ?? 768),
  B = 64,
  S = 128;
const config = parseBertConfig(
  {
    model_type: 'bert',
    vocab_size: 1000,
    hidden_size: H,
    num_hidden_layers: L,
    num_attention_heads: H / 64,
    intermediate_size: 4 * H,
    max_position_embeddings: 512,
    id2label: { 0: 'a', 1: 'b' },
  },
  'x',
);
const params = initParams(config, 1);
const ids = tf.randomUniformInt([B, S], 0, 1000, 1) as unknown as tf.Tensor2D;
const inputs = {
  inputIds: tf.cast(ids, 'int32') as tf.Tensor2D,
  attentionMask: tf.ones([B, S], 'int32') as tf.Tensor2D,
  tokenTypeIds: tf.zeros([B, S], 'int32') as tf.Tensor2D,
};
// Warm-up (kernel setup) on a small batch, not counted.
tf.dispose(
  bertLogits(
    params,
    config,
    {
      inputIds: inputs.inputIds.slice([0, 0], [2, S]),
      attentionMask: inputs.attentionMask.slice([0, 0], [2, S]),
      tokenTypeIds: inputs.tokenTypeIds.slice([0, 0], [2, S]),
    },
    { inference: true },
  ),
);
const weights = tf.memory().numBytes;
const peaks: number[] = [];
for (const inference of [true, false]) {
  let out: tf.Tensor | undefined;
  const t0 = performance.now();
  const prof = await tf.profile(() => {
    out = bertLogits(params, config, inputs, { inference });
    return out;
  });
  const v = await out!.data();
  console.log(
    `L${L} H${H} batch ${B}x${S} inference=${inference}: peak ` +
      `${((prof.peakBytes - weights) / 1e6).toFixed(0)} MB above inputs+weights, ` +
      `${(performance.now() - t0).toFixed(0)} ms, logit0 ${v[0].toFixed(6)}`,
  );
  peaks.push(prof.peakBytes - weights);
  out!.dispose();
}
console.log(`inference mode: ${(peaks[1] / peaks[0]).toFixed(1)}x less peak activation memory`);
