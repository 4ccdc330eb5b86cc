/**
 * The Python of each matcher mmkd ships (`matching/matchers/`), run without gradient once per
 * evaluation: costs per sample in float32 as mmkd computes them (L1 in chunks of teacher rows,
 * never [K_t × K_s × D] whole), Hungarian through scipy's linear_sum_assignment, the others in
 * torch. Each returns an alignment that gathers or mixes the teacher's rows of a source view.
 */

export const MATCHING_CORE = String.raw`
class _Gather:
    """Each student token takes one teacher row (teacher_row[k] indexes the source's rows)."""

    def __init__(self, teacher_row):
        self.teacher_row = teacher_row

    def apply(self, source, student_selection):
        if isinstance(source, _TopKRows):
            return source.gather(self.teacher_row, student_selection)
        values = source.rows().detach().index_select(0, self.teacher_row.to(source.rows().device))
        return _Rows(student_selection, source.width, values=values)


class _Mix:
    """Each student token takes a weighted mix of its sample's teacher rows ([K_s, K_t] per sample)."""

    def __init__(self, weights):
        self.weights = weights

    def apply(self, source, student_selection):
        if isinstance(source, _TopKRows):
            raise InputError("a soft plan (pooling, Sinkhorn) mixes teacher rows, which top-k signals cannot be: align teacher.topk with a "
                             "one-to-one matcher (hungarian, identity, nearest)")
        rows = source.rows().detach()
        parts = []
        t_offsets = source.selection.offsets
        for b in range(student_selection.batch):
            if student_selection.counts[b] == 0:
                continue
            w = self.weights[b].to(device=rows.device, dtype=rows.dtype)
            parts.append(w @ rows[t_offsets[b]:t_offsets[b + 1]])
        values = torch.cat(parts, 0) if parts else rows.new_zeros((0, source.width))
        return _Rows(student_selection, source.width, values=values)


def _pairwise_cost(a, b, metric, probabilities, budget=2 ** 24):
    """[n, m] costs between rows of a [n, D] and b [m, D], in float32 (mmkd's pairwiseCost)."""
    x = a.float()
    y = b.float()
    if probabilities:
        x = torch.softmax(x, 1)
        y = torch.softmax(y, 1)
    if metric == "l2":
        squares = (x * x).sum(1, keepdim=True) + (y * y).sum(1, keepdim=True).t()
        return torch.sqrt(torch.relu(squares - 2 * (x @ y.t())))
    if metric == "cosine":
        return 1 - _unit_rows(x) @ _unit_rows(y).t()
    n, width = x.shape
    m = y.shape[0]
    step = max(1, budget // max(1, m * width))
    return torch.cat([(x[i:i + step, None, :] - y[None, :, :]).abs().sum(2) for i in range(0, n, step)], 0)


def _sample_costs(match, teacher, student):
    """Each sample's [K_t, K_s] cost (None where a side has no token)."""
    out = []
    metric = match.params["cost"]
    probabilities = match.params["probabilities"]
    ta, sa = teacher.rows(), student.rows()
    for b in range(student.selection.batch):
        kt = teacher.selection.counts[b]
        ks = student.selection.counts[b]
        if kt == 0 or ks == 0:
            out.append(None)
            continue
        to, so = teacher.selection.offsets[b], student.selection.offsets[b]
        out.append(_pairwise_cost(ta[to:to + kt], sa[so:so + ks], metric, probabilities))
    return out
`;

