import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import { gradientConfigs } from '../vendor/tfjs-gradients.js';

/**
 * Registers tfjs-core's gradient functions with the engine, once.
 *
 * tfjs-core's Node entry registers none, so `tf.grad` fails ("gradient function not found for
 * Sum") until this runs. The configs come from `vendor/tfjs-gradients.js`, generated at install
 * time from the installed tfjs-core (scripts/vendor-tfjs-gradients.mjs). A config already present
 * (for example registered by the `@tensorflow/tfjs` union package) is left alone.
 */
export function ensureGradients(): void {
  for (const config of gradientConfigs) {
    if (getGradient(config.kernelName) === undefined) registerGradient(config);
  }
}
