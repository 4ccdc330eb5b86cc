/**
 * The fixed part of every exported PyTorch module: input checks with mmkd's messages, token
 * selection by role (with the next-token shift), reduction weights (with `num_items_in_batch`),
 * the chunked loss over token rows (its own autograd function, so only one chunk's [chunk × V]
 * temporaries live at a time) and the non-finite diagnosis. Nothing here depends on the objective:
 * what the objective says is emitted by `export.ts` as calls into these functions, with every
 * value from the objective file written as a checked literal (`python.ts`).
 */
export const RUNTIME_CORE = String.raw`
ROLE_CODES = {"pad": 0, "prompt": 1, "visual": 2, "response": 3}
IGNORE_LABEL = -100
DEFAULT_CHUNK_BYTES = 32 * 2 ** 20
_MASS_FLOOR = 1e-30
_ROLE_CODE_NAMES = "0 pad, 1 prompt, 2 visual, 3 response"
_SIDES = ("teacher", "student")


class InputError(ValueError):
    """Bad data met while evaluating the objective (mmkd's InputError, with the same message)."""


class GraphValidationError(ValueError):
    """The objective does not fit the inputs' shapes; carries every error, as mmkd's does."""

    def __init__(self, errors, context="the objective does not fit these inputs"):
        self.errors = list(errors)
        super().__init__(context + ":\n" + "\n".join("  - " + (p + ": " + m if p else m) for p, m in self.errors))


class Result(NamedTuple):
    """The loss and each named term's contribution to it (weights applied)."""

    loss: torch.Tensor
    terms: Dict[str, torch.Tensor]


def _shape(shape):
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _js_number(x):
    """A number as JavaScript prints it (NaN, Infinity), as mmkd's messages show it."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == int(x) and abs(x) < 1e21:
        return str(int(x))
    return repr(x)


def _at(i, length):
    return "[" + str(i // length) + ", " + str(i % length) + "]"


def _compute_dtype(t):
    return torch.float64 if t.dtype == torch.float64 else torch.float32


class _Signals:
    """A teacher's offline top-k signals: ids [B, T, k], log-probs [B, T, k] at temperature, log
    tail mass [B, T], over a vocabulary of vocab ids."""

    def __init__(self, ids, logprobs, log_tail, vocab, temperature):
        self.ids = ids
        self.logprobs = logprobs
        self.log_tail = log_tail
        self.vocab = vocab
        self.temperature = temperature


class _Side:
    """One side's outputs: logits or an LM head (weight, bias) with hidden states, or (the
    teacher's) offline top-k signals, and roles."""

    def __init__(self, name, logits, hidden, head_weight, head_bias, roles, signals=None):
        self.name = name
        self.logits = logits
        self.hidden = hidden
        self.head_weight = head_weight
        self.head_bias = head_bias
        self.roles = roles
        self.signals = signals
        self.codes = None

    @property
    def has_head(self):
        return self.head_weight is not None

    @property
    def has_topk(self):
        return self.signals is not None

    @property
    def logits_roles(self):
        """With signals and logits beside them: the roles whose positions the logits hold."""
        return list(self.signals.logits_roles) if self.has_topk and self.logits is not None else None

    def field(self, name):
        return self.logits if name == "logits" else self.hidden

    def logits_shape(self):
        if self.has_topk:
            return [int(self.signals.ids.shape[0]), int(self.signals.ids.shape[1]), int(self.signals.vocab)]
        if self.has_head:
            return [int(self.hidden.shape[0]), int(self.hidden.shape[1]), int(self.head_weight.shape[0])]
        return [int(d) for d in self.logits.shape]

    def field_shape(self, name):
        if name == "topk":
            return self.logits_shape() if self.has_topk else None
        if name == "logits":
            if self.has_topk:
                return None if self.logits is None else [int(d) for d in self.logits.shape]
            return self.logits_shape()
        return None if self.hidden is None else [int(d) for d in self.hidden.shape]


def _check_heads(sides):
    for s in sides:
        if s.has_topk:
            if s.has_head:
                raise InputError(s.name + " has top-k signals beside an LM head: give one")
            _check_signals(s.signals)
            if s.logits is not None:
                want = s.logits_shape()
                if list(s.logits.shape) != want:
                    raise InputError(s.name + ".logits beside top-k signals must be " + _shape(want) + " (the signals' positions and vocabulary), got " + _shape(s.logits.shape))
                stored = s.signals.logits_roles
                if stored is None or isinstance(stored, str) or len(stored) == 0:
                    raise InputError(s.name + ".logits beside top-k signals need logitsRoles: the roles whose positions they hold")
                bad = [r for r in stored if r not in ROLE_CODES]
                if bad:
                    raise InputError(s.name + "_logits_roles holds " + repr(bad[0]) + ": roles are " + ", ".join(ROLE_CODES))
            continue
        if s.head_weight is None:
            if s.head_bias is not None:
                raise InputError(s.name + ".head.weight [V, H] is missing")
            if s.logits is None:
                raise InputError(s.name + " has neither logits nor an LM head (head: { weight, bias? } with hidden)")
            continue
        if s.logits is not None:
            raise InputError(s.name + " has both logits and an LM head: give one (the head's logits are its view)")
        if s.hidden is None:
            raise InputError(s.name + ".head needs " + s.name + ".hidden [B, T, H], the states it multiplies")
        h = s.hidden.shape[2] if s.hidden.dim() == 3 else None
        if s.hidden.dim() != 3:
            raise InputError(s.name + ".hidden must be [B, T, H], got " + _shape(s.hidden.shape))
        w = s.head_weight
        if w.dim() != 2 or w.shape[1] != h:
            raise InputError(
                s.name + ".head.weight must be [V, " + str(h) + "] (V × the width of " + s.name + ".hidden "
                + _shape(s.hidden.shape) + "), got " + _shape(w.shape)
            )
        b = s.head_bias
        if b is not None and (b.dim() != 1 or b.shape[0] != w.shape[0]):
            raise InputError(
                s.name + ".head.bias must be [" + str(int(w.shape[0])) + "] (one entry per row of " + s.name
                + ".head.weight), got " + _shape(b.shape)
            )


def _signals_of(name, ids, logprobs, log_tail, vocab, temperature, logits_roles=None):
    """The teacher's signals from forward's arguments, or None when none is given."""
    given = {"teacher_topk_ids": ids, "teacher_topk_logprobs": logprobs, "teacher_tail_logmass": log_tail,
             "teacher_topk_vocab": vocab, "teacher_topk_temperature": temperature}
    if all(v is None for v in given.values()):
        return None
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise InputError(name + ".topk: offline top-k signals need " + ", ".join(given) + "; missing: " + ", ".join(missing))
    signals = _Signals(ids, logprobs, log_tail, vocab, temperature)
    signals.logits_roles = logits_roles
    return signals


def _check_signals(signals):
    """mmkd's checks of offline signals: shapes, 1 ≤ k ≤ V, temperature > 0, then the values (ids in
    the vocabulary and distinct at a position, log-probs ≤ 0 and descending, log tail mass ≤ 0)."""
    ids = signals.ids
    if not isinstance(ids, torch.Tensor) or ids.dim() != 3:
        shape = list(ids.shape) if isinstance(ids, torch.Tensor) else []
        raise InputError("teacher.topk.shape must be [B, T, k] of whole numbers, got [" + ",".join(str(int(d)) for d in shape) + "]")
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise InputError("teacher.topk.ids must be an integer tensor [B, T, k], got a " + str(ids.dtype).replace("torch.", "") + " tensor " + _shape(ids.shape))
    batch, length, k = (int(d) for d in ids.shape)
    vocab = signals.vocab
    vocab = vocab.item() if isinstance(vocab, torch.Tensor) else vocab
    if isinstance(vocab, float) and vocab == int(vocab):
        vocab = int(vocab)
    elif not isinstance(vocab, (int, float)) and hasattr(vocab, "__index__"):
        vocab = int(vocab.__index__())  # a numpy integer (a manifest read with numpy)
    if not isinstance(vocab, int) or k < 1 or k > vocab:
        raise InputError("teacher.topk: k = " + str(k) + " must be in [1, V], V = " + _js_number(vocab))
    temperature = signals.temperature
    temperature = float(temperature.item() if isinstance(temperature, torch.Tensor) else temperature)
    if not (temperature > 0) or not math.isfinite(temperature):
        raise InputError("teacher.topk.temperature must be a finite number > 0, got " + _js_number(temperature))
    for name, value, n in (("logProbs", signals.logprobs, batch * length * k), ("logTail", signals.log_tail, batch * length)):
        if not isinstance(value, torch.Tensor) or not value.dtype.is_floating_point:
            raise InputError("teacher.topk." + name + " must be a float tensor, got " + (type(value).__name__ if not isinstance(value, torch.Tensor) else "a " + str(value.dtype).replace("torch.", "") + " tensor"))
        if value.numel() != n:
            raise InputError("teacher.topk." + name + " has " + str(value.numel()) + " entries, but teacher.topk.shape " + _shape(ids.shape) + " needs " + str(n))
    signals.vocab = vocab
    signals.temperature = temperature
    signals.ids = ids.to(torch.long)
    signals.logprobs = signals.logprobs.reshape(batch, length, k)
    signals.log_tail = signals.log_tail.reshape(batch, length)

    def entry(i):
        return "[" + str(i // k // length) + ", " + str(i // k % length) + ", " + str(i % k) + "]"

    def first(bad):
        found = bad.reshape(-1).nonzero()
        return None if found.numel() == 0 else int(found[0])

    flat_ids = signals.ids.reshape(-1)
    i = first((flat_ids < 0) | (flat_ids >= vocab))
    if i is not None:
        raise InputError("teacher.topk.ids holds " + str(int(flat_ids[i])) + " at " + entry(i) + ": outside the vocabulary [0, " + str(vocab) + ")")
    if k > 1:
        ordered = signals.ids.reshape(-1, k).sort(dim=1).values
        p = first((ordered[:, 1:] == ordered[:, :-1]).any(1))
        if p is not None:
            seen = set()
            for v in signals.ids.reshape(-1, k)[p].tolist():
                if v in seen:
                    raise InputError("teacher.topk.ids holds " + str(v) + " twice at " + _at(p, length) + ": the top k ids of a position are distinct")
                seen.add(v)
    lp = signals.logprobs.detach().reshape(-1, k)
    flat_lp = lp.reshape(-1)
    i = first(~(flat_lp <= 0))
    if i is not None:
        raise InputError("teacher.topk.logProbs holds " + _js_number(flat_lp[i]) + " at " + entry(i) + ": log-probabilities are ≤ 0")
    if k > 1:
        i = first(lp[:, 1:] > lp[:, :-1])
        if i is not None:
            p, j = i // (k - 1), i % (k - 1) + 1
            raise InputError("teacher.topk.logProbs at " + _at(p, length) + ": entry " + str(j) + " (" + _js_number(lp[p, j]) + ") > entry "
                             + str(j - 1) + " (" + _js_number(lp[p, j - 1]) + "); log-probs must be sorted in descending order")
    tail = signals.log_tail.detach().reshape(-1)
    p = first(~(tail <= 0))
    if p is not None:
        raise InputError("teacher.topk.logTail holds " + _js_number(tail[p]) + " at " + _at(p, length) + ": the tail mass is at most 1 (its log ≤ 0)")


def _check_side_shapes(sides, errors):
    """mmkd's generic shape checks: rank 3, one batch size, one length per side."""
    batch = None
    for s in sides:
        length = None
        for field in ("logits", "hidden", "topk"):
            shape = s.field_shape(field)
            if shape is None:
                continue
            name = s.name + "." + field
            if len(shape) != 3:
                errors.append((name, "must have shape [B, T, " + ("H" if field == "hidden" else "V") + "], got " + _shape(shape)))
                continue
            if batch is None:
                batch = (shape[0], name)
            elif shape[0] != batch[0]:
                errors.append((name, "batch size " + str(shape[0]) + " differs from " + batch[1] + "'s " + str(batch[0])))
            if length is None:
                length = (shape[1], name)
            elif shape[1] != length[0]:
                errors.append((name, "sequence length " + str(shape[1]) + " differs from " + length[1] + "'s " + str(length[0])))


def _integer_codes(name, value, batch, length, against):
    if not isinstance(value, torch.Tensor):
        raise InputError(name + " must be an integer tensor [B, T], got a " + type(value).__name__)
    if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
        raise InputError(name + " must be an integer tensor [B, T], got a " + str(value.dtype).replace("torch.", "") + " tensor " + _shape(value.shape))
    if value.numel() != batch * length:
        raise InputError(
            name + " has " + str(value.numel()) + " entries, but " + against + " is [" + str(batch) + ", " + str(length)
            + ", …] (needs " + str(batch * length) + ")"
        )
    return value.reshape(batch, length).to(torch.long)


def _check_roles(side):
    batch, length = side.logits_shape()[:2]
    if side.roles is None:
        raise InputError(side.name + ".roles is missing: give roles [B, T] (or teacher_roles and student_roles), codes " + _ROLE_CODE_NAMES)
    codes = _integer_codes(side.name + ".roles", side.roles, batch, length, side.name + ".logits")
    bad = ((codes < 0) | (codes > 3)).reshape(-1).nonzero()
    if bad.numel() > 0:
        i = int(bad[0])
        raise InputError(side.name + ".roles holds " + str(int(codes.reshape(-1)[i])) + " at " + _at(i, length) + ": codes are " + _ROLE_CODE_NAMES)
    side.codes = codes


def _check_labels(labels, student):
    batch, length, vocab = student.logits_shape()
    ids = _integer_codes("labels", labels, batch, length, "student.logits")
    flat = ids.reshape(-1)
    bad = ((flat != IGNORE_LABEL) & ((flat < 0) | (flat >= vocab))).nonzero()
    if bad.numel() > 0:
        i = int(bad[0])
        raise InputError(
            "labels holds " + str(int(flat[i])) + " at " + _at(i, length) + ": outside the vocabulary [0, " + str(vocab)
            + ") of student.logits (use " + str(IGNORE_LABEL) + " to skip a position)"
        )
    return ids


class _View:
    """A view: the positions of a side whose role (at t + shift) is one of the roles."""

    def __init__(self, side, field, roles, shift, describe, missing_mass=None):
        self.side = side
        self.field = field
        self.codes = tuple(ROLE_CODES[r] for r in roles)
        self.shift = shift
        self.describe = describe
        self.missing_mass = missing_mass
        self.key = ("view", side, field, self.codes, shift, missing_mass)


class _Aligned:
    """The teacher's rows of source, lined up with the student's tokens of a matcher."""

    def __init__(self, match, source, describe):
        self.match = match
        self.source = source
        self.describe = describe
        self.key = ("aligned", match.key, source.key)


class _Match:
    def __init__(self, method, path, teacher, student, params):
        self.method = method
        self.path = path
        self.teacher = teacher
        self.student = student
        self.params = params
        self.key = ("match", method, teacher.key, student.key, tuple(sorted(params.items())))


class _Selection:
    """Selected positions (flat b·T + t, row-major) and per-sample counts and offsets."""

    def __init__(self, positions, counts, batch, length):
        self.positions = positions
        self.counts = counts
        self.offsets = [0]
        for c in counts:
            self.offsets.append(self.offsets[-1] + c)
        self.batch = batch
        self.length = length

    @property
    def size(self):
        return self.offsets[-1]


def _select(codes, wanted, shift):
    batch, length = codes.shape
    if length - shift <= 0:
        return _Selection(codes.new_zeros(0, dtype=torch.long), [0] * batch, batch, length)
    mask = torch.isin(codes[:, shift:], torch.tensor(wanted, dtype=codes.dtype, device=codes.device))
    b, t = mask.nonzero(as_tuple=True)
    return _Selection(b * length + t, [int(c) for c in mask.sum(1).tolist()], batch, length)


class _Rows:
    """The selected rows of a token expression: rows of a flat [B·T, D] source, materialised rows
    (an aligned expression), or an LM head's logits (hidden rows and the head)."""

    def __init__(self, selection, width, flat=None, values=None, head=None):
        self.selection = selection
        self.width = width
        self.flat = flat
        self.values = values
        self.head = head

    def rows(self, r0=0, r1=None):
        """Rows r0 … r1−1, differentiable; never for a head's logits."""
        r1 = self.selection.size if r1 is None else r1
        if self.values is not None:
            return self.values[r0:r1]
        return self.flat.index_select(0, self.selection.positions[r0:r1])

    def logits(self, r0, r1, vocab):
        """Rows r0 … r1−1 of logits, first vocab columns (a head's are made here)."""
        if self.head is not None:
            hidden, weight, bias = self.head
            z = hidden.index_select(0, self.selection.positions[r0:r1]) @ weight[:vocab].t()
            return z if bias is None else z + bias[:vocab]
        return self.rows(r0, r1)[:, :vocab]

    def anchor(self):
        """A tensor the rows depend on, for a zero with a gradient path (an empty selection)."""
        if self.head is not None:
            return self.head[0]
        return self.values if self.values is not None else self.flat


class _TopKRows:
    """The selected positions' offline top-k signals: ids [n, k] (int64), log-probs [n, k] and log
    tail mass [n], read under the view's missing-mass policy; width is the signals' vocabulary."""

    def __init__(self, selection, width, ids, logprobs, log_tail, missing_mass):
        self.selection = selection
        self.width = width
        self.ids = ids
        self.logprobs = logprobs
        self.log_tail = log_tail
        self.missing_mass = missing_mass
        self.head = None

    @property
    def k(self):
        return int(self.ids.shape[1])

    def gather(self, rows, student_selection):
        """Row rows[i] for each student token i (a one-to-one or nearest matching)."""
        rows = rows.to(self.ids.device)
        return _TopKRows(student_selection, self.width, self.ids.index_select(0, rows), self.logprobs.index_select(0, rows),
                         self.log_tail.index_select(0, rows), self.missing_mass)


def _zero_of(t):
    return t.reshape(-1)[:0].sum() * 0


class _ChunkedRowsLoss(torch.autograd.Function):
    """Σ over chunks of rows of a loss, with only one chunk's temporaries alive at a time: the
    forward pass keeps no graph; the backward pass recomputes each chunk on leaves made from the
    chunk's rows and adds their gradients into the inputs' (index_add over the positions)."""

    @staticmethod
    def forward(ctx, spec, *tensors):
        ctx.spec = spec
        ctx.save_for_backward(*tensors)
        total = None
        for r0, r1 in spec.chunks:
            v = spec.value(spec.leaves(tensors, r0, r1), r0, r1)
            total = v if total is None else total + v
        return total

    @staticmethod
    def backward(ctx, dy):
        spec = ctx.spec
        tensors = ctx.saved_tensors
        grads = [torch.zeros_like(t) if ctx.needs_input_grad[i + 1] else None for i, t in enumerate(tensors)]
        for r0, r1 in spec.chunks:
            with torch.enable_grad():
                leaves = [leaf.detach().requires_grad_(True) for leaf in spec.leaves(tensors, r0, r1)]
                value = spec.value(leaves, r0, r1)
                parts = torch.autograd.grad(value, leaves, allow_unused=True)
            spec.scatter(grads, parts, r0, r1)
        # In place: another [B, T, V] for the product would double the gradient's memory.
        return (None, *[None if g is None else g.mul_(dy) for g in grads])


class _StudentRowsSpec:
    """What _ChunkedRowsLoss differentiates: the student's rows (materialised logits [B, T, V], or
    an LM head's hidden states, weight and bias), chunk by chunk; per_chunk(z, r0, r1) gives the
    chunk's weighted loss from its logits z [n, vocab]."""

    def __init__(self, rows, vocab, chunk, per_chunk):
        self.rows = rows
        self.vocab = vocab
        n = rows.selection.size
        self.chunks = [(r, min(n, r + chunk)) for r in range(0, n, chunk)]
        self.per_chunk = per_chunk
        self.positions = rows.selection.positions

    def tensors(self):
        if self.rows.head is not None:
            hidden, weight, bias = self.rows.head_inputs
            return (hidden, weight) if bias is None else (hidden, weight, bias)
        return (self.rows.source_input,)

    def leaves(self, tensors, r0, r1):
        pos = self.positions[r0:r1]
        first = tensors[0].reshape(-1, tensors[0].shape[-1]).index_select(0, pos)
        return [first, *tensors[1:]]

    def value(self, leaves, r0, r1):
        if self.rows.head is not None:
            z = leaves[0] @ leaves[1][: self.vocab].t()
            if len(leaves) > 2:
                z = z + leaves[2][: self.vocab]
        else:
            z = leaves[0][:, : self.vocab]
        return self.per_chunk(z, r0, r1)

    def scatter(self, grads, parts, r0, r1):
        pos = self.positions[r0:r1]
        if grads[0] is not None and parts[0] is not None:
            g = grads[0]
            g.reshape(-1, g.shape[-1]).index_add_(0, pos, parts[0].to(g.dtype))
        for i in range(1, len(grads)):
            if grads[i] is not None and parts[i] is not None:
                grads[i].add_(parts[i].to(grads[i].dtype))


def _chunk_rows(vocab, element_bytes, chunk_bytes, n):
    return max(1, min(max(n, 1), chunk_bytes // max(1, vocab * element_bytes)))


def _reduction_weights(run, path, selection, reduction, device):
    """Per-row weights w (float32) with loss Σ w_i ℓ_i: mean 1/N, sum 1, sampleMean 1/(n_b·B′),
    where N (or B′) is this call's count, or the global one given as num_items_in_batch."""
    n = selection.size
    if reduction == "sum":
        return torch.ones(n, dtype=torch.float32, device=device)
    if reduction == "mean":
        return torch.full((n,), 1.0 / run.items_for(path, n), dtype=torch.float32, device=device)
    non_empty = run.items_for(path, sum(1 for c in selection.counts if c > 0))
    w = [1.0 / (c * non_empty) for c in selection.counts for _ in range(c)]
    return torch.tensor(w, dtype=torch.float64, device=device).to(torch.float32)


class _Run:
    """One evaluation: the checked inputs, the rows of each token expression and each matcher's
    alignment (computed once), and the global item counts if given."""

    def __init__(self, module, sides, labels, num_items_in_batch):
        self.module = module
        self.teacher, self.student = sides
        self.labels = labels
        self.items = num_items_in_batch
        self.counted = None
        self.memo = {}

    def side(self, name):
        return self.teacher if name == "teacher" else self.student

    def items_for(self, path, local):
        """What the mean of the loss at path divides by: local (this call's count), or the global
        count given as num_items_in_batch (one number for every loss, or a dict by loss path)."""
        if self.counted is not None:
            self.counted[path] = local
            return local
        if self.items is None:
            return local
        if isinstance(self.items, dict):
            if path not in self.items:
                raise InputError(path + ": num_items_in_batch has no count for this loss (its keys: " + ", ".join(sorted(self.items)) + ")")
            value = self.items[path]
        else:
            value = self.items
        value = float(value.item()) if isinstance(value, torch.Tensor) else float(value)
        if not value > 0:
            raise InputError(path + ": num_items_in_batch must be > 0, got " + _js_number(value))
        return value

    def selection(self, view):
        key = ("selection", view.side, view.codes, view.shift)
        if key not in self.memo:
            self.memo[key] = _select(self.side(view.side).codes, view.codes, view.shift)
        return self.memo[key]

    def rows(self, expr):
        if expr.key in self.memo:
            return self.memo[expr.key]
        if isinstance(expr, _View):
            side = self.side(expr.side)
            selection = self.selection(expr)
            if expr.field == "topk":
                signals = side.signals
                k = int(signals.ids.shape[2])
                positions = selection.positions.to(signals.ids.device)
                rows = _TopKRows(selection, signals.vocab, signals.ids.reshape(-1, k).index_select(0, positions),
                                 signals.logprobs.detach().reshape(-1, k).index_select(0, positions),
                                 signals.log_tail.detach().reshape(-1).index_select(0, positions), expr.missing_mass)
            elif expr.field == "logits" and side.has_head:
                hidden = side.hidden.reshape(-1, side.hidden.shape[-1])
                rows = _Rows(selection, int(side.head_weight.shape[0]), head=(hidden, side.head_weight, side.head_bias))
                rows.head_inputs = (side.hidden, side.head_weight, side.head_bias)
            else:
                source = side.field(expr.field)
                rows = _Rows(selection, int(source.shape[-1]), flat=source.reshape(-1, source.shape[-1]))
                rows.source_input = source
        else:
            rows = self.alignment(expr.match).apply(self.rows(expr.source), self.selection(expr.match.student))
        self.memo[expr.key] = rows
        return rows

    def alignment(self, match):
        key = ("alignment", match.key)
        if key not in self.memo:
            # The rows outside no_grad: they are memoised, and a loss may read the same view.
            teacher = self.rows(match.teacher)
            student = self.rows(match.student)
            with torch.no_grad():
                self.memo[key] = _MATCHERS[match.method](match, teacher, student)
        return self.memo[key]

    def labels_at(self, view):
        selection = self.selection(view)
        return self.labels.reshape(-1).index_select(0, selection.positions + view.shift)

    def same_counts(self, a, b, ea, eb, path):
        for s, (ca, cb) in enumerate(zip(a.selection.counts, b.selection.counts)):
            if ca != cb:
                raise InputError(
                    path + ": " + ea.describe + " selects " + str(ca) + " tokens in sample " + str(s) + " but " + eb.describe
                    + " selects " + str(cb) + "; paired tokens must line up one to one"
                )


def _assert_finite(x, name):
    if x is None or x.numel() == 0:
        return
    finite = torch.isfinite(x)
    if bool(finite.all()):
        return
    i = int((~finite).reshape(-1).nonzero()[0])
    index = []
    rest = i
    for d in reversed(list(x.shape)):
        index.insert(0, rest % d)
        rest //= d
    value = float(x.reshape(-1)[i])
    raise InputError(name + " " + _shape(x.shape) + " holds " + _js_number(value) + " at index [" + ", ".join(str(k) for k in index) + "]")


def _diagnose_non_finite(sides, loss, terms):
    for s in sides:
        _assert_finite(s.logits, s.name + ".logits")
        if s.has_head:
            _assert_finite(s.head_weight, s.name + ".head.weight")
            _assert_finite(s.head_bias, s.name + ".head.bias")
        _assert_finite(s.hidden, s.name + ".hidden")
    bad = [(n, float(v)) for n, v in terms.items() if not math.isfinite(float(v))]
    message = "the loss is " + _js_number(loss) + " although every input is finite"
    if bad:
        message += "; non-finite terms: " + ", ".join(n + " = " + _js_number(v) for n, v in bad)
    raise InputError(message)


def _prepare(teacher, student, labels):
    """mmkd's input checks, in its order: LM heads, then (after the shape validation) roles and labels."""
    sides = (teacher, student)
    _check_heads(sides)
    return sides


def _check_host_arrays(teacher, student, labels):
    for s in (teacher, student):
        _check_roles(s)
    return None if labels is None else _check_labels(labels, student)
`;
