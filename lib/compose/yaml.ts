/**
 * YAML 1.2 text → a small tree of maps, lists and scalars that remembers the line of every
 * value and key. Anchors, aliases and `<<` merge keys are resolved here, under hard limits
 * checked before anything is expanded:
 *
 * - nesting depth: the CST parser's stack is watched token by token, so a 10,000-deep
 *   `[[[[…` is refused after a few hundred tokens, long before the (recursive) composer
 *   sees it; the depth after alias expansion is computed without expanding anything;
 * - anchors and aliases: at most MAX_ANCHORS and MAX_ALIASES in the file, and the size the
 *   document would have once
 *   every alias is expanded (nodes and scalar characters) is computed from the anchors'
 *   sizes (memoised) and refused past MAX_NODES / MAX_CHARS: a "billion laughs" file costs
 *   a few microseconds;
 * - lexical tokens and flow collections: at most MAX_TOKENS and MAX_FLOW_COLLECTIONS,
 *   counted while lexing;
 * - exactly one document: a second one is refused as soon as the parser closes it.
 *
 * The caps keep the worst file that passes them to about 0.2 s of parsing; the preview
 * parses in a worker (parse_pool.ts) so that even that never blocks the event loop.
 *
 * Scalars keep the text they were written with (`1.10` stays "1.10" where a string is
 * wanted); keys are always strings.
 */
