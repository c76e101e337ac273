// The TensorFlow proto subset lives in lib/ so the compiled training step (train/) can write graphs too.
export * from '../../lib/tf-proto.js';
