import { objective, weighted } from '../core/combinators.js';
import type { ScalarNode } from '../core/graph.js';
import { lossesOf } from '../core/traverse.js';
import { student as s, teacher as t } from '../core/views.js';
import { kl, supervisedCE } from '../losses/index.js';
import { type EmKdMatching, type EmKdOptions, emKdObjective } from './objectives/em-kd.js';
import { LLAVA_KD_PAPER_WEIGHTS, type LlavaKdTerms, llavaKdObjective } from './objectives/llava-kd.js';
import type { Recipe, Stage, StageData } from './recipe.js';

/**
 * Steps and batch sizes of each kind of stage. The papers train one epoch of 558k/665k samples
 * on 8 GPUs; these are scaled to a few minutes on two CPU cores (see `mmkd demo`), keeping the
 * papers' proportions: a short pre-training of the projector, a longer fine-tuning.
 */
export interface RecipeScale {
  /** The teacher's instruction tuning (longer: it must be good before anyone learns from it). */
  readonly teacherSteps: number;
  readonly lmSteps: number;
  readonly ptSteps: number;
  readonly sftSteps: number;
  readonly dftSteps: number;
  readonly batchSize: number;
  /**
   * Steps of the teacher's grounding stage between PT and SFT (`groundingObjective`, on `cells`
   * data); absent or 0: no such stage. The continuous world's teacher has one (`scaleFor`); the
   * grid world's recipes are unchanged.
   */
  readonly groundSteps?: number;
}

/** The full recipes (`mmkd run`, `npm run results`): the scale `RESULTS.md` reports. */
export const DEFAULT_SCALE: RecipeScale = { teacherSteps: 8000, lmSteps: 300, ptSteps: 150, sftSteps: 600, dftSteps: 300, batchSize: 32 };

/** A tiny version for CI and smoke tests (`--quick`). */
export const QUICK_SCALE: RecipeScale = { teacherSteps: 24, lmSteps: 12, ptSteps: 6, sftSteps: 12, dftSteps: 6, batchSize: 8 };

/** Cross-entropy on the response (the papers' L_reg / L_sup / L_PT). */
export const supervisedObjective = (): ScalarNode => objective({ ce: supervisedCE(s.logits.next('response')) });

/**
 * The teacher's grounding objective: the caption's cross-entropy, plus cross-entropy of the logits
 * at each visual position against the word for what lies under that token (its shape), where an
 * object covers it. Answer supervision alone left the continuous teacher's shape answers at chance
 * through 3300 SFT steps while its colour answers reached 87 % (models/README.md): the encoder
 * gets a gradient for shape only through the answer to a question about one object. Dense labels
 * give it one at every token an object covers. (Visual tokens whose logits name the object under
 * them are what logit-lens studies of LLaVA report, so the teacher's visual logits, which MDist,
 * RDist and EM-KD's matching read, carry what it sees.)
 */
export const groundingObjective = (): ScalarNode => objective({ cells: supervisedCE(s.logits.at('visual')), ce: supervisedCE(s.logits.next('response')) });

/** Next-token cross-entropy on every text token, for pre-training the LM on text. */
export const languageModelObjective = (): ScalarNode => objective({ lm: supervisedCE(s.logits.next('prompt', 'response')) });

function stage(name: string, data: StageData, trainable: Stage['trainable'], objectiveNode: ScalarNode, steps: number, lr: number, scale: RecipeScale): Stage {
  return { name, data, trainable, objective: objectiveNode, steps, batchSize: scale.batchSize, lr, warmupRatio: 0.03, weightDecay: 0, clipNorm: 1 };
}

/** Learning rates: pre-training the projector at 1e-3 (as TinyLLaVA and LLaVA-KD), fine-tuning lower. */
const LR = { lm: 1e-3, pt: 1e-3, sft: 1e-3, dft: 3e-4 } as const;

