import { pretrain } from '../train/pretrain.js';
import { runTraining, type TrainFlags } from './train.js';

const FLAGS = {
  input: 'pretrain.input',
  textColumn: 'pretrain.text_column',
  model: 'model.path',
  tokenizer: 'tokenizer.path',
  out: 'pretrain.out',
  maxLength: 'pretrain.max_length',
  epochs: 'pretrain.epochs',
  maxSteps: 'pretrain.max_steps',
  batchSize: 'pretrain.batch_size',
  lr: 'pretrain.lr',
  backend: 'backend',
  seed: 'seed',
};

/** `recsys pretrain`: flags → config → train/pretrain.ts; prints the summary. */
export async function pretrainCommand(opts: TrainFlags): Promise<void> {
  await runTraining(opts, FLAGS, 'pretrain', pretrain, (c) => c.pretrain.out);
}
