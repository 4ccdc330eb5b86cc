/**
 * The Python of each loss definition mmkd ships, one function per definition (and one per
 * divergence rule), written from the rule's TypeScript (`losses/`): the same formulas, special
 * cases (β, α at 0 and 1, AKL's μ = 1), reductions and messages. An exported module holds only
 * the functions its objective uses.
 */

/** The per-token rule of each divergence: ℓ [n] from log p and log q [n, V]. */
export const RULES: Readonly<Record<string, string>> = {
  forwardKL: String.raw`
def _rule_forwardKL(log_p, log_q, params):
    """KL(p ‖ q) = Σ p (log p − log q)."""
    return (log_p.exp() * (log_p - log_q)).sum(1)
`,
  reverseKL: String.raw`
def _rule_reverseKL(log_p, log_q, params):
    """KL(q ‖ p) = Σ q (log q − log p)."""
    return (log_q.exp() * (log_q - log_p)).sum(1)
`,
  jsd: String.raw`
def _rule_jsd(log_p, log_q, params):
    """β·KL(p ‖ m) + (1−β)·KL(q ‖ m), m = βp + (1−β)q; β = 0, 1: forward, reverse KL."""
    beta = params["beta"]
    if beta == 0:
        return _rule_forwardKL(log_p, log_q, params)
    if beta == 1:
        return _rule_reverseKL(log_p, log_q, params)
    log_m = torch.logaddexp(log_p + math.log(beta), log_q + math.log(1 - beta))
    return beta * (log_p.exp() * (log_p - log_m)).sum(1) + (1 - beta) * (log_q.exp() * (log_q - log_m)).sum(1)
`,
  skewKL: String.raw`
def _rule_skewKL(log_p, log_q, params):
    """KL(p ‖ αp + (1−α)q); α = 0: forward KL, α = 1: 0."""
    alpha = params["alpha"]
    if alpha == 0:
        return _rule_forwardKL(log_p, log_q, params)
    if alpha == 1:
        return log_p.new_zeros(log_p.shape[0]) + 0 * log_q[:, :0].sum(1)
    log_m = torch.logaddexp(log_p + math.log(alpha), log_q + math.log(1 - alpha))
    return (log_p.exp() * (log_p - log_m)).sum(1)
`,
  skewReverseKL: String.raw`
def _rule_skewReverseKL(log_p, log_q, params):
    """KL(q ‖ αq + (1−α)p); α = 0: reverse KL, α = 1: 0."""
    alpha = params["alpha"]
    if alpha == 0:
        return _rule_reverseKL(log_p, log_q, params)
    if alpha == 1:
        return log_p.new_zeros(log_p.shape[0]) + 0 * log_q[:, :0].sum(1)
    log_m = torch.logaddexp(log_q + math.log(alpha), log_p + math.log(1 - alpha))
    return (log_q.exp() * (log_q - log_m)).sum(1)
`,
  tvd: String.raw`
def _rule_tvd(log_p, log_q, params):
    """½ Σ |p − q| (its gradient is 0 on ties, as mmkd's)."""
    return 0.5 * (log_p.exp() - log_q.exp()).abs().sum(1)
`,
  akl: String.raw`
def _rule_akl(log_p, log_q, params):
    """g_head/(g_head+g_tail)·KL(p ‖ q) + g_tail/(g_head+g_tail)·KL(q ‖ p), the weights from
    detached probabilities: the head is the teacher's top ranks whose cumulative mass is ≤ μ (the
    first rank always), the whole vocabulary at μ = 1; both weights ½ where p = q."""
    mu = params["mu"]
    with torch.no_grad():
        p = log_p.exp()
        q = log_q.exp()
        sorted_p, order = torch.sort(p, dim=1, descending=True, stable=True)
        error = (sorted_p - q.gather(1, order)).abs()
        if mu >= 1:
            head_mask = torch.ones_like(error)
        else:
            head_mask = (sorted_p.cumsum(1) <= mu).to(error.dtype)
            head_mask[:, 0] = 1
        g_head = (error * head_mask).sum(1)
        g_total = error.sum(1)
        positive = g_total > 0
        head = torch.where(positive, g_head / torch.where(positive, g_total, torch.ones_like(g_total)), torch.full_like(g_total, 0.5))
    return head * _rule_forwardKL(log_p, log_q, params) + (1 - head) * _rule_reverseKL(log_p, log_q, params)
`,
  softCE: String.raw`
def _rule_softCE(log_p, log_q, params):
    """−Σ p log q."""
    return -(log_p.exp() * log_q).sum(1)
`,
};

