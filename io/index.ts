/**
 * Tensor files: safetensors and .npy, read and written in plain TypeScript with strict
 * validation, so numbers can be exchanged with PyTorch and NumPy pipelines.
 */
export { TensorFileError } from './errors.js';
export {
  FLOAT_DTYPES,
  HOST_DTYPES,
  checkHostTensor,
  hostTensor,
  itemSize,
  numel,
  type HostData,
  type HostDType,
  type HostTensor,
} from './host-tensor.js';
export { MAX_HEADER_BYTES, readSafetensors, writeSafetensors, type SafetensorsContents } from './safetensors.js';
export { readNpy, writeNpy } from './npy.js';
export { readTensorFile, tensorFileFormat, writeTensorFile, type TensorFileFormat } from './tensor-file.js';
export { toFloat32, toFloat64, toInt32 } from './convert.js';
export { bfloat16BitsToNumber, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits } from './half-precision.js';