export const MATCHERS: Readonly<Record<string, string>> = {
  hungarian: String.raw`
def _match_hungarian(match, teacher, student):
    """Minimum-cost one-to-one assignment per sample (scipy's linear_sum_assignment)."""
    kt, ks = teacher.selection.counts, student.selection.counts
    for b in range(len(ks)):
        if kt[b] < ks[b]:
            raise InputError(
                match.path + ": a one-to-one matching needs at least as many teacher tokens as student tokens, but sample " + str(b)
                + " has " + str(kt[b]) + " (" + match.teacher.describe + ") and " + str(ks[b]) + " (" + match.student.describe
                + "); use the 'nearest' matcher to share teacher tokens"
            )
    teacher_row = [0] * student.selection.size
    for b, cost in enumerate(_sample_costs(match, teacher, student)):
        if cost is None:
            continue
        rows, cols = linear_sum_assignment(cost.cpu().double().numpy())
        for r, c in zip(rows.tolist(), cols.tolist()):
            teacher_row[student.selection.offsets[b] + c] = teacher.selection.offsets[b] + r
    return _Gather(torch.tensor(teacher_row, dtype=torch.long))
`,
  identity: String.raw`
def _match_identity(match, teacher, student):
    """The k-th teacher token with the k-th student token."""
    kt, ks = teacher.selection.counts, student.selection.counts
    teacher_row = []
    for b in range(len(ks)):
        if kt[b] != ks[b]:
            raise InputError(
                match.path + ": the identity matcher needs equal token counts, but sample " + str(b) + " has " + str(kt[b]) + " ("
                + match.teacher.describe + ") and " + str(ks[b]) + " (" + match.student.describe + ")"
            )
        teacher_row.extend(teacher.selection.offsets[b] + k for k in range(ks[b]))
    return _Gather(torch.tensor(teacher_row, dtype=torch.long))
`,
  nearest: String.raw`
def _match_nearest(match, teacher, student):
    """Each student token with its nearest teacher token (ties to the first)."""
    kt, ks = teacher.selection.counts, student.selection.counts
    teacher_row = [0] * student.selection.size
    for b, cost in enumerate(_sample_costs(match, teacher, student)):
        if ks[b] > 0 and kt[b] == 0:
            raise InputError(match.path + ": sample " + str(b) + " has student tokens but no teacher token to match them with")
        if cost is None:
            continue
        best = torch.argmin(cost, dim=0).tolist()
        for j, i in enumerate(best):
            teacher_row[student.selection.offsets[b] + j] = teacher.selection.offsets[b] + i
    return _Gather(torch.tensor(teacher_row, dtype=torch.long))
`,
  pool: String.raw`
def _match_pool(match, teacher, student):
    """Mean of the teacher's f×f grid block under each student token."""
    weights = []
    for b in range(student.selection.batch):
        kt = teacher.selection.counts[b]
        ks = student.selection.counts[b]
        if ks == 0:
            weights.append(torch.zeros((0, kt)))
            continue
        where = match.path + ": sample " + str(b)
        given = match.params["gridHeight"]
        height = given if given > 0 else int(math.floor(math.sqrt(kt) + 0.5))
        width = match.params["gridWidth"] if given > 0 else height
        if height * width != kt:
            raise InputError(
                where + " has " + str(kt) + " teacher tokens, which do not form a "
                + (str(height) + "×" + str(width) if given > 0 else "square") + " grid; set gridHeight and gridWidth"
            )
        factor = int(math.floor(math.sqrt(kt / ks) + 0.5))
        if factor < 1 or height % factor != 0 or width % factor != 0 or (height // factor) * (width // factor) != ks:
            raise InputError(
                where + ": " + str(ks) + " student tokens are not the " + str(height) + "×" + str(width)
                + " teacher grid pooled by a whole factor (e.g. " + _js_number((height / 2) * (width / 2)) + " for 2×2 pooling)"
            )
        w = torch.zeros((ks, kt), dtype=torch.float32)
        student_width = width // factor
        for r in range(height):
            for c in range(width):
                w[(r // factor) * student_width + c // factor, r * width + c] = 1 / (factor * factor)
        weights.append(w)
    return _Mix(weights)
`,
  sinkhorn: String.raw`
def _sinkhorn_plan(cost, epsilon, iterations):
    """[m, n] mixing weights (rows sum to 1) of the log-domain Sinkhorn plan of an n×m cost, in float64."""
    n, m = cost.shape
    c = cost.double()
    mean = float(c.mean())
    scaled = c / (mean if mean != 0 else 1.0) / epsilon
    f = torch.zeros(n, dtype=torch.float64)
    g = torch.zeros(m, dtype=torch.float64)
    log_a, log_b = -math.log(n), -math.log(m)
    for _ in range(iterations):
        f = log_a - torch.logsumexp(g[None, :] - scaled, dim=1)
        g = log_b - torch.logsumexp(f[:, None] - scaled, dim=0)
    column = f[:, None] + g[None, :] - scaled
    return torch.softmax(column, dim=0).t().float()


def _match_sinkhorn(match, teacher, student):
    """Entropic OT between uniform masses; each student token mixes the teacher tokens it is sent."""
    weights = []
    for b, cost in enumerate(_sample_costs(match, teacher, student)):
        n, m = teacher.selection.counts[b], student.selection.counts[b]
        if m > 0 and n == 0:
            raise InputError(match.path + ": sample " + str(b) + " has student tokens but no teacher token to transport from")
        weights.append(torch.zeros((0, n)) if m == 0 else _sinkhorn_plan(cost.cpu(), match.params["epsilon"], match.params["iterations"]))
    return _Mix(weights)
`,
};
