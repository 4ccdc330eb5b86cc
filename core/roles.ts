/**
 * Token roles: what each position of a multimodal sequence is. Roles come with the data (the
 * tokenizer and the image placeholder know them), so masks are built from data, never from
 * comparisons on tensors that would sit on the gradient path.
 *
 * Codes are the integers used in tensor files (`roles` [B, T] int32).
 */
export const ROLE_CODES = { pad: 0, prompt: 1, visual: 2, response: 3 } as const;

/** A token role: `pad`, `prompt`, `visual` or `response`. */
export type Role = keyof typeof ROLE_CODES;

/** Every role, in code order (`ROLES[code]` is the role of a code). */
export const ROLES: readonly Role[] = ['pad', 'prompt', 'visual', 'response'];

/** Label value that supervised cross-entropy skips (PyTorch's convention). */
export const IGNORE_LABEL = -100;

/** Whether `name` is a role's name. */
export const isRole = (name: unknown): name is Role => typeof name === 'string' && Object.hasOwn(ROLE_CODES, name);

export const roleOfCode = (code: number): Role | undefined => ROLES[code];