const lmStage = (s: RecipeScale) => stage('lm', 'text', ['llm'], languageModelObjective(), s.lmSteps, LR.lm, s);
const ptStage = (s: RecipeScale) => stage('pt', 'caption', ['projector'], supervisedObjective(), s.ptSteps, LR.pt, s);
const sftStage = (s: RecipeScale) => stage('sft', 'mix', ['projector', 'llm'], supervisedObjective(), s.sftSteps, LR.sft, s);
const dptStage = (s: RecipeScale, terms: LlavaKdTerms = { mdist: true, rdist: true }) =>
  stage('dpt', 'caption', ['projector'], llavaKdObjective(LLAVA_KD_PAPER_WEIGHTS, terms), s.ptSteps, LR.pt, s);
const dftStage = (s: RecipeScale, terms: LlavaKdTerms = { mdist: true, rdist: true }) =>
  stage('dft', 'mix', ['projector', 'llm'], llavaKdObjective(LLAVA_KD_PAPER_WEIGHTS, terms), s.dftSteps, LR.dft, s);
/**
 * DFT in place of SFT (Table 2's PT+DFT and DPT+DFT): the only fine-tuning stage, so it gets SFT's
 * steps and learning rate, as the paper's DFT runs on SFT's data with SFT's settings. The shorter,
 * gentler `dftStage` follows an SFT stage.
 */
const dftInsteadOfSftStage = (s: RecipeScale) =>
  stage('dft', 'mix', ['projector', 'llm'], llavaKdObjective(LLAVA_KD_PAPER_WEIGHTS, { mdist: true, rdist: true }), s.sftSteps, LR.sft, s);

const suffix = (terms: LlavaKdTerms) => (terms.mdist && terms.rdist ? '' : terms.mdist ? '-mdist' : '-rdist');

