/**
 * WGSL of the fused divergence kernels: one workgroup per token row, both models' log-softmaxes
 * by an online (running max, running sum) pass, the loss and Σ_v ∂ℓ/∂log q_v in a second pass
 * (`forward`), the gradient row in a third (`backward`, run only by the backward pass).
 *
 * Per row i with tempered logits x = a/T (teacher), y = b/T (student) and the log-sum-exps
 * lseA, lseB: log p_v = x_v − lseA, log q_v = y_v − lseB. A rule gives the per-entry loss term and
 * h_v = ∂ℓ/∂log q_v; through log-softmax and the temperature,
 *   ∂(w_i ℓ_i)/∂b_v = (w_i/T)·(h_v − q_v·Σ_u h_u),
 * the same projection as the host kernels (backends/host-kernels/divergence.ts).
 *
 * Row stats, 8 floats a row: [lseA, lseB, ℓ, Σh, w_head (AKL), 0, 0, 0].
 *
 * No −∞ and no NaN reach or leave these kernels: maxima start at −3.4e38 (finite), exponentials
 * of very negative numbers are 0, and every product of a probability with a log is of finite
 * numbers. No float16, no subgroups (tfjs's WebGPU has neither).
 */

/** The fused variants: rules at their interior parameters, endpoints mapped to the rule they equal. */
export type KernelVariant = 'forwardKL' | 'reverseKL' | 'softCE' | 'tvd' | 'jsd' | 'skewKL' | 'skewReverseKL' | 'akl';

/** Threads per workgroup (one workgroup per row). */
export const WORKGROUP = 256;

/** Floats of row stats per row. */
export const STATS_WIDTH = 8;

/** Bytes of the uniform block (16 scalars). */
export const PARAMS_BYTES = 64;

const header = `
struct Params {
  rows: u32, vocab: u32, strideA: u32, strideB: u32,
  offA: u32, offB: u32, offG: u32, rowBase: u32,
  invT: f32, c0: f32, c1: f32, c2: f32,
  mu: f32, pad0: f32, pad1: f32, pad2: f32,
}
const WG: u32 = ${WORKGROUP}u;
const LOW: f32 = -3.4e38;
var<workgroup> red: array<f32, ${WORKGROUP}>;
var<workgroup> red2: array<f32, ${WORKGROUP}>;

// The smallest mixture m a log is taken of: where both p and q underflow, the terms that use
// log m are weighted by p or q and vanish, and p·q/m is 0 instead of 0/0.
const FLOOR: f32 = 1e-37;
`;

/** Workgroup reductions; results are uniform (workgroupUniformLoad), so they may steer loops with barriers. */
const reductions = `
fn reduceSum(x: f32, t: u32) -> f32 {
  workgroupBarrier();
  red[t] = x;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (t < s) { red[t] = red[t] + red[t + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}

// The log-sum-exp of a row from each thread's running (max, sum).
fn reduceLse(m: f32, s: f32, t: u32) -> f32 {
  workgroupBarrier();
  red[t] = m;
  red2[t] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k >> 1u) {
    if (t < k) {
      let m1 = red[t];
      let m2 = red[t + k];
      let mm = max(m1, m2);
      red2[t] = red2[t] * exp(m1 - mm) + red2[t + k] * exp(m2 - mm);
      red[t] = mm;
    }
    workgroupBarrier();
  }
  let top = workgroupUniformLoad(&red[0]);
  return top + log(workgroupUniformLoad(&red2[0]));
}
`;

/**
 * Per rule: `term(lp, lq, head)` → (accumulators summed over the row), `finish(acc)` → (ℓ, Σh,
 * w_head), `hOf(lp, lq, wHead)` → h_v. Constants: c0, c1, c2 from the parameters (see
 * `ruleConstants` in divergence-kernels.ts).
 */
const rules: Record<KernelVariant, string> = {
  forwardKL: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> { let p = exp(lp); return vec4<f32>(p * (lp - lq), -p, 0.0, 0.0); }
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, wHead: f32) -> f32 { return -exp(lp); }
`,
  softCE: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> { let p = exp(lp); return vec4<f32>(-p * lq, -p, 0.0, 0.0); }
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, wHead: f32) -> f32 { return -exp(lp); }
`,
  reverseKL: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> { let f = exp(lq) * (lq - lp); return vec4<f32>(f, f, 0.0, 0.0); }
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, wHead: f32) -> f32 { return exp(lq) * (lq - lp); }
`,
  tvd: `
