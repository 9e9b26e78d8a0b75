/**
 * A renderer for the subset of Helm's templates (Go text/template with a few of Helm's functions)
 * that deploy/helm/tenancy uses, so that the chart's tests can render it where no helm binary is
 * installed (none is packaged for Debian, nor published on npm). It follows Go's rules where the
 * chart meets them: `{{-` and `-}}` trim all whitespace on their side, truth is Go's (false, 0,
 * nil, "", empty lists and maps are false), numbers print as Go prints a float64 (1e+06 from one
 * million, as Helm's values are), a missing value prints as nothing. Anything outside the subset
 * (a function, an action, a syntax) throws, naming it: the chart may not drift from what is
 * checked here without the test saying so.
 *
 * Actions: if / else if / else, range (over a list; `.` is the element, `$` the root), with,
 * define, end, comments. Functions: include, toYaml, toJson, indent, nindent, quote, default, required,
 * fail, eq, ne, and, or, not, empty, printf (%s %d %v), trunc, trimSuffix, lower, toString.
 */
import { stringify } from 'yaml';

type Value = unknown;

interface TextNode {
  kind: 'text';
  text: string;
}
interface PrintNode {
  kind: 'print';
  pipe: string;
}
interface IfNode {
  kind: 'if';
  branches: { cond: string | null; body: Node[] }[];
}
interface BlockNode {
  kind: 'range' | 'with';
  pipe: string;
  body: Node[];
  otherwise: Node[];
}
type Node = TextNode | PrintNode | IfNode | BlockNode;

/** Splits a template into text and actions, applying the trim markers. */
function lex(src: string, file: string): ({ text: string } | { action: string; at: number })[] {
  const out: ({ text: string } | { action: string; at: number })[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ text });
      break;
    }
    let body = src.slice(open + 2);
    const trimBefore = /^-\s/.test(body);
    if (trimBefore) {
      text = text.replace(/\s+$/, '');
      body = body.slice(1);
    }
    out.push({ text });
    let j = 0;
    let quoted = false;
    for (; j < body.length; j++) {
      if (body[j] === '"' && body[j - 1] !== '\\') quoted = !quoted;
      if (!quoted && body.startsWith('}}', j)) break;
    }
    if (j >= body.length) throw new Error(`${file}: an action opened at ${open} is never closed`);
    let action = body.slice(0, j);
    trimNext = /\s-$/.test(action);
    if (trimNext) action = action.slice(0, -1);
    out.push({ action: action.trim(), at: open });
    i = open + 2 + (trimBefore ? 1 : 0) + j + 2;
  }
  return out;
}

/** Parses a template into nodes; `defines` collects its define blocks. */
function parse(src: string, file: string, defines: Map<string, Node[]>): Node[] {
  const tokens = lex(src, file);
  let k = 0;
  const block = (closers: RegExp): { nodes: Node[]; closer: string } => {
    const nodes: Node[] = [];
    while (k < tokens.length) {
      const t = tokens[k++];
      if ('text' in t) {
        if (t.text) nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const a = t.action;
      if (a.startsWith('/*')) {
        if (!a.endsWith('*/')) throw new Error(`${file}: a comment must be the whole action: {{${a}}}`);
        continue;
      }
      if (closers.test(a)) return { nodes, closer: a };
      const word = /^(\w+)\b\s*(.*)$/s.exec(a);
      const [kw, rest] = word ? [word[1], word[2]] : ['', a];
      if (kw === 'if') {
        const branches: IfNode['branches'] = [];
        let cond: string | null = rest;
        for (;;) {
          const b = block(/^(else\b.*|end)$/s);
          branches.push({ cond, body: b.nodes });
          if (b.closer === 'end') break;
          const elif = /^else\s+if\s+(.+)$/s.exec(b.closer);
          if (elif) cond = elif[1];
          else if (b.closer === 'else') cond = null;
          else throw new Error(`${file}: not in the subset: {{${b.closer}}}`);
        }
        nodes.push({ kind: 'if', branches });
      } else if (kw === 'range' || kw === 'with') {
        if (/^\$\w+\s*(,|:=)/.test(rest)) throw new Error(`${file}: variables are not in the subset: {{${a}}}`);
        const b = block(/^(else|end)$/);
        const otherwise = b.closer === 'else' ? block(/^end$/).nodes : [];
        nodes.push({ kind: kw, pipe: rest, body: b.nodes, otherwise });
      } else if (kw === 'define') {
        const name = /^"([^"]+)"$/.exec(rest)?.[1];
        if (!name) throw new Error(`${file}: define needs a quoted name: {{${a}}}`);
        defines.set(name, block(/^end$/).nodes);
      } else if (['template', 'block', 'break', 'continue', 'end', 'else'].includes(kw)) {
        throw new Error(`${file}: not in the subset (or out of place): {{${a}}}`);
      } else nodes.push({ kind: 'print', pipe: a });
    }
    if (closers.source !== '$^') throw new Error(`${file}: a block is never closed with {{ end }}`);
    return { nodes, closer: '' };
  };
  return block(/$^/).nodes;
}

