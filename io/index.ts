/**
 * Tensor files: safetensors and .npy, read and written in plain TypeScript with strict
 * validation, so numbers can be exchanged with PyTorch and NumPy pipelines.
 */

export { toFloat32, toFloat64, toInt32 } from './convert.js';
export { TensorFileError } from './errors.js';
export { bfloat16BitsToNumber, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits } from './half-precision.js';
export {
  checkHostTensor,
  FLOAT_DTYPES,
  HOST_DTYPES,
  type HostData,
  type HostDType,
  type HostTensor,
  hostTensor,
  itemSize,
  numel,
} from './host-tensor.js';
export { readNpy, writeNpy } from './npy.js';
export { MAX_HEADER_BYTES, readSafetensors, type SafetensorsContents, writeSafetensors } from './safetensors.js';
export { readTensorFile, type TensorFileFormat, tensorFileFormat, writeTensorFile } from './tensor-file.js';
