/**
 * WGSL of the fused divergence kernels: one workgroup per pair of token rows (teacher row,
 * student row, read through a small index buffer, so a selection of a tensor larger than one
 * binding is never gathered), both models' log-softmaxes by an online (running max, running sum)
 * pass, and the gradient row in a backward dispatch.
 *
 * Per row pair k with tempered logits x = a/T (teacher), y = b/T (student) and the log-sum-exps
 * lseA, lseB: log p_v = x_v − lseA, log q_v = y_v − lseB. A rule gives the per-entry loss term and
 * h_v = ∂ℓ/∂log q_v; through log-softmax and the temperature,
 *   ∂(w_k ℓ_k)/∂b_v = (w_k/T)·(h_v − q_v·Σ_u h_u),
 * the same projection as the host kernels (backends/host-kernels/divergence.ts).
 *
 * Forward KL, soft CE and reverse KL need no second pass: their loss is an expectation of
 * (x − max_x) and (y − max_y) under p or q, accumulated beside the running sums (rescaled with them
 * when a maximum moves), and their Σh is −1, −1 and ℓ. The other rules read the row a second time
 * for the loss and Σh. Rows are read four entries at a time (vec4 loads where both row widths are
 * multiples of 4).
 *
 * Row stats, 8 floats a pair: [lseA, lseB, ℓ, Σh, w_head (AKL), 0, 0, 0].
 *
 * No −∞ and no NaN reach or leave these kernels: maxima start at −3.4e38 (finite), exponentials
 * of very negative numbers are 0, entries past the vocabulary are masked by select (never by a
 * product with 0), and every product of a probability with a log is of finite numbers. No
 * float16, no subgroups (tfjs's WebGPU has neither).
 */

/** The fused variants: rules at their interior parameters, endpoints mapped to the rule they equal. */
export type KernelVariant = 'forwardKL' | 'reverseKL' | 'softCE' | 'tvd' | 'jsd' | 'skewKL' | 'skewReverseKL' | 'akl';

/** How rows are read: as vec4<f32> (both row widths multiples of 4) or as f32. */
export type RowLoads = 'vec4' | 'scalar';

/**
 * Threads per workgroup (one workgroup per row pair) on a hardware GPU. Software adapters take
 * fewer: see `workgroupFor` in divergence-kernels.ts. Any power of two works (the reductions
 * halve it).
 */
export const WORKGROUP = 256;

/** Floats of row stats per row pair. */
export const STATS_WIDTH = 8;

/** Bytes of the uniform block (20 scalars, padded to 16 bytes). */
export const PARAMS_BYTES = 80;

/** The variants whose loss and Σh come out of the online pass itself. */
const ONE_PASS: ReadonlySet<KernelVariant> = new Set(['forwardKL', 'softCE', 'reverseKL']);

const header = (workgroup: number) => `
struct Params {
  rows: u32, vocab: u32, strideA: u32, strideB: u32,
  offA: u32, offB: u32, offG: u32, pairBase: u32,
  baseA: u32, baseB: u32, padU0: u32, padU1: u32,
  invT: f32, c0: f32, c1: f32, c2: f32,
  mu: f32, pad0: f32, pad1: f32, pad2: f32,
}
const WG: u32 = ${workgroup}u;
const LOW: f32 = -3.4e38;
var<workgroup> red: array<vec4<f32>, ${workgroup}>;
var<workgroup> red2: array<f32, ${workgroup}>;

// The smallest mixture m a log is taken of: where both p and q underflow, the terms that use
// log m are weighted by p or q and vanish, and p·q/m is 0 instead of 0/0.
const FLOOR: f32 = 1e-37;
`;

