import type { Batch } from '../data/batch.js';
import { type EvalReport, type Forward, summarize, teacherForcedExactMatch } from '../data/eval.js';
import { type QuestionResults, questionResults } from './analysis.js';

/**
 * Teacher-forced exact match over held-out batches, per question type (`EvalReport`, as
 * `evaluateExactMatch`) and per question (`QuestionResults`: which questions were answered
 * exactly), so that two runs scored on the same questions can be compared question by question.
 */
export async function evaluateQuestions(forward: Forward, batches: Iterable<Batch>): Promise<{ report: EvalReport; questions: QuestionResults }> {
  const ids: string[] = [];
  const kinds: string[] = [];
  const correct: boolean[] = [];
  for (const batch of batches) {
    ids.push(...batch.sampleIds);
    kinds.push(...batch.kinds);
    correct.push(...(await teacherForcedExactMatch(forward, batch)));
  }
  return { report: summarize(kinds, correct), questions: questionResults(ids, kinds, correct) };
}