/** Every recipe mmkd ships, by name. */
export function recipes(scale: RecipeScale = DEFAULT_SCALE): ReadonlyMap<string, Recipe> {
  const student = (name: string, description: string, stages: Stage[], paperRow?: string): Recipe => ({
    name,
    description,
    model: 'student',
    visionFromTeacher: true,
    needsTeacher: stages.some((st) => readsTeacher(st.objective)),
    stages,
    ...(paperRow ? { paperRow } : {}),
    ...(name === 'baseline' ? {} : { baseline: 'baseline' }),
  });
  const efficientStages = (phase2: ScalarNode): Stage[] => [
    lmStage(scale),
    stage('phase1', 'caption', ['projector'], supervisedObjective(), scale.ptSteps, LR.pt, scale),
    stage('phase2', 'mix', ['projector', 'llm'], phase2, scale.sftSteps, LR.sft, scale),
  ];
  const emkd = (name: string, options: EmKdOptions & { readonly matching: EmKdMatching }, paperRow: string, baseline: string, what?: string): Recipe => ({
    name,
    description: `EM-KD: the efficient student (2×2-pooled vision tokens); phase 1 trains the projector on captions, phase 2 distils with ${what ?? `${options.matching} matching`}`,
    model: 'efficient',
    visionFromTeacher: true,
    needsTeacher: true,
    stages: efficientStages(emKdObjective(options)),
    paperRow,
    baseline,
  });
  const all: Recipe[] = [
    {
      name: 'teacher',
      description:
        (scale.groundSteps ?? 0) > 0
          ? 'the teacher (l-MLLM): LM pre-training, PT (projector), grounding (the shape under each vision token, with captions), SFT (vision encoder, projector and LM)'
          : 'the teacher (l-MLLM): LM pre-training, PT (projector), SFT (vision encoder, projector and LM)',
      model: 'teacher',
      visionFromTeacher: false,
      needsTeacher: false,
      stages: [
        lmStage(scale),
        ptStage(scale),
        ...((scale.groundSteps ?? 0) > 0
          ? [stage('ground', 'cells', ['vision', 'projector', 'llm'], groundingObjective(), scale.groundSteps!, LR.sft, scale)]
          : []),
        stage('sft', 'mix', ['vision', 'projector', 'llm'], supervisedObjective(), scale.teacherSteps, LR.sft, scale),
      ],
      paperRow: 'teacher',
    },
    student(
      'baseline',
      'the baseline student: PT + SFT without a teacher (TinyLLaVA)',
      [lmStage(scale), ptStage(scale), sftStage(scale)],
      'LLaVA-KD Table 2: PT+SFT',
    ),
    student(
      'llava-kd',
      'LLaVA-KD: DPT → SFT → DFT with MDist and RDist',
      [lmStage(scale), dptStage(scale), sftStage(scale), dftStage(scale)],
      'LLaVA-KD Table 2: DPT+SFT+DFT',
    ),
    student(
      'llava-kd-pt-dft',
      'LLaVA-KD ablation: PT + DFT (distillation only in fine-tuning)',
      [lmStage(scale), ptStage(scale), dftInsteadOfSftStage(scale)],
      'LLaVA-KD Table 2: PT+DFT',
    ),
    student('llava-kd-dpt-sft', 'LLaVA-KD ablation: DPT + SFT', [lmStage(scale), dptStage(scale), sftStage(scale)], 'LLaVA-KD Table 2: DPT+SFT'),
    student(
      'llava-kd-dpt-dft',
      'LLaVA-KD ablation: DPT + DFT (no SFT)',
      [lmStage(scale), dptStage(scale), dftInsteadOfSftStage(scale)],
      'LLaVA-KD Table 2: DPT+DFT',
    ),
    ...(
      [
        { mdist: true, rdist: false },
        { mdist: false, rdist: true },
      ] as const
    ).flatMap((terms) => [
      student(
        `llava-kd-dpt${suffix(terms)}-sft`,
        `LLaVA-KD ablation: DPT with ${terms.mdist ? 'MDist' : 'RDist'} only, then SFT`,
        [lmStage(scale), dptStage(scale, terms), sftStage(scale)],
        `LLaVA-KD Table 3: DPT ${terms.mdist ? 'MDist' : 'RDist'} only + SFT`,
      ),
      student(
        `llava-kd-dft${suffix(terms)}`,
        `LLaVA-KD ablation: DPT (both) → SFT → DFT with ${terms.mdist ? 'MDist' : 'RDist'} only`,
        [lmStage(scale), dptStage(scale), sftStage(scale), dftStage(scale, terms)],
        `LLaVA-KD Table 3: DFT ${terms.mdist ? 'MDist' : 'RDist'} only`,
      ),
    ]),
    emkd('em-kd', { matching: 'hungarian-logits' }, 'EM-KD ablation: Hungarian by logits (and incremental: +RLD)', 'em-kd-baseline'),
    emkd('em-kd-hidden', { matching: 'hungarian-hidden' }, 'EM-KD ablation: Hungarian by hidden states', 'em-kd-baseline'),
    emkd('em-kd-pool', { matching: 'pool' }, 'EM-KD ablation: average pooling', 'em-kd-baseline'),
    // EM-KD's incremental ablation, in its table's order: baseline → +VLAD → +VSD → +RLD (= em-kd).
    emkd(
      'em-kd-vlad',
      { matching: 'hungarian-logits', terms: { rld: false, vsd: false, vlad: true } },
      'EM-KD incremental ablation: +VLAD',
      'em-kd-baseline',
      'cross-entropy and VLAD only (Hungarian matching on vision logits)',
    ),
    emkd(
      'em-kd-vlad-vsd',
      { matching: 'hungarian-logits', terms: { rld: false, vsd: true, vlad: true } },
      'EM-KD incremental ablation: +VSD',
      'em-kd-vlad',
      'cross-entropy, VLAD and VSD, no RLD (Hungarian matching on vision logits)',
    ),
    {
      name: 'em-kd-baseline',
      description: 'the efficient student without a teacher: phase 1 and phase 2 with cross-entropy only',
      model: 'efficient',
      visionFromTeacher: true,
      needsTeacher: false,
      stages: efficientStages(supervisedObjective()),
      paperRow: 'EM-KD: efficient baseline',
    },
    {
      name: 'full-token',
      description:
        "the full-token student: the efficient student's model without pooling (as many vision tokens as the teacher), trained as em-kd-baseline, without a teacher",
      model: 'full-token',
      visionFromTeacher: true,
      needsTeacher: false,
      stages: efficientStages(supervisedObjective()),
      paperRow: 'EM-KD: vanilla full-token model',
      baseline: 'em-kd-baseline',
    },
    student(
      'minillm',
      'MiniLLM-style: PT + SFT, then distillation with the reverse KL on response tokens only',
      [
        lmStage(scale),
        ptStage(scale),
        sftStage(scale),
        stage(
          'rkd',
          'mix',
          ['projector', 'llm'],
          objective({
            ce: weighted(0.5, supervisedCE(s.logits.next('response'))),
            rkl: weighted(0.5, kl.reverse(t.logits.next('response'), s.logits.next('response'))),
          }),
          scale.dftSteps,
          LR.dft,
          scale,
        ),
      ],
      'EM-KD comparison: MiniLLM',
    ),
  ];
  return new Map(all.map((r) => [r.name, r]));
}

