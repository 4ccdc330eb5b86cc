import type { CheckResults } from '../backends/testing/numeric-checks.js';
import type { AdapterReport } from '../backends/webgpu/adapter.js';

/** What the page publishes on `window.__mmkdResults` once it is done (JSON). */
export type PageReport =
  | {
      readonly status: 'done';
      readonly backend: string;
      readonly adapter: AdapterReport;
      readonly results: CheckResults;
      /** Activation plus all checks, in milliseconds. */
      readonly ms: number;
      readonly userAgent: string;
    }
  | { readonly status: 'failed'; readonly error: string; readonly userAgent: string };

declare global {
  interface Window {
    __mmkdResults?: PageReport;
  }
}
