/** "key=value" lines (labels, driver options) to a map and back, for the create forms. */

export function parseKeyValues(
  text: string,
  field: string,
): { map: Record<string, string> } | { error: string } {
  const map: Record<string, string> = {};
  const lines = text.split("\n").map((line) => line.trim()).filter(Boolean);
  for (const [index, line] of lines.entries()) {
    const equals = line.indexOf("=");
    const key = (equals < 0 ? line : line.slice(0, equals)).trim();
    if (!key) return { error: `${field}, line ${index + 1}: a key is missing before "="` };
    if (Object.hasOwn(map, key)) return { error: `${field}: "${key}" is given twice` };
    map[key] = equals < 0 ? "" : line.slice(equals + 1).trim();
  }
  return { map };
}

export function keyValueEntries(map: Record<string, string>): [string, string][] {
  return Object.entries(map).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
}
