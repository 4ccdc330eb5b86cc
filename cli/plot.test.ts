/**
 * `mmkd plot` and `mmkd compare --plot` on run folders made by `mmkd run --quick`, as a user
 * makes them: the charts exist, the SVG is well-formed XML naming every plotted series, the PNG
 * has its signature, a sensible size and ink on it, and bad folders are refused naming the path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCleanFailure, runCli } from './testing/run-cli.js';
import { scratchFolder } from './testing/scratch.js';

const scratch = scratchFolder('mmkd-plot-');
const llava = join(scratch.dir, 'llava-kd');
const minillm = join(scratch.dir, 'minillm');

/** The problems of an XML document's tag structure (empty when well-formed): unbalanced or crossed tags, text outside the root. */
function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const body = xml.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  let roots = 0;
  for (const match of body.matchAll(/<(\/?)([A-Za-z_][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (closing) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? '(nothing)'}> at ${match.index}`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name as string);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  if (/<(?![A-Za-z_/])/.test(body)) problems.push("a '<' that starts no tag");
  return problems;
}

/** The texts of an SVG's <text> elements (legend entries, axis and facet labels, titles). */
const svgTexts = (svg: string): string[] => [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] as string);

/** Checks a PNG file: signature, IHDR size within bounds, and a share of non-white pixels. */
function checkPng(path: string, minSize: { width: number; height: number }): void {
  const bytes = readFileSync(path);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const image = PNG.sync.read(bytes);
  expect(image.width).toBeGreaterThanOrEqual(minSize.width);
  expect(image.height).toBeGreaterThanOrEqual(minSize.height);
  expect(image.width).toBeLessThan(8000);
  expect(image.height).toBeLessThan(8000);
  let ink = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    if ((image.data[i] as number) < 200 || (image.data[i + 1] as number) < 200 || (image.data[i + 2] as number) < 200) ink++;
  }
  const share = ink / (image.width * image.height);
  expect(share, `share of non-white pixels in ${path}`).toBeGreaterThan(0.01);
  expect(share).toBeLessThan(0.6);
}

describe('mmkd plot', () => {
  beforeAll(async () => {
    const runs = await Promise.all([
      runCli(['run', 'llava-kd', '--quick', '--backend', 'wasm', '--no-cache', '--out', llava], { timeoutMs: 240_000 }),
      runCli(['run', 'minillm', '--quick', '--backend', 'wasm', '--no-cache', '--out', minillm], { timeoutMs: 240_000 }),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
  }, 300_000);

  it('writes loss curves per run and one accuracy chart, as SVG and PNG', async () => {
    const out = join(scratch.dir, 'plots');
    const result = await runCli(['plot', llava, minillm, '--out', out], { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const names = ['llava-kd-loss', 'minillm-loss', 'accuracy'].flatMap((n) => [`${n}.svg`, `${n}.png`]);
    expect(result.stdout.trim().split('\n').sort()).toEqual(names.map((n) => join(out, n)).sort());
    for (const name of names) expect(existsSync(join(out, name)), name).toBe(true);

    // Every term of every stage the run trained (from its metrics.jsonl), the stages and the total are named in the SVG.
    const records = readFileSync(join(llava, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; stage: string; terms?: Record<string, number> });
    const stages = [...new Set(records.filter((r) => r.type === 'step').map((r) => r.stage))];
    const terms = [...new Set(records.flatMap((r) => Object.keys(r.terms ?? {})))];
    expect(stages.length).toBeGreaterThan(1);
    expect(terms.length).toBeGreaterThan(2);
    const svg = readFileSync(join(out, 'llava-kd-loss.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(xmlProblems(svg)).toEqual([]);
    const texts = svgTexts(svg);
    for (const name of [...stages, ...terms, 'total']) expect(texts, `series or panel '${name}'`).toContain(name);
    // One drawn line per term and stage, and per stage the total where it has several terms (vega draws each series as a line-mark group).
    const series = stages.reduce((n, stage) => {
      const count = new Set(records.filter((r) => r.stage === stage).flatMap((r) => Object.keys(r.terms ?? {}))).size;
      return n + count + (count > 1 ? 1 : 0);
    }, 0);
    expect(svg.match(/<g class="mark-line role-mark[^"]*"/g)?.length).toBe(series);

    const accuracy = readFileSync(join(out, 'accuracy.svg'), 'utf8');
    expect(xmlProblems(accuracy)).toEqual([]);
    const kinds = Object.keys((JSON.parse(readFileSync(join(llava, 'result.json'), 'utf8')) as { report: { perKind: object } }).report.perKind);
    expect(kinds.length).toBeGreaterThan(1);
    for (const name of [...kinds, 'average', 'llava-kd', 'minillm']) expect(svgTexts(accuracy)).toContain(name);

    checkPng(join(out, 'llava-kd-loss.png'), { width: 600, height: 600 });
    checkPng(join(out, 'minillm-loss.png'), { width: 600, height: 600 });
    checkPng(join(out, 'accuracy.png'), { width: 400, height: 300 });
  });

  it('--format svg writes SVG only; an unfinished run gets curves and a note, not a bar', async () => {
    const unfinished = join(scratch.dir, 'unfinished');
    await mkdir(unfinished);
    await copyFile(join(minillm, 'metrics.jsonl'), join(unfinished, 'metrics.jsonl'));
    const out = join(scratch.dir, 'plots-svg');
    const result = await runCli(['plot', unfinished, '--out', out, '--format', 'svg', '--log']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(join(out, 'unfinished-loss.svg'));
    expect(result.stderr).toContain(`${unfinished} has no result.json (not finished): left out of the accuracy chart`);
    expect(existsSync(join(out, 'unfinished-loss.png'))).toBe(false);
    expect(existsSync(join(out, 'accuracy.svg'))).toBe(false);
  });

  it('refuses a folder without metrics, an empty metrics file, a missing folder and a garbled line, naming the path', async () => {
    const out = join(scratch.dir, 'never');
    const bare = join(scratch.dir, 'bare');
    await mkdir(bare);
    expectCleanFailure(await runCli(['plot', bare, '--out', out]), `${join(bare, 'metrics.jsonl')} does not exist`);

    const empty = join(scratch.dir, 'empty');
    await mkdir(empty);
    await writeFile(join(empty, 'metrics.jsonl'), '\n');
    expectCleanFailure(await runCli(['plot', empty, '--out', out]), `${join(empty, 'metrics.jsonl')} is empty`);

    expectCleanFailure(await runCli(['plot', join(scratch.dir, 'nowhere'), '--out', out]), `${join(scratch.dir, 'nowhere')} does not exist`);

    const garbled = join(scratch.dir, 'garbled');
    await mkdir(garbled);
    const lines = readFileSync(join(minillm, 'metrics.jsonl'), 'utf8').split('\n');
    lines.splice(2, 0, '{"type":"step","stage":');
    await writeFile(join(garbled, 'metrics.jsonl'), lines.join('\n'));
    expectCleanFailure(await runCli(['plot', garbled, '--out', out]), `${join(garbled, 'metrics.jsonl')}:3 is not a JSON line`);

    // A good run beside a bad one: nothing is written.
    expectCleanFailure(await runCli(['plot', minillm, bare, '--out', out]), 'metrics.jsonl does not exist');
    expect(existsSync(out)).toBe(false);

    const badResult = join(scratch.dir, 'bad-result');
    await mkdir(badResult);
    await copyFile(join(minillm, 'metrics.jsonl'), join(badResult, 'metrics.jsonl'));
    await writeFile(join(badResult, 'result.json'), '{"report": {}}');
    expectCleanFailure(await runCli(['plot', badResult, '--out', out]), `${join(badResult, 'result.json')} has no evaluation report`);

    expectCleanFailure(await runCli(['plot', minillm, '--out', out, '--format', 'gif']), "--format takes svg, png or svg,png, not 'gif'");
  });

  it('mmkd compare --plot adds the accuracy chart to the table', async () => {
    const png = join(scratch.dir, 'compare.png');
    const result = await runCli(['compare', llava, minillm, '--plot', png]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('llava-kd');
    checkPng(png, { width: 400, height: 300 });

    const svg = join(scratch.dir, 'compare.svg');
    expect((await runCli(['compare', llava, minillm, '--plot', svg])).code).toBe(0);
    const texts = svgTexts(readFileSync(svg, 'utf8'));
    for (const name of ['llava-kd', 'minillm', 'average']) expect(texts).toContain(name);

    const refused = await runCli(['compare', llava, minillm, '--plot', join(scratch.dir, 'chart.txt')]);
    expectCleanFailure(refused, `${join(scratch.dir, 'chart.txt')}: a chart is written as .svg or .png, not .txt`);
    expect(refused.stdout).toBe('');
  });
});