/** Go's truth. */
export function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** A float64 as Go's %v prints it (Helm's numbers from YAML are float64): shortest, %e from 1e21 or 6 digits up. */
function goNumber(n: number): string {
  if (n === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21 || (exp >= 6 && Number.isFinite(n))) {
    const [m, e] = n.toExponential().split('e');
    const ee = Number(e);
    return `${m}e${ee < 0 ? '-' : '+'}${String(Math.abs(ee)).padStart(2, '0')}`;
  }
  return String(n);
}

function show(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  throw new Error(`printing a ${Array.isArray(v) ? 'list' : 'map'} is not in the subset (use toYaml)`);
}

function toYaml(v: Value): string {
  if (v === null || v === undefined) return 'null';
  return stringify(v, { lineWidth: 0 }).replace(/\n$/, '');
}

const indentLines = (n: number, s: string) =>
  s
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

/** Splits a pipeline or command into words: strings, parenthesized groups and bare words. */
function words(src: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    if (/\s/.test(src[i])) {
      i++;
      continue;
    }
    let j = i;
    if (src[i] === '"') {
      j++;
      while (j < src.length && !(src[j] === '"' && src[j - 1] !== '\\')) j++;
      j++;
    } else if (src[i] === '(') {
      let depth = 0;
      for (; j < src.length; j++) {
        if (src[j] === '(') depth++;
        if (src[j] === ')' && --depth === 0) break;
      }
      j++;
    } else if (src[i] === '|') j++;
    else while (j < src.length && !/[\s|()]/.test(src[j])) j++;
    out.push(src.slice(i, j));
    i = j;
  }
  return out;
}

export interface Scope {
  dot: Value;
  root: Record<string, Value>;
}

export class Renderer {
  readonly defines = new Map<string, Node[]>();

  /** Parses `files` (name → text); those whose name starts with "_" only contribute their defines. */
  constructor(private readonly files: Record<string, string>) {
    for (const [name, text] of Object.entries(files)) parse(text, name, this.defines);
  }

  render(file: string, root: Record<string, Value>): string {
    const nodes = parse(this.files[file], file, new Map());
    return this.run(nodes, { dot: root, root });
  }

