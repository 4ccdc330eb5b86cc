import { InputError } from '../../core/errors.js';
import { gatherAlignment } from '../alignment.js';
import { decodeCostParams } from '../costs.js';
import { checkCostParams, costDefaults, describeCost, type MatcherImplementation, sameWidthRule } from '../matcher.js';
import { sampleCosts } from '../sample-costs.js';

/**
 * Each student token takes its nearest teacher token by the cost (ties go to the first). Not
 * one-to-one: several student tokens may share a teacher token, and some teacher tokens go unused.
 */
export const nearestMatcher: MatcherImplementation = {
  method: 'nearest',
  summary: 'each student token with its nearest teacher token (not one-to-one)',
  defaults: costDefaults,
  checkParams: checkCostParams,
  shapeRule: sameWidthRule,
  explain: (node, t, s) => `nearest(${describeCost(node.params)} between ${t} and ${s})`,
  async align({ node, path, teacher, student }) {
    const { counts: kt, offsets: ot } = teacher.selection;
    const { counts: ks, offsets: os } = student.selection;
    const { cost: metric, probabilities } = decodeCostParams(node.params);
    const costs = await sampleCosts(teacher, student, metric, probabilities);
    const teacherRow = new Int32Array(student.selection.positions.length);
    costs.forEach((cost, b) => {
      if (ks[b]! > 0 && kt[b] === 0) throw new InputError(`${path}: sample ${b} has student tokens but no teacher token to match them with`);
      for (let j = 0; j < ks[b]!; j++) {
        let best = 0;
        for (let i = 1; i < kt[b]!; i++) if (cost[i * ks[b]! + j]! < cost[best * ks[b]! + j]!) best = i;
        teacherRow[os[b]! + j] = ot[b]! + best;
      }
    });
    return gatherAlignment(teacherRow);
  },
};