/** Which rules a rule's function calls besides itself. */
export const RULE_USES: Readonly<Record<string, readonly string[]>> = {
  jsd: ['forwardKL', 'reverseKL'],
  skewKL: ['forwardKL'],
  skewReverseKL: ['reverseKL'],
  akl: ['forwardKL', 'reverseKL'],
};

/** The divergence loss (every rule), supervised CE, relation, affinity and the feature losses. */
export const LOSSES: Readonly<Record<string, string>> = {
  divergence: String.raw`
def _loss_divergence(run, path, rule, teacher, student, temperature, scale_t2, reduction, truncate_vocab, padded_vocab, params):
    """Σ_i w_i ℓ_i over paired tokens, ℓ the rule on log softmax(a/T), log softmax(b/T) over the
    first min(V) columns (truncate_vocab) or the first padded_vocab (the rest are padding rows);
    rows in chunks of at most chunk_bytes of logits, so no [N × V] temporary is kept."""
    t = run.rows(teacher)
    s = run.rows(student)
    run.same_counts(t, s, teacher, student, path + "")
    n = s.selection.size
    if n == 0:
        return _zero_of(s.anchor())
    vocab = padded_vocab if padded_vocab is not None else min(t.width, s.width)
    dtype = _compute_dtype(s.anchor())
    scale = temperature * temperature if scale_t2 else 1.0
    weights = (_reduction_weights(run, path, s.selection, reduction, s.anchor().device) * scale).to(dtype)
    if isinstance(t, _TopKRows):
        return _topk_divergence(run, path, rule, t, s, temperature, weights, padded_vocab, params, dtype)
    chunk = _chunk_rows(max(t.width, s.width), 4, run.module.chunk_bytes, n)

    def per_chunk(z, r0, r1):
        log_q = torch.log_softmax(z.to(dtype) / temperature, dim=1)
        with torch.no_grad():
            log_p = torch.log_softmax(t.logits(r0, r1, vocab).detach().to(dtype) / temperature, dim=1)
        return (rule(log_p, log_q, params) * weights[r0:r1]).sum()

    spec = _StudentRowsSpec(s, vocab, chunk, per_chunk)
    return _ChunkedRowsLoss.apply(spec, *spec.tensors())
`,
  topk: String.raw`
def _topk_divergence(run, path, rule, t, s, temperature, weights, padded_vocab, params, dtype):
    """The rule between a teacher given by top-k signals and the student's logits b, under the
    view's policy for the missing mass (mmkd's losses/topk.ts), with z = b/T over the first V₀
    columns (paddedVocab) and q = softmax(z):
    renormalize: log P = lp − logΣexp(lp), log Q = z_ids − logΣexp(z_ids) (the k ids);
    tailBucket: log P = (lp, log r), log Q = (log q_ids, log Σ_{v∉ids} q_v) (the ids and one tail class);
    uniform: log P_v = lp at the ids, log(r / (V − k)) elsewhere; log Q = log softmax(z) (all V).
    A zero mass is floored at 1e-30 before its log. Rows in chunks, as every divergence."""
    if s.head is not None:
        raise InputError(path + ": a teacher.topk view with the student's logits as an LM head's view is not supported; give the student's materialised logits")
    n = s.selection.size
    k = t.k
    vocab = padded_vocab if padded_vocab is not None else t.width
    if padded_vocab is not None:
        flat = t.ids.reshape(-1)
        bad = (flat >= padded_vocab).nonzero()
        if bad.numel() > 0:
            i = int(bad[0])
            raise InputError(path + ": teacher.topk id " + str(int(flat[i])) + " (entry " + str(i % k) + " of selected token " + str(i // k)
                             + ") is a padding row: paddedVocab is " + str(padded_vocab) + ", the real vocabulary")
    floor = math.log(_MASS_FLOOR)
    policy = t.missing_mass
    chunk = _chunk_rows(vocab + k + 1, 4, run.module.chunk_bytes, n)

    def per_chunk(b, r0, r1):
        z = b.to(dtype) / temperature
        with torch.no_grad():
            ids = t.ids[r0:r1].to(z.device)
            lp = t.logprobs[r0:r1].to(device=z.device, dtype=dtype)
            raw_tail = t.log_tail[r0:r1].to(device=z.device, dtype=dtype)
            if policy != "renormalize":
                mask = torch.zeros_like(z).scatter_(1, ids, 1.0)
        if policy == "renormalize":
            z_top = z.gather(1, ids)
            log_p = lp - torch.logsumexp(lp, 1, keepdim=True)
            log_q = z_top - torch.logsumexp(z_top, 1, keepdim=True)
        elif policy == "tailBucket":
            lse = torch.logsumexp(z, 1, keepdim=True)
            rest = ((1 - mask) * torch.exp(z - lse)).sum(1, keepdim=True)
            log_p = torch.cat([lp, raw_tail.clamp(min=floor).reshape(-1, 1)], 1)
            log_q = torch.cat([z.gather(1, ids) - lse, torch.log(rest.clamp(min=_MASS_FLOOR))], 1)
        else:
            share = torch.zeros_like(raw_tail) if k == vocab else (raw_tail - math.log(vocab - k)).clamp(min=floor)
            log_p = torch.zeros_like(z).scatter_(1, ids, lp) + (1 - mask) * share.reshape(-1, 1)
            log_q = torch.log_softmax(z, dim=1)
        return (rule(log_p.detach(), log_q, params) * weights[r0:r1]).sum()

    spec = _StudentRowsSpec(s, vocab, chunk, per_chunk)
    return _ChunkedRowsLoss.apply(spec, *spec.tensors())
`,
  supervisedCE: String.raw`
def _loss_supervisedCE(run, path, student, temperature, reduction):
    """−log softmax(b/T)_y against the labels at t + shift; −100 skipped and not counted."""
    if run.labels is None:
        raise InputError(path + ": this loss needs labels, but the inputs have none")
    s = run.rows(student)
    labels = run.labels_at(student)
    keep = labels != IGNORE_LABEL
    kept = keep.nonzero().reshape(-1)
    if kept.numel() == 0:
        return _zero_of(s.anchor())
    counts = [0] * s.selection.batch
    samples = [b for b, c in enumerate(s.selection.counts) for _ in range(c)]
    for k in kept.tolist():
        counts[samples[k]] += 1
    valid = _Selection(s.selection.positions.index_select(0, kept), counts, s.selection.batch, s.selection.length)
    dtype = _compute_dtype(s.anchor())
    kept_weights = _reduction_weights(run, path, valid, reduction, s.anchor().device)
    weights = torch.zeros(s.selection.size, dtype=torch.float32, device=kept_weights.device)
    weights[kept] = kept_weights
    weights = weights.to(dtype)
    targets = torch.where(keep, labels, torch.zeros_like(labels))
    vocab = s.width
    chunk = _chunk_rows(vocab, 4, run.module.chunk_bytes, s.selection.size)

    def per_chunk(z, r0, r1):
        log_q = torch.log_softmax(z.to(dtype) / temperature, dim=1)
        picked = log_q.gather(1, targets[r0:r1].reshape(-1, 1)).reshape(-1)
        return -(picked * weights[r0:r1]).sum()

    spec = _StudentRowsSpec(s, vocab, chunk, per_chunk)
    return _ChunkedRowsLoss.apply(spec, *spec.tensors())
`,
  uld: String.raw`
def _loss_uld(run, path, teacher, student, temperature, scale_t2, reduction):
    """Σ_i |p↓_i − q↓_i| per token, the two distributions sorted in decreasing order and the
    smaller vocabulary padded with zeros (the gradient flows through the sort's values)."""
    t = run.rows(teacher)
    s = run.rows(student)
    run.same_counts(t, s, teacher, student, path)
    n = s.selection.size
    if n == 0:
        return _zero_of(s.anchor())
    dtype = _compute_dtype(s.anchor())
    scale = temperature * temperature if scale_t2 else 1.0
    weights = (_reduction_weights(run, path, s.selection, reduction, s.anchor().device) * scale).to(dtype)
    width = max(t.width, s.width)
    chunk = _chunk_rows(width, 4, run.module.chunk_bytes, n)

    def padded(x):
        return x if x.shape[1] == width else torch.cat([x, x.new_zeros((x.shape[0], width - x.shape[1]))], 1)

    def per_chunk(z, r0, r1):
        q = torch.softmax(z.to(dtype) / temperature, dim=1)
        with torch.no_grad():
            p = torch.softmax(t.logits(r0, r1, t.width).detach().to(dtype) / temperature, dim=1)
            p_sorted = padded(torch.sort(p, dim=1, descending=True).values)
        q_sorted = padded(torch.sort(q, dim=1, descending=True).values)
        return ((q_sorted - p_sorted).abs().sum(1) * weights[r0:r1]).sum()

    spec = _StudentRowsSpec(s, s.width, chunk, per_chunk)
    return _ChunkedRowsLoss.apply(spec, *spec.tensors())
`,
  relation: String.raw`
def _loss_relation(run, path, teacher, student, mode):
    """1 − cos(Z_t Z_tᵀ, Z_s Z_sᵀ) per sample (mean over samples with tokens) or over the batch."""
    t = run.rows(teacher)
    s = run.rows(student)
    run.same_counts(t, s, teacher, student, path)
    counts = s.selection.counts
    offsets = s.selection.offsets
    samples = [b for b, c in enumerate(counts) if c > 0]
    if not samples:
        return _zero_of(s.anchor())
    batch = mode == "batch"
    if batch and run.items is not None:
        raise InputError(
            path + ": relation in batch mode is one cosine over the whole batch, which no count makes exact across ranks; "
            "use mode perSample with num_items_in_batch"
        )
    zt = t.rows().to(_compute_dtype(t.anchor()))
    zs = s.rows().to(_compute_dtype(s.anchor()))
    if batch:
        zt, zs = _rescaled(zt), _rescaled(zs)
    parts = []
    for b in samples:
        a = zt[offsets[b]:offsets[b + 1]]
        c = zs[offsets[b]:offsets[b + 1]]
        if not batch:
            a, c = _rescaled(a), _rescaled(c)
        rt = a @ a.t()
        rs = c @ c.t()
        parts.append(((rt * rs).sum(), (rt * rt).sum(), (rs * rs).sum()))
    if batch:
        dot = sum(p[0] for p in parts)
        tt = sum(p[1] for p in parts)
        ss = sum(p[2] for p in parts)
        return 1 - _safe_cosine(dot, tt, ss)
    return sum(1 - _safe_cosine(*p) for p in parts) / run.items_for(path, len(parts))
`,
  affinity: String.raw`
def _loss_affinity(run, path, teacher_vision, teacher_text, student_vision, student_text, beta, reduction):
    """SmoothL1_β(cos(V_s, X_s), cos(V_t, X_t)) over each sample's vision × text affinities."""
    tv, tt, sv, st = (run.rows(e) for e in (teacher_vision, teacher_text, student_vision, student_text))
    run.same_counts(tv, sv, teacher_vision, student_vision, path)
    run.same_counts(tt, st, teacher_text, student_text, path)
    k = sv.selection.counts
    m = st.selection.counts
    samples = [b for b in range(len(k)) if k[b] > 0 and m[b] > 0]
    if not samples:
        return _zero_of(sv.anchor()) + _zero_of(st.anchor())
    ntv, ntt, nsv, nst = (_unit_rows(r.rows().to(_compute_dtype(r.anchor()))) for r in (tv, tt, sv, st))

    def affinity(vision, text, vo, to, b):
        return vision[vo[b]:vo[b] + k[b]] @ text[to[b]:to[b] + m[b]].t()

    sums = []
    for b in samples:
        a_t = affinity(ntv, ntt, tv.selection.offsets, tt.selection.offsets, b)
        a_s = affinity(nsv, nst, sv.selection.offsets, st.selection.offsets, b)
        sums.append(_smooth_l1(a_s - a_t, beta).sum())
    if reduction == "mean":
        return sum(sums) / run.items_for(path, sum(k[b] * m[b] for b in samples))
    means = [sums[i] / (k[b] * m[b]) for i, b in enumerate(samples)]
    return sum(means) / run.items_for(path, len(samples))
`,
  featureMSE: String.raw`
def _loss_featureMSE(run, path, teacher, student, reduction, projection):
    """(1/H) Σ_h (s_h − t_h)² token by token; with projection, s·W + c (the objective's parameters)."""
    t = run.rows(teacher)
    s = run.rows(student)
    run.same_counts(t, s, teacher, student, path)
    if s.selection.size == 0:
        return _zero_of(s.anchor())
    dtype = _compute_dtype(s.anchor())
    rows = s.rows().to(dtype)
    if projection:
        rows = run.module.project(path, rows)
    per_token = (rows - t.rows().to(dtype)).square().mean(1)
    weights = _reduction_weights(run, path, s.selection, reduction, per_token.device).to(dtype)
    return (per_token * weights).sum()
`,
  featureCosine: String.raw`
def _loss_featureCosine(run, path, teacher, student, reduction, projection):
    """1 − cos(s, t) token by token (the safe cosine: 1 with a zero gradient at a zero vector); with
    projection, of s·W + c (the objective's parameters)."""
    t = run.rows(teacher)
    s = run.rows(student)
    run.same_counts(t, s, teacher, student, path)
    if s.selection.size == 0:
        return _zero_of(s.anchor())
    dtype = _compute_dtype(s.anchor())
    rows = s.rows().to(dtype)
    if projection:
        rows = run.module.project(path, rows)
    a = _rescaled_rows(rows)
    b = _rescaled_rows(t.rows().to(dtype))
    per_token = 1 - _safe_cosine((a * b).sum(1), (a * a).sum(1), (b * b).sum(1))
    weights = _reduction_weights(run, path, s.selection, reduction, per_token.device).to(dtype)
    return (per_token * weights).sum()
`,
};

