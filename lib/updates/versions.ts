/**
 * Tags that read as versions (`1.25.3`, `v2.4`, `16-alpine`) and the newer ones among a
 * repository's tags. A tag's "shape" is its prefix (`v` or nothing), its number of numeric
 * components and its suffix (`-alpine`); only tags of the same shape are compared, so
 * `16-alpine` is never offered `16.4-alpine` or `17`, and `1.0.0` never `1.0.1-alpine`.
 *
 * Levels: the first component is the major version and the last the patch; a three-part
 * version also has a minor. So `16.2` sees `16.4` as a patch and `17.0` as a major, as
 * PostgreSQL numbers them.
 */

export interface VersionTag {
  tag: string;
  prefix: string;
  parts: number[];
  suffix: string;
}

export interface NewerVersions {
  patch?: string;
  minor?: string;
  major?: string;
}

const VERSION_RE = /^(v?)(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(-[A-Za-z0-9][\w.-]*)?$/;

export function parseVersionTag(tag: string): VersionTag | undefined {
  const match = tag.match(VERSION_RE);
  if (!match) return undefined;
  const parts = [match[2], match[3], match[4]].filter((p) => p !== undefined).map(Number);
  return { tag, prefix: match[1], parts, suffix: match[5] ?? "" };
}

/** Negative, zero or positive as a sorts before, with or after b (numerically). */
export function compareVersions(a: VersionTag, b: VersionTag): number {
  for (let i = 0; i < Math.max(a.parts.length, b.parts.length); i++) {
    const diff = (a.parts[i] ?? 0) - (b.parts[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function sameShape(a: VersionTag, b: VersionTag): boolean {
  return a.prefix === b.prefix && a.suffix === b.suffix && a.parts.length === b.parts.length;
}

/**
 * The newest patch, minor and major version after `current` among `tags` (same shape only),
 * or undefined when `current` does not read as a version.
 */
export function newerVersions(
  current: string,
  tags: readonly string[],
): NewerVersions | undefined {
  const mine = parseVersionTag(current);
  if (!mine) return undefined;
  const n = mine.parts.length;
  const newest: { patch?: VersionTag; minor?: VersionTag; major?: VersionTag } = {};
  const keep = (level: keyof typeof newest, candidate: VersionTag) => {
    const held = newest[level];
    if (!held || compareVersions(candidate, held) > 0) newest[level] = candidate;
  };
  for (const tag of tags) {
    const other = parseVersionTag(tag);
    if (!other || !sameShape(mine, other) || compareVersions(other, mine) <= 0) continue;
    if (other.parts[0] !== mine.parts[0]) {
      keep("major", other);
    } else if (n === 3 && other.parts[1] !== mine.parts[1]) {
      keep("minor", other);
    } else if (n > 1) {
      keep("patch", other);
    }
  }
  const result: NewerVersions = {};
  if (newest.patch) result.patch = newest.patch.tag;
  if (newest.minor) result.minor = newest.minor.tag;
  if (newest.major) result.major = newest.major.tag;
  return result;
}
