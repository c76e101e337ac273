/**
 * The one change recsys makes to tfjs-node's binding before compiling it: a tensor made from a JavaScript
 * typed array gets memory of its own, allocated by TensorFlow, instead of sharing the array's.
 *
 * Why: shared memory comes with a deallocator that TensorFlow calls when it drops its last reference to the
 * tensor, on whichever thread drops it, and the binding's deallocator calls napi_delete_reference, which is
 * only valid on the JavaScript thread. Once a session call can hand tensors to TensorFlow's worker threads
 * (the compiled training step and forward pass feed every batch that way), the last reference can be
 * dropped there, and a process aborted, rarely, in a later kernel ("Check failed: IsAligned()") or at exit
 * ("free(): invalid pointer"). A copy costs one memcpy per tensor created from JavaScript, small next to
 * the ops that read it, and no N-API call is left on TensorFlow's side.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Bumped with the patch: setup-native.mjs records it, src/backend/native.ts accepts only builds that have it. */
export const BINDING_PATCH = 'own-memory-1';

const FROM = '  // Sharing V8 memory with the underlying TensorFlow tensor requires adding an';
const TO = '// Creates a TFE_TensorHandle from a JS array of Uint8Array values.';

const REPLACEMENT = `  // recsys (scripts/native/binding-patch.mjs): TensorFlow owns a copy, no JavaScript memory is
  // shared with it.
  // int64 tensors arrive as Int32Arrays of twice the length.
  const size_t byte_size =
      dtype == TF_INT64 ? num_elements * width * 2 : num_elements * width;
  TF_AutoTensor tensor(
      TF_AllocateTensor(dtype, shape, shape_length, byte_size));
  if (byte_size > 0) memcpy(TF_TensorData(tensor.tensor), array_data, byte_size);

  TF_AutoStatus tf_status;
  TFE_TensorHandle *tfe_tensor_handle =
      TFE_NewTensorHandle(tensor.tensor, tf_status.status);
  ENSURE_TF_OK_RETVAL(env, tf_status, nullptr);
  return tfe_tensor_handle;
}

`;

/**
 * Patch `<bindingDir>/tfjs_backend.cc` in place. Throws when the source is not the one the patch was
 * written against (another tfjs-node version), naming what it looked for.
 */
export function patchBinding(bindingDir) {
  const file = path.join(bindingDir, 'tfjs_backend.cc');
  const source = fs.readFileSync(file, 'utf8');
  const start = source.indexOf(FROM);
  const end = start < 0 ? -1 : source.indexOf(TO, start);
  const block = end < 0 ? '' : source.slice(start, end);
  if (start < 0 || end < 0 || !block.includes('TF_NewTensor(') || !block.includes('DeallocTensor, auto_ref'))
    throw new Error(`${file}: CreateTFE_TensorHandleFromTypedArray is not the one the memory patch expects`);
  fs.writeFileSync(file, source.slice(0, start) + REPLACEMENT + source.slice(end));
}
