/** What the studio page publishes on `window.__studio`, for the browser test (and a curious console). */
import type { LossPoint } from '../plot/specs.js';
import type { EditorCheck } from './editor.js';
import type { SampleInspection } from './inspect.js';
import type { StudioStep } from './session.js';

export interface StudioState {
  status: 'loading' | 'ready' | 'training' | 'stopped' | 'finished' | 'failed';
  backend: 'webgpu' | 'wasm' | undefined;
  /** Which backend and why, as the page says it. */
  backendReason: string;
  /** Every step trained, in order. */
  readonly steps: StudioStep[];
  /** The points handed to the loss chart. */
  readonly curvePoints: LossPoint[];
  /** The points the loss chart's view holds (read back from Vega). */
  curves?: () => LossPoint[];
  editor: EditorCheck | undefined;
  accuracy: { label: string; average: number }[] | undefined;
  /** The last sample inspected. */
  inspection?: SampleInspection;
  error: string | undefined;
  /** On WebGPU: destroys the device, as a GPU reset would (how the test simulates a lost device). */
  loseDevice?: () => void;
}

declare global {
  interface Window {
    __studio?: StudioState;
  }
}
