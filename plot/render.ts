/**
 * Renders a Vega-Lite spec in Node: compiled by vega-lite, drawn to SVG by vega's headless view
 * (`toSVG`), and rasterised to PNG by resvg (a prebuilt binary per platform; text uses the
 * system's fonts, DejaVu Sans where present).
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { PlotError } from './run-data.js';

/** The chart as an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** An SVG document as PNG bytes, at `scale` device pixels per SVG pixel on a white background. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const image = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  }).render();
  return image.asPng();
}

/** The formats a chart is written in. */
export type ChartFormat = 'svg' | 'png';

/** Writes the chart to `base.svg` and/or `base.png`; returns the paths written. */
export async function writeChart(spec: TopLevelSpec, base: string, formats: readonly ChartFormat[]): Promise<string[]> {
  const svg = await renderSvg(spec);
  const written: string[] = [];
  for (const format of formats) {
    const path = `${base}.${format}`;
    await writeFile(path, format === 'svg' ? svg : svgToPng(svg));
    written.push(path);
  }
  return written;
}

/** The format a chart file's extension names (.svg or .png); anything else is refused naming the path. */
export function chartFormatOf(path: string): ChartFormat {
  const format = extname(path).toLowerCase().slice(1);
  if (format !== 'svg' && format !== 'png') {
    throw new PlotError(`${path}: a chart is written as .svg or .png, not ${format === '' ? 'a file without an extension' : `.${format}`}`);
  }
  return format;
}

/** Writes the chart to `path`, in the format its extension names (.svg or .png). */
export async function writeChartFile(spec: TopLevelSpec, path: string): Promise<void> {
  const format = chartFormatOf(path);
  const svg = await renderSvg(spec);
  await writeFile(path, format === 'svg' ? svg : svgToPng(svg));
}