import {
  type Alias,
  Composer,
  type CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node as YamlNode,
  Parser,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import process from "node:process";
import { ComposeError, shown } from "./errors.ts";

/** Nested maps and lists, counted after alias expansion. */
export const MAX_DEPTH = 64;
/** Alias nodes (`*name`) in the file: real compose files use a handful. */
export const MAX_ALIASES = 1_000;
/** Anchors (`&name`) in the file. */
export const MAX_ANCHORS = 1_000;
/** Values in the document once every alias is expanded. */
export const MAX_NODES = 100_000;
/** Characters of scalar text in the document once every alias is expanded. */
export const MAX_CHARS = 4 * 1024 * 1024;
/**
 * Lexical tokens in the file. The `yaml` package needs a few microseconds and up to a
 * kilobyte (garbage included) per token; an ordinary compose file has about eight per line,
 * so this admits some 3,500 lines (large real files have a few hundred).
 */
export const MAX_TOKENS = 30_000;
/**
 * Flow collections (`[` and `{`) in the file: each costs the parser and composer far more
 * than a scalar does, and a compose file has a few per service.
 */
export const MAX_FLOW_COLLECTIONS = 3_000;

export interface YScalar {
  kind: "scalar";
  value: string | number | boolean | null;
  /** The text as written for plain scalars (numbers keep their notation), else the value. */
  text: string;
  line: number;
}

export interface YSeq {
  kind: "seq";
  items: YNode[];
  line: number;
}

export interface YEntry {
  key: string;
  keyLine: number;
  value: YNode;
}

export interface YMap {
  kind: "map";
  /** Keys are strings; a Map so that keys like `__proto__` are data, never object magic. */
  entries: Map<string, YEntry>;
  line: number;
}

export type YNode = YScalar | YSeq | YMap;

interface Stats {
  nodes: number;
  chars: number;
  depth: number;
}

type AnyNode = YamlNode;

/** Parses `text` (one YAML document) into a YNode tree; null when the document is empty. */
export function loadYaml(text: string): YNode | null {
  // The yaml package reads process.env.LOG_TOKENS and LOG_STREAM for every token, and each
  // read is a call into Deno's runtime: about a tenth of a large file's parse. While this
  // synchronous parse runs, process.env is a plain object with those two values as they are.
  const env = process.env;
  process.env = { LOG_TOKENS: env.LOG_TOKENS, LOG_STREAM: env.LOG_STREAM };
  try {
    return parseTree(text);
  } finally {
    process.env = env;
  }
}

function parseTree(text: string): YNode | null {
  const lines = new LineCounter();
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? null : Math.max(1, lines.linePos(offset).line);

  // 1. CST, watching the parser's stack so deep nesting is refused before composition.
  const parser = new Parser(lines.addNewLine);
  const tokens: CST.Token[] = [];
  lines.addNewLine(0);
  let count = 0;
  let flows = 0;
  let aliases = 0;
  let anchors = 0;
  let documents = 0;
  const secondDocument = (token: CST.Token): never => {
    throw new ComposeError(
      "A compose file must hold exactly one YAML document; a second one starts here",
      "yaml",
      lineOf((token as CST.Document).offset),
    );
  };
  for (const lexeme of new Lexer().lex(text)) {
    if (++count > MAX_TOKENS) {
      throw new ComposeError(
        `The YAML has too many values (more than ${MAX_TOKENS} tokens)`,
        "yaml",
        lineOf(parser.offset),
      );
    }
    // Aliases and anchors are their own lexemes: refused here before any parsing work,
    // and counted exactly again once resolved.
    if (lexeme[0] === "*" && ++aliases > MAX_ALIASES) {
      throw new ComposeError(
        `The YAML uses more than ${MAX_ALIASES} aliases`,
        "yaml",
        lineOf(parser.offset),
      );
    }
    if (lexeme[0] === "&" && ++anchors > MAX_ANCHORS) {
      throw new ComposeError(
        `The YAML defines more than ${MAX_ANCHORS} anchors`,
        "yaml",
        lineOf(parser.offset),
      );
    }
    if ((lexeme === "[" || lexeme === "{") && ++flows > MAX_FLOW_COLLECTIONS) {
      throw new ComposeError(
        `The YAML has more than ${MAX_FLOW_COLLECTIONS} [ ] and { } collections`,
        "yaml",
        lineOf(parser.offset),
      );
    }
    for (const token of parser.next(lexeme)) {
      tokens.push(token);
      if (token.type === "document" && ++documents > 1) secondDocument(token);
    }
    if (parser.stack.length > MAX_DEPTH + 8) {
      throw new ComposeError(
        `The YAML is nested more than ${MAX_DEPTH} levels deep`,
        "yaml",
        lineOf(parser.offset),
      );
    }
  }
  for (const token of parser.end()) {
    tokens.push(token);
    if (token.type === "document" && ++documents > 1) secondDocument(token);
  }

  // 2. Compose the document (no alias is expanded here).
  const composer = new Composer({
    version: "1.2",
    merge: false,
    // Duplicate keys are found in convert() with a Map: the package's own check compares
    // every key with every other one (quadratic in the size of a map).
    uniqueKeys: false,
    intAsBigInt: false,
    strict: true,
  });
  const docs: Document.Parsed[] = [...composer.compose(tokens)];
  if (docs.length === 0) return null;
  if (docs.length > 1) {
    throw new ComposeError(
      "A compose file must hold exactly one YAML document",
      "yaml",
      lineOf(docs[1].range?.[0]),
    );
  }
  const doc = docs[0];
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    throw new ComposeError(`Invalid YAML: ${error.message}`, "yaml", lineOf(error.pos[0]));
  }
  const root = doc.contents as AnyNode | null;
  if (root === null) return null;

  // 3. Resolve every alias to its anchor, in document order, without expanding.
  const targets = resolveAliases(root, lineOf);

  // 4. Size, characters and depth after expansion, memoised per node: no expansion yet.
  const stats = new Map<AnyNode, Stats>();
  const inProgress = new Set<AnyNode>();
  const measure = (node: AnyNode, depth: number): Stats => {
    if (isAlias(node)) {
      const target = targets.get(node)!;
      if (inProgress.has(target)) {
        throw new ComposeError(
          `The alias *${node.source} refers to a value that contains it`,
          "yaml",
          lineOf(node.range?.[0]),
        );
      }
      return measure(target, depth);
    }
    const known = stats.get(node);
    if (known) return known;
    if (depth > MAX_DEPTH + 1) {
      throw new ComposeError(
        `The YAML is nested more than ${MAX_DEPTH} levels deep (aliases included)`,
        "yaml",
        lineOf(node.range?.[0]),
      );
    }
    inProgress.add(node);
    const result: Stats = { nodes: 1, chars: 0, depth: 0 };
    if (isScalar(node)) {
      result.chars = scalarLength(node);
    } else {
      const children: AnyNode[] = [];
      if (isMap(node)) {
        for (const pair of node.items) {
          if (pair.key) children.push(pair.key as AnyNode);
          if (pair.value) children.push(pair.value as AnyNode);
        }
      } else if (isSeq(node)) {
        for (const item of node.items) if (item) children.push(item as AnyNode);
      }
      for (const child of children) {
        const sub = measure(child, depth + 1);
        result.nodes += sub.nodes;
        result.chars += sub.chars;
        result.depth = Math.max(result.depth, sub.depth);
        if (result.nodes > MAX_NODES || result.chars > MAX_CHARS) {
          throw new ComposeError(
            `The YAML would expand to more than ${
              result.nodes > MAX_NODES ? `${MAX_NODES} values` : `${MAX_CHARS} characters`
            } once its aliases are resolved (too many or too deeply nested aliases)`,
            "yaml",
            lineOf(child.range?.[0]),
          );
        }
      }
      result.depth += 1;
      if (result.depth + depth > MAX_DEPTH + 1) {
        throw new ComposeError(
          `The YAML is nested more than ${MAX_DEPTH} levels deep (aliases included)`,
          "yaml",
          lineOf(node.range?.[0]),
        );
      }
    }
    inProgress.delete(node);
    stats.set(node, result);
    return result;
  };
  if (measure(root, 1).depth > MAX_DEPTH) {
    throw new ComposeError(
      `The YAML is nested more than ${MAX_DEPTH} levels deep (aliases included)`,
      "yaml",
      lineOf(root.range?.[0]),
    );
  }

  // 5. Convert, expanding aliases and merge keys (now known to be small).
  return convert(root, targets, lineOf);
}