/** The safe-math helpers (power-of-two rescaling, the safe cosine, unit rows, Smooth L1). */
export const SAFE_MATH = String.raw`
def _power_of_two_scale(largest):
    safe = torch.where(largest > 0, largest, torch.ones_like(largest))
    exponent = torch.clamp(torch.round(torch.log(safe) / math.log(2)), -126, 126)
    return torch.pow(torch.full_like(exponent, 2.0), -exponent)


def _rescaled(x):
    """x times the power of two nearest 1/max|x| (held constant): exact, and no underflow."""
    with torch.no_grad():
        factor = _power_of_two_scale(x.abs().max() if x.numel() > 0 else x.new_zeros(()))
    return x * factor


def _rescaled_rows(x):
    with torch.no_grad():
        factor = _power_of_two_scale(x.abs().amax(-1, keepdim=True))
    return x * factor


def _safe_cosine(dot, xx, yy):
    """dot / √(xx·yy), 0 with a zero gradient where either operand is zero."""
    product = xx * yy
    nonzero = product > 0
    safe = torch.where(nonzero, product, torch.ones_like(product))
    return torch.where(nonzero, dot / torch.sqrt(safe), torch.zeros_like(dot))


def _unit_rows(x):
    """Each row over its norm; a zero row stays zero with a zero gradient."""
    y = _rescaled_rows(x)
    squares = (y * y).sum(1, keepdim=True)
    nonzero = squares > 0
    safe = torch.where(nonzero, squares, torch.ones_like(squares))
    return torch.where(nonzero, y / torch.sqrt(safe), torch.zeros_like(y))


def _smooth_l1(d, beta):
    a = d.abs()
    c = torch.clamp(a, max=beta)
    return 0.5 * c * c / beta + (a - c)
`;

