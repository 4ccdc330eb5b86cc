import type { Rng } from '../models/random.js';
import { pick } from '../models/random.js';
import type { Scene, SceneObject } from './scene.js';
import { COLORS, positionWords, SHAPE_PLURALS, SHAPES } from './scene.js';

/** The question types of the instruction split; exact match is reported per type. */
export const QUESTION_KINDS = ['color', 'shape', 'count', 'position', 'relation'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];

export interface QuestionAnswer {
  readonly kind: QuestionKind;
  readonly question: string;
  readonly answer: string;
}

export const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four'] as const;

/** Spatial relations between two objects in different cells: phrase and truth. */
const RELATIONS: readonly { readonly phrase: string; readonly holds: (a: SceneObject, b: SceneObject) => boolean }[] = [
  { phrase: 'left of', holds: (a, b) => a.col < b.col },
  { phrase: 'right of', holds: (a, b) => a.col > b.col },
  { phrase: 'above', holds: (a, b) => a.row < b.row },
  { phrase: 'below', holds: (a, b) => a.row > b.row },
];

const at = (o: SceneObject): string => positionWords(o.row, o.col);
const unique = (scene: Scene, same: (o: SceneObject) => boolean): boolean => scene.objects.filter(same).length === 1;

/** The minimum number of objects a question type needs. */
export const minObjects = (kind: QuestionKind): number => (kind === 'relation' ? 2 : 1);

/**
 * One question of type `kind` about `scene`, with its answer. Referring expressions always pick
 * out one object: by shape or colour alone when that is unique in the scene, by position otherwise.
 */
export function askQuestion(r: Rng, scene: Scene, kind: QuestionKind): QuestionAnswer {
  const objects = scene.objects;
  if (objects.length < minObjects(kind)) {
    throw new Error(`askQuestion: a '${kind}' question needs ${minObjects(kind)} objects, the scene has ${objects.length}`);
  }
  switch (kind) {
    case 'color': {
      const o = pick(r, objects);
      const question = unique(scene, (x) => x.shape === o.shape) ? `what color is the ${o.shape}` : `what color is the shape at the ${at(o)}`;
      return { kind, question, answer: o.color };
    }
    case 'shape': {
      const o = pick(r, objects);
      const question = unique(scene, (x) => x.color === o.color) ? `what shape is the ${o.color} object` : `what shape is at the ${at(o)}`;
      return { kind, question, answer: o.shape };
    }
    case 'count': {
      const variant = r.int(3);
      if (variant === 0) {
        return { kind, question: 'how many shapes are there', answer: NUMBER_WORDS[objects.length] as string };
      }
      if (variant === 1) {
        const color = pick(r, COLORS);
        const n = objects.filter((o) => o.color === color).length;
        return { kind, question: `how many ${color} shapes are there`, answer: NUMBER_WORDS[n] as string };
      }
      const shape = pick(r, SHAPES);
      const n = objects.filter((o) => o.shape === shape).length;
      return { kind, question: `how many ${SHAPE_PLURALS[shape]} are there`, answer: NUMBER_WORDS[n] as string };
    }
    case 'position': {
      const o = pick(r, objects);
      return { kind, question: `where is the ${o.color} ${o.shape}`, answer: at(o) };
    }
    case 'relation': {
      // Balance yes and no: draw the answer first, then a (pair, relation) that gives it.
      const options: { a: SceneObject; b: SceneObject; phrase: string; yes: boolean }[] = [];
      for (const a of objects) {
        for (const b of objects) {
          if (a === b) continue;
          for (const rel of RELATIONS) options.push({ a, b, phrase: rel.phrase, yes: rel.holds(a, b) });
        }
      }
      const wantYes = r.int(2) === 1;
      const matching = options.filter((o) => o.yes === wantYes);
      const chosen = pick(r, matching.length > 0 ? matching : options);
      const { a, b, phrase } = chosen;
      return {
        kind,
        question: `is the ${a.color} ${a.shape} ${phrase} the ${b.color} ${b.shape}`,
        answer: chosen.yes ? 'yes' : 'no',
      };
    }
  }
}

/** A caption listing every object, row-major: "red circle top left and blue square bottom right". */
export function caption(scene: Scene): string {
  return scene.objects.map((o) => `${o.color} ${o.shape} ${at(o)}`).join(' and ');
}

/** The fixed prompt of caption samples (LLaVA's pre-training data pairs images with a short "describe" request). */
export const CAPTION_PROMPT = 'describe the image';