/** Workgroup reductions; results are uniform (workgroupUniformLoad), so they may steer loops with barriers. */
const reductions = `
fn reduceSum4(x: vec4<f32>, t: u32) -> vec4<f32> {
  workgroupBarrier();
  red[t] = x;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (t < s) { red[t] = red[t] + red[t + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}

fn reduceSum(x: f32, t: u32) -> f32 { return reduceSum4(vec4<f32>(x, 0.0, 0.0, 0.0), t).x; }

// Online states (ma, sa, mb, sb) with the expectation d (see onlineStep), combined across the
// workgroup; returns the row's state, and d in red2[0].
fn reduceOnline(state: vec4<f32>, d: f32, t: u32) -> vec4<f32> {
  workgroupBarrier();
  red[t] = state;
  red2[t] = d;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k >> 1u) {
    if (t < k) {
      let s1 = red[t];
      let s2 = red[t + k];
      let ma = max(s1.x, s2.x);
      let mb = max(s1.z, s2.z);
      let ra = vec2<f32>(exp(s1.x - ma), exp(s2.x - ma));
      let rb = vec2<f32>(exp(s1.z - mb), exp(s2.z - mb));
      let rw = select(rb, ra, ON_A);
      let sw = select(vec2<f32>(s1.w, s2.w), vec2<f32>(s1.y, s2.y), ON_A);
      let delta = CA * (vec2<f32>(s1.x, s2.x) - ma) + CB * (vec2<f32>(s1.z, s2.z) - mb);
      red2[t] = rw.x * (red2[t] + delta.x * sw.x) + rw.y * (red2[t + k] + delta.y * sw.y);
      red[t] = vec4<f32>(ma, s1.y * ra.x + s2.y * ra.y, mb, s1.w * rb.x + s2.w * rb.y);
    }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}
`;

/**
 * One step of the online pass over four entries x, y (tempered; masked entries are LOW and not
 * `valid`). Besides the running maxima and sums it keeps d = Σ e_v·u_v, the weighting side's
 * e_v = exp(z_v − m) times u_v = CA·(x_v − ma) + CB·(y_v − mb); when a maximum moves, every u
 * shifts by the same δ and every e scales by r, so d ← r·(d + δ·s) before the new entries.
 */
const onlineStep = (onePass: boolean) => `
  {
    let na = max(ma, max(max(x.x, x.y), max(x.z, x.w)));
    let nb = max(mb, max(max(y.x, y.y), max(y.z, y.w)));
    let ea = exp(x - vec4<f32>(na));
    let eb = exp(y - vec4<f32>(nb));
    let ra = exp(ma - na);
    let rb = exp(mb - nb);
${
  onePass
    ? `    let u = select(vec4<f32>(0.0), CA * (x - vec4<f32>(na)) + CB * (y - vec4<f32>(nb)), valid);
    let delta = CA * (ma - na) + CB * (mb - nb);
    if (ON_A) { d = ra * (d + delta * sa) + dot(ea, u); } else { d = rb * (d + delta * sb) + dot(eb, u); }
`
    : ''
}    sa = sa * ra + dot(ea, vec4<f32>(1.0));
    sb = sb * rb + dot(eb, vec4<f32>(1.0));
    ma = na;
    mb = nb;
  }
`;

/**
 * The one-pass rules: which side weights the expectation (ON_A: p, else q), u's coefficients, and
 * ℓ, Σh from the row's d, log sa, log sb.
 *   forward KL: Σ p (log p − log q) = d/sa − log sa + log sb, u = (x − ma) − (y − mb), Σh = −1
 *   soft CE:    −Σ p log q = −d/sa + log sb,                   u = y − mb,               Σh = −1
 *   reverse KL: Σ q (log q − log p) = d/sb − log sb + log sa, u = (y − mb) − (x − ma), Σh = ℓ
 */
const onePassRules: Partial<Record<KernelVariant, { onA: boolean; ca: number; cb: number; loss: string; hSum: string }>> = {
  forwardKL: { onA: true, ca: 1, cb: -1, loss: 'dRow / sumA - log(sumA) + log(sumB)', hSum: '-1.0' },
  softCE: { onA: true, ca: 0, cb: 1, loss: '-dRow / sumA + log(sumB)', hSum: '-1.0' },
  reverseKL: { onA: false, ca: -1, cb: 1, loss: 'dRow / sumB - log(sumB) + log(sumA)', hSum: 'loss' },
};

function onePassConstants(variant: KernelVariant): string {
  const rule = onePassRules[variant];
  const f = (x: number) => x.toFixed(1);
  return `const ON_A: bool = ${rule?.onA ?? true};\nconst CA: f32 = ${f(rule?.ca ?? 0)};\nconst CB: f32 = ${f(rule?.cb ?? 0)};\n`;
}