function scalarLength(node: Scalar): number {
  const value = node.value;
  if (typeof value === "string") return value.length;
  return typeof node.source === "string" ? node.source.length : 8;
}

/**
 * Walks the tree in document order (keys before values) so that each alias resolves to the
 * latest anchor of that name before it, as YAML says. Iterative: the depth is bounded
 * already, but nothing here needs the call stack.
 */
function resolveAliases(
  root: AnyNode,
  lineOf: (offset: number | undefined) => number | null,
): Map<Alias, AnyNode> {
  const anchors = new Map<string, AnyNode>();
  const targets = new Map<Alias, AnyNode>();
  let anchorCount = 0;
  const stack: AnyNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isAlias(node)) {
      if (targets.size >= MAX_ALIASES) {
        throw new ComposeError(
          `The YAML uses more than ${MAX_ALIASES} aliases`,
          "yaml",
          lineOf(node.range?.[0]),
        );
      }
      const target = anchors.get(node.source);
      if (!target) {
        throw new ComposeError(
          `The alias *${node.source} refers to an anchor that is not defined before it`,
          "yaml",
          lineOf(node.range?.[0]),
        );
      }
      targets.set(node, target);
      continue;
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) {
      if (++anchorCount > MAX_ANCHORS) {
        throw new ComposeError(
          `The YAML defines more than ${MAX_ANCHORS} anchors`,
          "yaml",
          lineOf(node.range?.[0]),
        );
      }
      anchors.set(anchor, node);
    }
    const children: AnyNode[] = [];
    if (isMap(node)) {
      for (const pair of node.items) {
        if (pair.key) children.push(pair.key as AnyNode);
        if (pair.value) children.push(pair.value as AnyNode);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) if (item) children.push(item as AnyNode);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return targets;
}

