/**
 * Draws a `SampleInspection`: the image three times (Hungarian, grid pooling, nearest), each with
 * the chosen student vision token's cell outlined and its matched teacher patches filled; the
 * two affinity matrices as heatmaps and the answer distributions as bars (Vega-Lite).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Matrix, SampleInspection } from './inspect.js';

const SCALE = 8;

/**
 * The image with the student token `token`'s cell (blue) and its matched teacher patches (orange),
 * or, with `weights` (a soft plan's, one per teacher patch), every patch shaded by its weight.
 */
export function drawMatches(
  canvas: HTMLCanvasElement,
  inspection: SampleInspection,
  matched: readonly number[],
  token: number,
  weights?: readonly number[],
): void {
  const { side, channels, pixels } = inspection.image;
  canvas.width = side * SCALE;
  canvas.height = side * SCALE;
  const context = canvas.getContext('2d');
  if (context === null) return;
  const image = context.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(255 * (pixels[i * channels + Math.min(c, channels - 1)] as number));
    image.data[4 * i + 3] = 255;
  }
  const small = document.createElement('canvas');
  small.width = side;
  small.height = side;
  small.getContext('2d')?.putImageData(image, 0, 0);
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, side * SCALE, side * SCALE);
  const cell = (grid: number, index: number): [number, number, number] => {
    const size = (side * SCALE) / grid;
    return [(index % grid) * size, Math.floor(index / grid) * size, size];
  };
  // A hard match fills its patches; a soft plan fills each patch in proportion to its weight.
  const largest = Math.max(...(weights ?? [1]));
  const patches = weights ? weights.map((_, i) => i) : matched;
  for (const patch of patches) {
    const alpha = weights ? (0.75 * (weights[patch] as number)) / largest : 0.55;
    if (alpha < 0.01) continue;
    context.fillStyle = `rgba(245, 133, 24, ${alpha.toFixed(3)})`;
    const [x, y, size] = cell(inspection.teacherGrid, patch);
    context.fillRect(x, y, size, size);
  }
  context.strokeStyle = '#1f5fbf';
  context.lineWidth = 3;
  const [x, y, size] = cell(inspection.studentGrid, token);
  context.strokeRect(x + 1.5, y + 1.5, size - 3, size - 3);
}

/** A heatmap of an affinity matrix: vision tokens down, prompt tokens across, cos in [−1, 1]. */
export function affinitySpec(title: string, m: Matrix, promptWords: readonly string[]): TopLevelSpec {
  const values = Array.from(m.values, (value, i) => ({ vision: Math.floor(i / m.cols), prompt: i % m.cols, word: promptWords[i % m.cols] ?? '', cos: value }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    width: Math.min(360, 12 * m.cols),
    height: Math.min(360, 8 * m.rows),
    mark: 'rect',
    encoding: {
      x: { field: 'prompt', type: 'ordinal', title: 'prompt token', axis: { labels: false, ticks: false } },
      y: { field: 'vision', type: 'ordinal', title: 'vision token', axis: { labels: false, ticks: false } },
      color: { field: 'cos', type: 'quantitative', scale: { scheme: 'redblue', domain: [-1, 1], reverse: true } },
      tooltip: [{ field: 'vision' }, { field: 'word', title: 'prompt token' }, { field: 'cos', format: '.3f' }],
    },
  };
}

/** The two models' most probable first answer tokens. */
export function answersSpec(inspection: SampleInspection): TopLevelSpec {
  const values = (['teacher', 'student'] as const).flatMap((model) =>
    inspection.answers[model].top.map((t) => ({ model, token: t.token, probability: t.probability })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `First answer token (gold: ${inspection.answers.gold})`,
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', title: null, sort: ['teacher', 'student'] } },
    spec: {
      width: 160,
      height: 120,
      mark: 'bar',
      encoding: {
        y: { field: 'token', type: 'nominal', sort: '-x', title: null },
        x: { field: 'probability', type: 'quantitative', scale: { domain: [0, 1] } },
        color: { field: 'model', type: 'nominal', legend: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}