/**
 * Per rule: `term(lp, lq, head)` → (accumulators summed over the row), `finish(acc)` → (ℓ, Σh,
 * w_head), `hOf(lp, lq, q, wHead)` → h_v, given q = exp(lq). Constants: c0, c1, c2 from the parameters (see
 * `ruleConstants` in divergence-kernels.ts).
 */
const rules: Record<KernelVariant, string> = {
  forwardKL: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> { let p = exp(lp); return vec4<f32>(p * (lp - lq), -p, 0.0, 0.0); }
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, q: f32, wHead: f32) -> f32 { return -exp(lp); }
`,
  softCE: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> { let p = exp(lp); return vec4<f32>(-p * lq, -p, 0.0, 0.0); }
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, q: f32, wHead: f32) -> f32 { return -exp(lp); }
`,
  reverseKL: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> { let f = exp(lq) * (lq - lp); return vec4<f32>(f, f, 0.0, 0.0); }
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, q: f32, wHead: f32) -> f32 { return q * (lq - lp); }
`,
  tvd: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> {
  let q = exp(lq);
  let d = q - exp(lp);
  return vec4<f32>(0.5 * abs(d), 0.5 * q * sign(lq - lp), 0.0, 0.0);
}
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
// sign(q − p) = sign(log q − log p): no exponential of p in the backward pass.
fn hOf(lp: f32, lq: f32, q: f32, wHead: f32) -> f32 { return 0.5 * q * sign(lq - lp); }
`,
  // c2 = β; m = β p + (1−β) q.
  jsd: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> {
  let p = exp(lp);
  let q = exp(lq);
  let lm = log(max(P.c2 * p + (1.0 - P.c2) * q, FLOOR));
  let hq = (1.0 - P.c2) * q * (lq - lm);
  return vec4<f32>(P.c2 * p * (lp - lm) + hq, hq, 0.0, 0.0);
}
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, q: f32, wHead: f32) -> f32 {
  return (1.0 - P.c2) * q * (lq - log(max(P.c2 * exp(lp) + (1.0 - P.c2) * q, FLOOR)));
}
`,
  // c2 = α; m = α p + (1−α) q; h = −(1−α)·p q / m.
  skewKL: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> {
  let p = exp(lp);
  let q = exp(lq);
  let m = max(P.c2 * p + (1.0 - P.c2) * q, FLOOR);
  return vec4<f32>(p * (lp - log(m)), -(1.0 - P.c2) * p * (q / m), 0.0, 0.0);
}
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, q: f32, wHead: f32) -> f32 {
  let p = exp(lp);
  return -(1.0 - P.c2) * p * (q / max(P.c2 * p + (1.0 - P.c2) * q, FLOOR));
}
`,
  // c2 = α; m = α q + (1−α) p; h = q (log q − log m − α q/m).
  skewReverseKL: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> {
  let q = exp(lq);
  let m = max(P.c2 * q + (1.0 - P.c2) * exp(lp), FLOOR);
  let r = lq - log(m);
  return vec4<f32>(q * r, q * (r - P.c2 * (q / m)), 0.0, 0.0);
}
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, q: f32, wHead: f32) -> f32 {
  let m = max(P.c2 * q + (1.0 - P.c2) * exp(lp), FLOOR);
  return q * (lq - log(m) - P.c2 * (q / m));
}
`,
  // acc = (forward KL, reverse KL, Σ_head |p − q|, Σ |p − q|); the weights carry no gradient.
  akl: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> {
  let p = exp(lp);
  let q = exp(lq);
  let e = abs(p - q);
  return vec4<f32>(p * (lp - lq), q * (lq - lp), select(0.0, e, head), e);
}
fn finish(acc: vec4<f32>) -> vec3<f32> {
  let w = select(0.5, acc.z / acc.w, acc.w > 0.0);
  // Σh = −w·Σp + (1−w)·Σ q (log q − log p), with Σp = 1.
  return vec3<f32>(w * acc.x + (1.0 - w) * acc.y, -w + (1.0 - w) * acc.y, w);
}
fn hOf(lp: f32, lq: f32, q: f32, wHead: f32) -> f32 { return -wHead * exp(lp) + (1.0 - wHead) * q * (lq - lp); }
`,
};

