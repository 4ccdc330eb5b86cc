import { InputError } from '../../core/errors.js';
import { describeTokens } from '../../core/explain.js';
import { gatherAlignment } from '../alignment.js';
import { decodeCostParams } from '../costs.js';
import { checkCostParams, costDefaults, describeCost, type MatcherImplementation, sameWidthRule } from '../matcher.js';
import { sampleCosts } from '../sample-costs.js';

/**
 * EM-KD's vision token matching: per sample, the minimum-cost one-to-one assignment between the
 * teacher's K_t tokens and the student's K_s ≤ K_t tokens, on a cost between their vectors (L1
 * between vision logits in the paper). Every student token gets a distinct teacher token; the
 * teacher's other tokens are left out. Solved exactly (shortest augmenting paths), all samples of
 * a batch at once.
 */
export const hungarianMatcher: MatcherImplementation = {
  method: 'hungarian',
  summary: 'minimum-cost one-to-one assignment of teacher to student tokens (EM-KD VTM)',
  defaults: costDefaults,
  checkParams: checkCostParams,
  shapeRule: sameWidthRule,
  explain: (node, t, s) => `hungarian(${describeCost(node.params)} between ${t} and ${s})`,
  async align({ node, path, teacher, student, solve }) {
    const { counts: kt, offsets: ot } = teacher.selection;
    const { counts: ks, offsets: os } = student.selection;
    for (let b = 0; b < ks.length; b++) {
      if (kt[b]! < ks[b]!) {
        throw new InputError(
          `${path}: a one-to-one matching needs at least as many teacher tokens as student tokens, but sample ${b} has ` +
            `${kt[b]} (${describeTokens(node.teacher)}) and ${ks[b]} (${describeTokens(node.student)}); use the 'nearest' matcher to share teacher tokens`,
        );
      }
    }
    const { cost: metric, probabilities } = decodeCostParams(node.params);
    const costs = await sampleCosts(teacher, student, metric, probabilities);
    const results = await solve(costs.map((cost, b) => ({ cost, n: kt[b]!, m: ks[b]! })));
    const teacherRow = new Int32Array(student.selection.positions.length);
    results.forEach((result, b) => {
      for (let k = 0; k < result.rows.length; k++) teacherRow[os[b]! + result.cols[k]!] = ot[b]! + result.rows[k]!;
    });
    return gatherAlignment(teacherRow);
  },
};
