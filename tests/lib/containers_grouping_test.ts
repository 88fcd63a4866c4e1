import assert from "node:assert/strict";
import { groupByStack, parseCollapsed } from "../../islands/containers/grouping.ts";
import type { ContainerView } from "../../islands/containers/types.ts";

const row = (name: string, project?: string) =>
  ({
    name,
    compose: project ? { project, service: name } : null,
  }) as unknown as ContainerView;

Deno.test("group by stack: stacks by name, rows in their given order, loose containers last", () => {
  const groups = groupByStack([
    row("solo"),
    row("web", "shop"),
    row("db", "blog"),
    row("api", "shop"),
    row("other"),
  ]);
  assert.deepEqual(
    groups.map((group) => [group.project, group.rows.map((c) => c.name)]),
    [["blog", ["db"]], ["shop", ["web", "api"]], [null, ["solo", "other"]]],
  );
  assert.deepEqual(groupByStack([]), []);
});

Deno.test("group by stack: stored collapsed stacks are read defensively", () => {
  assert.deepEqual([...parseCollapsed('["shop",""]')], ["shop", ""]);
  assert.deepEqual([...parseCollapsed(null)], []);
  assert.deepEqual([...parseCollapsed("{bad")], []);
  assert.deepEqual([...parseCollapsed('{"a":1}')], []);
  assert.deepEqual([...parseCollapsed('[1,"x"]')], ["x"]);
});
