/** The Containers table at scale: the packed list form, the window arithmetic, `?ids=`. */
import assert from "node:assert/strict";
import { packContainers, unpackContainers } from "../../islands/containers/packed.ts";
import { clampRange, covers, prefixOffsets, rangeFor } from "../../islands/containers/virtual.ts";
import { MAX_STATS_IDS, parseStatsIds } from "../../routes/api/stats_ids.ts";
import {
  COMPACT_ABOVE,
  compactRows,
  parseCompactChoice,
} from "../../islands/containers/compact.ts";
import type { ContainerView } from "../../islands/containers/types.ts";

const view = (over: Partial<ContainerView>): ContainerView => ({
  id: "a".repeat(64),
  name: "web",
  image: "nginx:1.27",
  image_id: `sha256:${"b".repeat(64)}`,
  state: "running",
  status: "Up 5 minutes (healthy)",
  created: 1_764_000_000,
  started_at: "2026-11-30T15:46:02.123456789Z",
  finished_at: null,
  exit_code: null,
  restart_count: 2,
  health: "healthy",
  ports: [
    { host_ip: "0.0.0.0", host_port: 8080, container_port: 80, proto: "tcp" },
    { host_ip: "::", host_port: 8080, container_port: 80, proto: "tcp" },
    { host_ip: null, host_port: null, container_port: 53, proto: "udp" },
  ],
  labels: {},
  compose: { project: "shop", service: "web" },
  managed: false,
  panel_created: true,
  ...over,
});

Deno.test("packed list: every field the table reads comes back as it was (labels left out)", () => {
  const views = [
    view({}),
    view({
      id: "c".repeat(64),
      name: "odd|name%with\"quotes'&<tags>,;\\ and\nlines",
      image: "registry.local:5000/team/app@sha256:abc",
      state: "exited",
      status: "Exited (137) 2 hours ago",
      started_at: null,
      finished_at: "2026-11-30T10:00:00Z",
      exit_code: 137,
      restart_count: null,
      health: null,
      ports: [],
      compose: null,
      managed: true,
      panel_created: false,
    }),
    view({ id: "d".repeat(64), name: "third", image: "", status: "" }),
  ];
  const packed = packContainers(views);
  assert.deepEqual(unpackContainers(packed), views);
  // Nothing an HTML attribute or JSON escapes, but the line breaks between containers.
  assert.doesNotMatch(packed, /["&<>'\\]/);
  assert.equal(packed.split("\n").length, 2 + views.length);
  assert.deepEqual(unpackContainers(packContainers([])), []);
});

Deno.test("packed list: repeated strings are written once, 1000 rows stay small", () => {
  const views = Array.from({ length: 1000 }, (_, i) =>
    view({
      id: i.toString(16).padStart(64, "0"),
      name: `cmpage-1234abcd-${String(i).padStart(4, "0")}`,
      state: "created",
      status: "Created",
      started_at: null,
      ports: [],
      compose: null,
      labels: { "com.example.a-long-label": "x".repeat(200) },
    }));
  const packed = packContainers(views);
  assert.ok(packed.length < 150 * 1000, `${packed.length} bytes`);
  assert.equal(packed.split("nginx:1.27").length, 2);
  assert.equal(JSON.stringify(packed).length, packed.length + 2 + 1001); // only \n escaped
  assert.throws(() => unpackContainers("v0\n\n"), /Unknown container list format/);
});

Deno.test("window: the items that intersect the viewport, spacers are what is left out", () => {
  const offsets = prefixOffsets([50, 50, 30, 30, 30, 100]);
  assert.deepEqual(offsets, [0, 50, 100, 130, 160, 190, 290]);
  assert.deepEqual(rangeFor(offsets, 0, 60), { start: 0, end: 2 });
  assert.deepEqual(rangeFor(offsets, 50, 100), { start: 1, end: 2 });
  assert.deepEqual(rangeFor(offsets, 99, 131), { start: 1, end: 4 });
  assert.deepEqual(rangeFor(offsets, -500, 10), { start: 0, end: 1 });
  assert.deepEqual(rangeFor(offsets, 280, 2000), { start: 5, end: 6 });
  assert.deepEqual(rangeFor(offsets, 5000, 6000), { start: 5, end: 6 });
  assert.deepEqual(rangeFor([0], 0, 100), { start: 0, end: 0 });
  assert.ok(covers({ start: 0, end: 10 }, { start: 2, end: 10 }));
  assert.ok(!covers({ start: 3, end: 10 }, { start: 2, end: 5 }));
  assert.deepEqual(clampRange({ start: 900, end: 960 }, 100), { start: 40, end: 100 });
  assert.deepEqual(clampRange({ start: 0, end: 40 }, 10), { start: 0, end: 10 });
  assert.deepEqual(clampRange({ start: 5, end: 45 }, 300), { start: 5, end: 45 });
});

Deno.test("stats ids: full ids, distinct, capped; absent means every running container", () => {
  const id = "e".repeat(64);
  assert.equal(parseStatsIds(undefined), null);
  assert.deepEqual(parseStatsIds(""), []);
  assert.deepEqual(parseStatsIds(`${id},${id}`), [id]);
  assert.throws(() => parseStatsIds("abc"), /full 64-character container id/);
  assert.throws(() => parseStatsIds(`${id},../x`), /full 64-character/);
  const many = Array.from(
    { length: MAX_STATS_IDS + 1 },
    (_, i) => i.toString(16).padStart(64, "0"),
  );
  assert.throws(() => parseStatsIds(many.join(",")), /At most 256/);
});

Deno.test("compact rows: the remembered choice wins; without one, compact above 1000", () => {
  assert.equal(COMPACT_ABOVE, 1000);
  assert.equal(compactRows(null, 1000), false);
  assert.equal(compactRows(null, 1001), true);
  assert.equal(compactRows(false, 5000), false);
  assert.equal(compactRows(true, 3), true);
  assert.equal(parseCompactChoice("1"), true);
  assert.equal(parseCompactChoice("0"), false);
  assert.equal(parseCompactChoice(null), null);
  assert.equal(parseCompactChoice("yes"), null);
});