/**
 * AKL's head: the teacher's tokens ranked by p, descending, ties by index, while the cumulative
 * mass stays ≤ μ, and the first rank always. Sorting is not needed: the boundary probability pb
 * is the largest value x with G(x) = Σ_{p_v ≥ x} p_v > μ, found by a 16-way search over the bit
 * patterns of p (monotone for p ≥ 0; eight passes). Of the tokens tied at pb, the first k by
 * index are in the head, k = ⌊(μ − Σ_{p > pb} p)/pb⌋ (at least one when pb is the largest); a
 * second 16-way search over indices finds where the k-th tie sits, only when some but not all
 * ties are in the head. The head is then { p_v > pb } ∪ { p_v = pb, v < tieEnd }.
 */
const aklHead = `
  var pbBits = 0u;
  var tieEnd = P.vocab;
  if (P.mu < 1.0) {
    var lo = 0u;
    var hi = 0x3F800001u;
    loop {
      if (hi - lo <= 1u) { break; }
      let span = hi - lo;
      var cand: array<u32, 15>;
      var acc: array<f32, 15>;
      for (var j = 0u; j < 15u; j++) {
        cand[j] = select(lo + (span / 16u) * (j + 1u), min(lo + j + 1u, hi - 1u), span < 16u);
        acc[j] = 0.0;
      }
      for (var v = t; v < P.vocab; v += WG) {
        let pv = exp(atA(ba + v) * P.invT - lseA);
        let bits = bitcast<u32>(pv);
        for (var j = 0u; j < 15u; j++) { if (bits >= cand[j]) { acc[j] += pv; } }
      }
      var newLo = lo;
      var newHi = hi;
      for (var j = 0u; j < 15u; j++) {
        let g = reduceSum(acc[j], t);
        if (g > P.mu) { newLo = max(newLo, cand[j]); } else { newHi = min(newHi, cand[j]); }
      }
      lo = newLo;
      hi = newHi;
    }
    pbBits = lo;
    let pb = bitcast<f32>(lo);
    var above = 0.0;
    var ties = 0.0;
    for (var v = t; v < P.vocab; v += WG) {
      let pv = exp(atA(ba + v) * P.invT - lseA);
      let bits = bitcast<u32>(pv);
      if (bits > lo) { above += pv; }
      if (bits == lo) { ties += 1.0; }
    }
    let massAbove = reduceSum(above, t);
    let tieCount = reduceSum(ties, t);
    var k = tieCount;
    if (pb > 0.0) { k = clamp(floor((P.mu - massAbove) / pb), 0.0, tieCount); }
    if (massAbove == 0.0) { k = max(k, 1.0); }
    if (k <= 0.0) {
      tieEnd = 0u;
    } else if (k < tieCount) {
      // The smallest I with #{v < I : p_v = pb} ≥ k.
      var ilo = 0u;
      var ihi = P.vocab;
      loop {
        if (ihi - ilo <= 1u) { break; }
        let span = ihi - ilo;
        var cand: array<u32, 15>;
        var cnt: array<f32, 15>;
        for (var j = 0u; j < 15u; j++) {
          cand[j] = select(ilo + (span / 16u) * (j + 1u), min(ilo + j + 1u, ihi - 1u), span < 16u);
          cnt[j] = 0.0;
        }
        for (var v = t; v < P.vocab; v += WG) {
          let bits = bitcast<u32>(exp(atA(ba + v) * P.invT - lseA));
          if (bits == lo) {
            for (var j = 0u; j < 15u; j++) { if (v < cand[j]) { cnt[j] += 1.0; } }
          }
        }
        var newLo = ilo;
        var newHi = ihi;
        for (var j = 0u; j < 15u; j++) {
          let c = reduceSum(cnt[j], t);
          if (c >= k) { newHi = min(newHi, cand[j]); } else { newLo = max(newLo, cand[j]); }
        }
        ilo = newLo;
        ihi = newHi;
      }
      tieEnd = ihi;
    }
  }
`;

/** Row bindings and the pair's row offsets, shared by both passes. */
function rowBindings(loads: RowLoads): string {
  const row = loads === 'vec4' ? 'vec4<f32>' : 'f32';
  return `
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<${row}>;
@group(0) @binding(2) var<storage, read> B: array<${row}>;`;
}