/** The initial values of a feature projection's weight, as mmkd draws them (`losses/feature.ts`). */
export const PROJECTION_INIT = String.raw`
def _scaled_random(n, scale, seed, salt):
    """N(0, scale²) values from the seed and the parameter's path, as mmkd draws them: a 32-bit mix
    of both seeds a xorshift generator, Box–Muller makes normals, float32."""
    state = ((seed & 0xFFFFFFFF) ^ 0x9E3779B9) & 0xFFFFFFFF
    units = salt.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(units), 2):
        state = ((state ^ (units[i] | units[i + 1] << 8)) * 0x01000193) & 0xFFFFFFFF
    if state == 0:
        state = 1

    def uniform():
        nonlocal state
        state = (state ^ (state << 13)) & 0xFFFFFFFF
        state ^= state >> 17
        state = (state ^ (state << 5)) & 0xFFFFFFFF
        return (state + 0.5) / 4294967296

    out = []
    for _ in range(n):
        radius = math.sqrt(-2 * math.log(uniform()))
        out.append(radius * math.cos(2 * math.pi * uniform()) * scale)
    return torch.tensor(out, dtype=torch.float64).to(torch.float32)
`;

/** Which losses need the safe-math helpers. */
export const USES_SAFE_MATH: ReadonlySet<string> = new Set(['relation', 'affinity', 'featureCosine']);