fn term(lp: f32, lq: f32, head: bool) -> vec4<f32> {
  let q = exp(lq);
  let d = q - exp(lp);
  return vec4<f32>(0.5 * abs(d), 0.5 * q * sign(d), 0.0, 0.0);
}
fn finish(acc: vec4<f32>) -> vec3<f32> { return vec3<f32>(acc.x, acc.y, 0.0); }
fn hOf(lp: f32, lq: f32, wHead: f32) -> f32 { let q = exp(lq); return 0.5 * q * sign(q - exp(lp)); }
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
fn hOf(lp: f32, lq: f32, wHead: f32) -> f32 {
  let q = exp(lq);
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
fn hOf(lp: f32, lq: f32, wHead: f32) -> f32 {
  let p = exp(lp);
  let q = exp(lq);
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
fn hOf(lp: f32, lq: f32, wHead: f32) -> f32 {
  let q = exp(lq);
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
fn hOf(lp: f32, lq: f32, wHead: f32) -> f32 { return -wHead * exp(lp) + (1.0 - wHead) * exp(lq) * (lq - lp); }
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
        let pv = exp(A[ba + v] * P.invT - lseA);
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
      let pv = exp(A[ba + v] * P.invT - lseA);
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
          let bits = bitcast<u32>(exp(A[ba + v] * P.invT - lseA));
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

/** The forward kernel of a variant: row stats into S. Bindings: P, A, B (teacher, student rows), S. */
export function forwardShader(variant: KernelVariant): string {
  const head = variant === 'akl' ? aklHead : '';
  const member = variant === 'akl' ? '{ let bits = bitcast<u32>(exp(lp)); inHead = bits > pbBits || (bits == pbBits && v < tieEnd); }' : '';
  return `${header}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> S: array<f32>;
${reductions}
${rules[variant]}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  let r = wid.x;
  let ba = P.offA + r * P.strideA;
  let bb = P.offB + r * P.strideB;
  var ma = LOW;
  var sa = 0.0;
  var mb = LOW;
  var sb = 0.0;
  // Four consecutive entries per step: one rescaling exponential per four entries.
  for (var v0 = 4u * t; v0 < P.vocab; v0 += 4u * WG) {
    var x = vec4<f32>(LOW);
    var y = vec4<f32>(LOW);
    for (var j = 0u; j < 4u; j++) {
      if (v0 + j < P.vocab) {
        x[j] = A[ba + v0 + j] * P.invT;
        y[j] = B[bb + v0 + j] * P.invT;
      }
    }
    let na = max(ma, max(max(x.x, x.y), max(x.z, x.w)));
    let nb = max(mb, max(max(y.x, y.y), max(y.z, y.w)));
    let ea = exp(x - vec4<f32>(na));
    let eb = exp(y - vec4<f32>(nb));
    sa = sa * exp(ma - na) + (ea.x + ea.y + ea.z + ea.w);
    sb = sb * exp(mb - nb) + (eb.x + eb.y + eb.z + eb.w);
    ma = na;
    mb = nb;
  }
  let lseA = reduceLse(ma, sa, t);
  let lseB = reduceLse(mb, sb, t);
${head}
  var acc = vec4<f32>(0.0);
  for (var v = t; v < P.vocab; v += WG) {
    let lp = A[ba + v] * P.invT - lseA;
    let lq = B[bb + v] * P.invT - lseB;
    var inHead = false;
    ${member}
    acc += term(lp, lq, inHead);
  }
  let total = vec4<f32>(reduceSum(acc.x, t), reduceSum(acc.y, t), reduceSum(acc.z, t), reduceSum(acc.w, t));
  let out = finish(total);
  if (t == 0u) {
    let o = (P.rowBase + r) * ${STATS_WIDTH}u;
    S[o] = lseA;
    S[o + 1u] = lseB;
    S[o + 2u] = out.x;
    S[o + 3u] = out.y;
    S[o + 4u] = out.z;
  }
}
`;
}

/**
 * The backward kernel: G[row, v] = dy·w_row/T·(h_v − q_v Σh) for v < vocab, 0 for the student's
 * columns past it. Bindings: P, A, B, S (row stats), W (reduction weights), D (dy), G.
 */
export function backwardShader(variant: KernelVariant): string {
  return `${header}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> S: array<f32>;
@group(0) @binding(4) var<storage, read> W: array<f32>;
@group(0) @binding(5) var<storage, read> D: array<f32>;
@group(0) @binding(6) var<storage, read_write> G: array<f32>;
${rules[variant]}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  let r = wid.x;
  let row = P.rowBase + r;
  let o = row * ${STATS_WIDTH}u;
  let lseA = S[o];
  let lseB = S[o + 1u];
  let hSum = S[o + 3u];
  let wHead = S[o + 4u];
  let coefficient = D[0] * W[row] * P.invT;
  let ba = P.offA + r * P.strideA;
  let bb = P.offB + r * P.strideB;
  let bg = P.offG + r * P.strideB;
  for (var v = t; v < P.strideB; v += WG) {
    var g = 0.0;
    if (v < P.vocab) {
      let lp = A[ba + v] * P.invT - lseA;
      let lq = B[bb + v] * P.invT - lseB;
      g = coefficient * (hOf(lp, lq, wHead) - exp(lq) * hSum);
    }
    G[bg + v] = g;
  }
}
`;
}