/** Element accessors of the row bindings: four entries from e (a multiple of 4 for vec4 loads), and one. */
function accessors(loads: RowLoads, writesG: boolean): string {
  const four = (name: string) => (loads === 'vec4' ? `${name}[e >> 2u]` : `vec4<f32>(${name}[e], ${name}[e + 1u], ${name}[e + 2u], ${name}[e + 3u])`);
  const one = (name: string) => (loads === 'vec4' ? `${name}[e >> 2u][e & 3u]` : `${name}[e]`);
  const store4 = loads === 'vec4' ? 'G[e >> 2u] = g;' : 'G[e] = g.x; G[e + 1u] = g.y; G[e + 2u] = g.z; G[e + 3u] = g.w;';
  const store1 = loads === 'vec4' ? 'G[e >> 2u][e & 3u] = g;' : 'G[e] = g;';
  return `
fn loadA(e: u32) -> vec4<f32> { return ${four('A')}; }
fn loadB(e: u32) -> vec4<f32> { return ${four('B')}; }
fn atA(e: u32) -> f32 { return ${one('A')}; }
fn atB(e: u32) -> f32 { return ${one('B')}; }
${writesG ? `fn storeG(e: u32, g: vec4<f32>) { ${store4} }\nfn storeG1(e: u32, g: f32) { ${store1} }` : ''}
`;
}

/** The pair's row starts (elements) in A and B, from the index buffer I. */
const pairRows = `
  let k = P.pairBase + wid.x;
  let ba = P.offA + (I[2u * k] - P.baseA) * P.strideA;
  let bb = P.offB + (I[2u * k + 1u] - P.baseB) * P.strideB;
`;

/**
 * The forward kernel of a variant: row stats into S. Bindings: P, A, B (teacher, student rows,
 * bound by row group), S (stats by pair), I (the pairs' absolute row indices, teacher and student).
 */
export function forwardShader(variant: KernelVariant, loads: RowLoads = 'scalar', workgroup: number = WORKGROUP): string {
  const onePass = ONE_PASS.has(variant);
  const rule = onePassRules[variant];
  const head = variant === 'akl' ? aklHead : '';
  const secondPass = `
  let lseA = top.x + log(top.y);
  let lseB = top.z + log(top.w);
${head}
  var acc = vec4<f32>(0.0);
  for (var i = t; i < n4; i += WG) {
    let v0 = 4u * i;
    let lp = loadA(ba + v0) * P.invT - vec4<f32>(lseA);
    let lq = loadB(bb + v0) * P.invT - vec4<f32>(lseB);
    acc += term(lp.x, lq.x, HEAD(v0, lp.x)) + term(lp.y, lq.y, HEAD(v0 + 1u, lp.y)) + term(lp.z, lq.z, HEAD(v0 + 2u, lp.z)) + term(lp.w, lq.w, HEAD(v0 + 3u, lp.w));
  }
  for (var v = 4u * n4 + t; v < P.vocab; v += WG) {
    let lp = atA(ba + v) * P.invT - lseA;
    let lq = atB(bb + v) * P.invT - lseB;
    acc += term(lp, lq, HEAD(v, lp));
  }
  let out = finish(reduceSum4(acc, t));
  let loss = out.x;
  let hSum = out.y;
  let wHead = out.z;`;
  const headTest =
    variant === 'akl'
      ? (v: string, lp: string) => `(bitcast<u32>(exp(${lp})) > pbBits || (bitcast<u32>(exp(${lp})) == pbBits && ${v} < tieEnd))`
      : () => 'false';
  const second = secondPass.replace(/HEAD\(([^,]+), ([^)]+)\)/g, (_m, v: string, lp: string) => headTest(v, lp));
  const closing = onePass
    ? `
  let sumA = top.y;
  let sumB = top.w;
  let dRow = workgroupUniformLoad(&red2[0]);
  let lseA = top.x + log(sumA);
  let lseB = top.z + log(sumB);
  let loss = ${rule!.loss};
  let hSum = ${rule!.hSum};
  let wHead = 0.0;`
    : second;
  return `${header(workgroup)}${onePassConstants(variant)}${rowBindings(loads)}
@group(0) @binding(3) var<storage, read_write> S: array<f32>;
@group(0) @binding(4) var<storage, read> I: array<u32>;
${accessors(loads, false)}
${reductions}
${rules[variant]}
@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
${pairRows}
  var ma = LOW;
  var sa = 0.0;
  var mb = LOW;
  var sb = 0.0;
  var d = 0.0;
  let n4 = P.vocab / 4u;
  for (var i = t; i < n4; i += WG) {
    let x = loadA(ba + 4u * i) * P.invT;
    let y = loadB(bb + 4u * i) * P.invT;
    let valid = vec4<bool>(true);
${onlineStep(onePass)}
  }
  // The last vocab mod 4 entries, by thread 0.
  if (t == 0u && 4u * n4 < P.vocab) {
    var x = vec4<f32>(LOW);
    var y = vec4<f32>(LOW);
    var valid = vec4<bool>(false);
    for (var j = 0u; 4u * n4 + j < P.vocab; j++) {
      x[j] = atA(ba + 4u * n4 + j) * P.invT;
      y[j] = atB(bb + 4u * n4 + j) * P.invT;
      valid[j] = true;
    }
${onlineStep(onePass)}
  }
  let top = reduceOnline(vec4<f32>(ma, sa, mb, sb), d, t);
${closing}
  if (t == 0u) {
    let o = k * ${STATS_WIDTH}u;
    S[o] = lseA;
    S[o + 1u] = lseB;
    S[o + 2u] = loss;
    S[o + 3u] = hSum;
    S[o + 4u] = wHead;
  }
}
`;
}

