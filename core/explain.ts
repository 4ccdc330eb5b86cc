import type { Registry } from './definitions.js';
import type { ScalarNode, TokenExpr, ViewNode } from './graph.js';
import { foldScalar } from './traverse.js';

/**
 * A readable formula tree of an objective, for people and for diffs:
 *
 *     objective = ce + res + vis + 0.5·rel
 *     ├─ ce  = CE(student.logits[next response], labels)   T=1, mean over tokens
 *     ├─ res = KL(teacher.logits[next response] ‖ student.logits[next response])   T=1, …
 *     …
 */
export function explain(graph: ScalarNode, registry: Registry): string {
  return explainNode(graph, registry)('objective').join('\n');
}

/** How a token expression reads in formulas: `teacher.logits[next response]`. */
export function describeTokens(expr: TokenExpr, registry?: Registry): string {
  if (expr.kind === 'view') return describeView(expr);
  const matcher = registry?.matchers[expr.match.method];
  const how = matcher
    ? matcher.explain(expr.match, describeView(expr.match.teacher), describeView(expr.match.student))
    : `${expr.match.method}(${describeView(expr.match.teacher)}, ${describeView(expr.match.student)})`;
  return `${describeView(expr.source)} aligned by ${how}`;
}

function describeView(view: ViewNode): string {
  const roles = view.roles.join('|');
  const policy = view.missingMass === undefined ? '' : `(${view.missingMass})`;
  return `${view.side}.${view.field}${policy}[${view.shift === 1 ? `next ${roles}` : roles}]`;
}

/** Each node's lines, given the name its parent shows it under (padded to line up). */
type Lines = (name: string) => string[];

function explainNode(graph: ScalarNode, registry: Registry): Lines {
  return foldScalar<Lines>(graph, {
    objective: (node, terms) => (name) => {
      const names = terms.map(([n]) => n);
      const sum = names.map((n) => weightPrefix(node.terms[n]!) + n).join(' + ');
      const lines = [`${name} = ${sum}`];
      const width = Math.max(...names.map((n) => n.length));
      terms.forEach(([n, childLines], i) => {
        const last = i === terms.length - 1;
        const child = childLines(n.padEnd(width));
        lines.push(`${last ? '└─ ' : '├─ '}${child[0]}`);
        for (const more of child.slice(1)) lines.push(`${last ? '   ' : '│  '}${more}`);
      });
      return lines;
    },
    weighted: (node, term) => (name) => {
      const [first, ...rest] = term(name);
      const eq = first!.indexOf(' = ');
      const scaled = node.weight === 1 ? '' : `${formatWeight(node.weight)} · `;
      const head = eq >= 0 ? `${first!.slice(0, eq)} = ${scaled}${first!.slice(eq + 3)}` : first!;
      return [head, ...rest];
    },
    loss: (node) => (name) => {
      const definition = registry.losses[node.loss];
      const inputs = Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, describeTokens(v, registry)]));
      const formula = definition ? definition.explain(node, inputs) : `${node.loss}(${Object.values(inputs).join(', ')})`;
      return [`${name} = ${formula}`];
    },
  });
}

function weightPrefix(node: ScalarNode): string {
  return node.kind === 'weighted' && node.weight !== 1 ? `${formatWeight(node.weight)}·` : '';
}

const formatWeight = (w: number): string => (Number.isInteger(w) ? String(w) : String(Number(w.toPrecision(6))));
