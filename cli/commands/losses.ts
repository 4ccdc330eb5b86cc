import type { Command } from 'commander';
import { standardRegistry } from '../../compile/standard-registry.js';
import type { InputSpec, LossDefinition, MatcherDefinition, Registry } from '../../core/definitions.js';
import type { JsonValue, LossNode, MatchNode, ViewNode } from '../../core/graph.js';
import { checkBackendName, ignoredBackendFlag } from '../backend.js';

/** One loss or matcher, as `mmkd losses` lists it. */
interface Entry {
  readonly name: string;
  readonly summary: string;
  /** The definition's own explanation of a node with the default parameters. */
  readonly formula: string;
  /** Each input: whose tokens, from which field(s). Matchers take one teacher and one student view. */
  readonly inputs: Readonly<Record<string, InputSpec>>;
  readonly parameters: Readonly<Record<string, JsonValue>>;
  readonly needsLabels: boolean;
}

export function lossesCommand(program: Command): void {
  program
    .command('losses')
    .description('every loss and matcher mmkd ships: what it computes, its formula, inputs and parameters with their defaults')
    .option('--json', 'print {"losses": [...], "matchers": [...]} as JSON')
    .option(...ignoredBackendFlag)
    .action((options: { readonly json?: boolean; readonly backend?: string }) => {
      checkBackendName(options.backend);
      const listing = listRegistry(standardRegistry);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        [
          'Losses (the "loss" of a loss node in an objective file; parameters with their defaults):',
          '',
          ...listing.losses.flatMap(formatEntry),
          'Matchers (the "method" of a match node; match.<method> in code):',
          '',
          ...listing.matchers.flatMap(formatEntry),
        ].join('\n'),
      );
    });
}

/** Reads the registry's definitions: nothing here is written twice. */
export function listRegistry(registry: Registry): { readonly losses: readonly Entry[]; readonly matchers: readonly Entry[] } {
  return {
    losses: Object.values(registry.losses).map(lossEntry),
    matchers: Object.values(registry.matchers).map(matcherEntry),
  };
}

const view = <S extends 'teacher' | 'student'>(side: S, spec: InputSpec): ViewNode<S> => ({
  kind: 'view',
  side,
  field: spec.fields[0] ?? 'logits',
  roles: ['response'],
  shift: 0,
});

function lossEntry(definition: LossDefinition): Entry {
  const node: LossNode = {
    kind: 'loss',
    loss: definition.name,
    inputs: Object.fromEntries(Object.entries(definition.inputs).map(([name, spec]) => [name, view(spec.side, spec)])),
    params: definition.defaults,
  };
  // Each input is shown by its name, so the formula reads in the terms the inputs line uses.
  const names = Object.fromEntries(Object.keys(definition.inputs).map((name) => [name, name]));
  return {
    name: definition.name,
    summary: definition.summary,
    formula: definition.explain(node, names),
    inputs: definition.inputs,
    parameters: definition.defaults,
    needsLabels: definition.needsLabels,
  };
}

function matcherEntry(definition: MatcherDefinition): Entry {
  const spec: InputSpec = { side: 'teacher', fields: ['logits', 'hidden'] };
  const node: MatchNode = {
    kind: 'match',
    method: definition.method,
    teacher: view('teacher', spec),
    student: view('student', { ...spec, side: 'student' }),
    params: definition.defaults,
  };
  return {
    name: definition.method,
    summary: definition.summary,
    formula: definition.explain(node, 'teacher', 'student'),
    inputs: { teacher: spec, student: { ...spec, side: 'student' } },
    parameters: definition.defaults,
    needsLabels: false,
  };
}

function formatEntry(entry: Entry): string[] {
  const inputs = Object.entries(entry.inputs).map(([name, spec]) => `${name} (${spec.side} ${spec.fields.join('|')})`);
  const parameters = Object.entries(entry.parameters).map(([name, value]) => `${name} = ${JSON.stringify(value)}`);
  return [
    `${entry.name}: ${entry.summary}`,
    `  formula     ${entry.formula}`,
    `  inputs      ${inputs.join(', ')}${entry.needsLabels ? ', and labels' : ''}`,
    `  parameters  ${parameters.length > 0 ? parameters.join(', ') : 'none'}`,
    '',
  ];
}