/**
 * The backward kernel: G[row, v] = dy·w_k/T·(h_v − q_v Σh) for v < vocab, 0 for the student's
 * columns past it; rows of G no pair selects are cleared beforehand by the caller. Bindings: P, A,
 * B, S (row stats), W (reduction weights), D (dy), I (pairs), G (bound like B).
 */
export function backwardShader(variant: KernelVariant, loads: RowLoads = 'scalar', workgroup: number = WORKGROUP): string {
  const row = loads === 'vec4' ? 'vec4<f32>' : 'f32';
  return `${header(workgroup)}${onePassConstants(variant)}${rowBindings(loads)}
@group(0) @binding(3) var<storage, read> S: array<f32>;
@group(0) @binding(4) var<storage, read> W: array<f32>;
@group(0) @binding(5) var<storage, read> D: array<f32>;
@group(0) @binding(6) var<storage, read> I: array<u32>;
@group(0) @binding(7) var<storage, read_write> G: array<${row}>;
${accessors(loads, true)}
${rules[variant]}
@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
${pairRows}
  let bg = P.offG + (I[2u * k + 1u] - P.baseB) * P.strideB;
  let o = k * ${STATS_WIDTH}u;
  let lseA = S[o];
  let lseB = S[o + 1u];
  let hSum = S[o + 3u];
  let wHead = S[o + 4u];
  let coefficient = D[0] * W[k] * P.invT;
  let n4 = P.strideB / 4u;
  for (var i = t; i < n4; i += WG) {
    let v0 = 4u * i;
    // Entries past the vocabulary may read past the teacher's row: computed, then masked.
    let lp = loadA(ba + v0) * P.invT - vec4<f32>(lseA);
    let lq = loadB(bb + v0) * P.invT - vec4<f32>(lseB);
    let q = exp(lq);
    let h = vec4<f32>(hOf(lp.x, lq.x, q.x, wHead), hOf(lp.y, lq.y, q.y, wHead), hOf(lp.z, lq.z, q.z, wHead), hOf(lp.w, lq.w, q.w, wHead));
    let inside = vec4<u32>(v0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(P.vocab);
    storeG(bg + v0, select(vec4<f32>(0.0), coefficient * (h - q * hSum), inside));
  }
  for (var v = 4u * n4 + t; v < P.strideB; v += WG) {
    var g = 0.0;
    if (v < P.vocab) {
      let lp = atA(ba + v) * P.invT - lseA;
      let lq = atB(bb + v) * P.invT - lseB;
      let q = exp(lq);
      g = coefficient * (hOf(lp, lq, q, wHead) - q * hSum);
    }
    storeG1(bg + v, g);
  }
}
`;
}