  private run(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'print') out += show(this.pipe(n.pipe, scope));
      else if (n.kind === 'if') {
        const b = n.branches.find((x) => x.cond === null || truthy(this.pipe(x.cond, scope)));
        if (b) out += this.run(b.body, scope);
      } else {
        const v = this.pipe(n.pipe, scope);
        if (!truthy(v)) out += this.run(n.otherwise, scope);
        else if (n.kind === 'with') out += this.run(n.body, { ...scope, dot: v });
        else {
          if (!Array.isArray(v)) throw new Error(`range over a map is not in the subset: ${n.pipe}`);
          for (const item of v) out += this.run(n.body, { ...scope, dot: item });
        }
      }
    }
    return out;
  }

  private pipe(src: string, scope: Scope): Value {
    const parts: string[][] = [[]];
    for (const w of words(src)) {
      if (w === '|') parts.push([]);
      else parts.at(-1)!.push(w);
    }
    let piped: { v: Value } | null = null;
    for (const cmd of parts) {
      if (!cmd.length) throw new Error(`an empty command in: ${src}`);
      piped = { v: this.command(cmd, scope, piped) };
    }
    return piped!.v;
  }

  private command([head, ...rest]: string[], scope: Scope, piped: { v: Value } | null): Value {
    const args = rest.map((w) => this.operand(w, scope));
    if (piped) args.push(piped.v);
    if (!/^[a-zA-Z]\w*$/.test(head) || head === 'true' || head === 'false') {
      if (args.length) throw new Error(`"${head}" is not a function`);
      return this.operand(head, scope);
    }
    const need = (n: number) => {
      if (args.length < n) throw new Error(`${head} needs ${n} arguments, got ${args.length}`);
    };
    switch (head) {
      case 'include': {
        need(2);
        const body = this.defines.get(String(args[0]));
        if (!body) throw new Error(`include: no template "${String(args[0])}"`);
        return this.run(body, { ...scope, dot: args[1] });
      }
      case 'toYaml':
        need(1);
        return toYaml(args[0]);
      case 'toJson':
        need(1);
        return JSON.stringify(args[0] ?? null);
      case 'indent':
        need(2);
        return indentLines(Number(args[0]), String(args[1]));
      case 'nindent':
        need(2);
        return `\n${indentLines(Number(args[0]), String(args[1]))}`;
      case 'quote':
        return args.map((a) => JSON.stringify(a === null || a === undefined ? '' : show(a))).join(' ');
      case 'default':
        need(2);
        return truthy(args[1]) ? args[1] : args[0];
      case 'required':
        need(2);
        if (!truthy(args[1])) throw new Error(`required: ${String(args[0])}`);
        return args[1];
      case 'fail':
        throw new Error(`fail: ${String(args[0])}`);
      case 'eq':
        need(2);
        return args.slice(1).some((a) => a === args[0]);
      case 'ne':
        need(2);
        return args[0] !== args[1];
      case 'and':
        return args.find((a) => !truthy(a)) ?? args.at(-1);
      case 'or':
        return args.find((a) => truthy(a)) ?? args.at(-1);
      case 'not':
        need(1);
        return !truthy(args[0]);
      case 'empty':
        need(1);
        return !truthy(args[0]);
      case 'printf': {
        let n = 1;
        return String(args[0]).replace(/%[sdv]/g, () => show(args[n++]));
      }
      case 'trunc':
        need(2);
        return String(args[1]).slice(0, Number(args[0]));
      case 'trimSuffix':
        need(2);
        return String(args[1]).endsWith(String(args[0])) ? String(args[1]).slice(0, -String(args[0]).length) : args[1];
      case 'lower':
        need(1);
        return String(args[0]).toLowerCase();
      case 'toString':
        need(1);
        return show(args[0]);
      default:
        throw new Error(`function "${head}" is not in the subset`);
    }
  }

  private operand(w: string, scope: Scope): Value {
    if (w.startsWith('"')) return JSON.parse(w);
    if (w.startsWith('(')) return this.pipe(w.slice(1, -1), scope);
    if (w === 'true' || w === 'false') return w === 'true';
    if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w);
    if (w === '.') return scope.dot;
    if (w === '$') return scope.root;
    const m = /^(\$|)((?:\.[A-Za-z_]\w*)+)$/.exec(w);
    if (!m) throw new Error(`not an operand of the subset: ${w}`);
    let v: Value = m[1] === '$' ? scope.root : scope.dot;
    for (const key of m[2].slice(1).split('.')) {
      if (v === null || v === undefined) return undefined;
      if (typeof v !== 'object') throw new Error(`${w}: cannot read ${key} of a ${typeof v}`);
      v = (v as Record<string, Value>)[key];
    }
    return v;
  }
}