/** A paired comparison of two recipes: `recipe` minus `against`, seed by seed and question by question. */
export interface Comparison {
  readonly recipe: string;
  readonly against: string;
  /** One of the second study's primary comparisons (RESULTS.md, "Design of the second study"). */
  readonly primary: boolean;
}

/**
 * The comparisons the second study reports, fixed in its design before any of its numbers: each
 * recipe against its `baseline` (the incremental ablation's steps against the step before), then
 * the papers' orderings that are not against a baseline. Pairs whose recipes were not run are
 * skipped by the analysis.
 */
export function studyComparisons(catalog: ReadonlyMap<string, Recipe> = recipes()): Comparison[] {
  const primary = new Set(['llava-kd/baseline', 'em-kd/em-kd-baseline']);
  const fromBaselines = [...catalog.values()].flatMap((r) => (r.baseline ? [{ recipe: r.name, against: r.baseline }] : []));
  const extra = [
    { recipe: 'llava-kd', against: 'llava-kd-pt-dft' },
    { recipe: 'llava-kd', against: 'llava-kd-dpt-dft' },
    { recipe: 'llava-kd', against: 'llava-kd-dpt-mdist-sft' },
    { recipe: 'llava-kd', against: 'llava-kd-dpt-rdist-sft' },
    { recipe: 'llava-kd-dpt-sft', against: 'llava-kd-dpt-mdist-sft' },
    { recipe: 'llava-kd-dpt-sft', against: 'llava-kd-dpt-rdist-sft' },
    { recipe: 'llava-kd', against: 'llava-kd-dft-mdist' },
    { recipe: 'llava-kd', against: 'llava-kd-dft-rdist' },
    { recipe: 'em-kd', against: 'em-kd-pool' },
    { recipe: 'em-kd', against: 'em-kd-hidden' },
    { recipe: 'em-kd', against: 'em-kd-vlad-vsd' },
    { recipe: 'em-kd', against: 'full-token' },
  ];
  const primaryExtra = new Set(['em-kd/em-kd-pool', 'em-kd/full-token']);
  return [...fromBaselines, ...extra].map((c) => ({ ...c, primary: primary.has(`${c.recipe}/${c.against}`) || primaryExtra.has(`${c.recipe}/${c.against}`) }));
}

/** Whether an objective reads any teacher output (then the teacher runs every step). */
export function readsTeacher(graph: ScalarNode): boolean {
  return lossesOf(graph).some(({ node }) => Object.values(node.inputs).some((e) => e.kind === 'aligned' || e.side === 'teacher'));
}