function convert(
  root: AnyNode,
  targets: Map<Alias, AnyNode>,
  lineOf: (offset: number | undefined) => number | null,
): YNode {
  const lineAt = (node: AnyNode | null | undefined, fallback: number): number =>
    (node && lineOf(node.range?.[0])) ?? fallback;
  const deref = (node: AnyNode): AnyNode => isAlias(node) ? targets.get(node)! : node;

  const scalar = (node: Scalar, line: number): YScalar => {
    const value = node.value;
    if (value === null || value === undefined) {
      return { kind: "scalar", value: null, text: "", line };
    }
    if (typeof value === "string") return { kind: "scalar", value, text: value, line };
    if (typeof value === "number" || typeof value === "boolean") {
      const text = node.type === "PLAIN" && typeof node.source === "string"
        ? node.source
        : String(value);
      return { kind: "scalar", value, text, line };
    }
    throw new ComposeError(
      `Unsupported YAML value${
        node.tag ? ` (tag ${node.tag})` : ""
      }: only strings, numbers, booleans and null are allowed`,
      "yaml",
      line,
    );
  };

  const keyOf = (keyNode: AnyNode | null, line: number): string => {
    const node = keyNode ? deref(keyNode) : null;
    if (!node || !isScalar(node)) {
      throw new ComposeError(
        node ? "Only plain strings can be map keys (found a map or a list)" : "A map key is empty",
        "yaml",
        line,
      );
    }
    const value = node.value;
    let key: string;
    if (typeof value === "string") key = value;
    else if (node.type === "PLAIN" && typeof node.source === "string") key = node.source;
    else if (value === null || value === undefined) key = "";
    else key = String(value);
    if (key === "") throw new ComposeError("A map key is empty", "yaml", line);
    return key;
  };

  const isMergeKey = (keyNode: AnyNode | null): boolean => {
    if (!keyNode || !isScalar(keyNode) || keyNode.type !== "PLAIN") return false;
    return keyNode.value === "<<" || typeof keyNode.value === "symbol";
  };

  const visit = (raw: AnyNode | null, fallbackLine: number): YNode => {
    if (raw === null) return { kind: "scalar", value: null, text: "", line: fallbackLine };
    const node = deref(raw);
    // An alias takes the line where it is used: that is where the user looks.
    const line = lineAt(raw, fallbackLine);
    if (isScalar(node)) {
      // An empty value (`key:`) has its range at the next token: use the key's line.
      const empty = node.value === null && (node.source === "" || node.source === undefined);
      return scalar(node, empty ? fallbackLine : line);
    }
    if (isSeq(node)) {
      return {
        kind: "seq",
        items: (node as YAMLSeq<AnyNode | null>).items.map((item) => visit(item, line)),
        line,
      };
    }
    if (isMap(node)) return mapOf(node as YAMLMap<AnyNode | null, AnyNode | null>, line);
    throw new ComposeError("Unsupported YAML node", "yaml", line);
  };

  const mapOf = (node: YAMLMap<AnyNode | null, AnyNode | null>, line: number): YMap => {
    const entries = new Map<string, YEntry>();
    const merges: { value: AnyNode | null; line: number }[] = [];
    for (const pair of node.items) {
      const keyLine = lineAt(pair.key, line);
      if (isMergeKey(pair.key)) {
        merges.push({ value: pair.value, line: keyLine });
        continue;
      }
      const key = keyOf(pair.key, keyLine);
      if (entries.has(key)) {
        throw new ComposeError(`Duplicate key ${shown(key)}`, "yaml", keyLine);
      }
      entries.set(key, { key, keyLine, value: visit(pair.value, keyLine) });
    }
    // `<<`: keys written in the map win; among several sources the first one wins.
    for (const merge of merges) {
      const sources: AnyNode[] = [];
      const value = merge.value ? deref(merge.value) : null;
      if (value && isMap(value)) sources.push(merge.value!);
      else if (value && isSeq(value)) {
        for (const item of value.items as (AnyNode | null)[]) {
          if (!item || !isMap(deref(item))) {
            throw new ComposeError(
              "A merge key (<<) takes a map or a list of maps",
              "yaml",
              merge.line,
            );
          }
          sources.push(item);
        }
      } else {
        throw new ComposeError(
          "A merge key (<<) takes a map or a list of maps",
          "yaml",
          merge.line,
        );
      }
      for (const source of sources) {
        const merged = visit(source, merge.line) as YMap;
        for (const [key, entry] of merged.entries) {
          if (!entries.has(key)) entries.set(key, entry);
        }
      }
    }
    return { kind: "map", entries, line };
  };

  return visit(root, 1);
}
