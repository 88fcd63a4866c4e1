import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { appendAudit } from "../../lib/sysctl/audit.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const BASE = Date.parse("2026-03-01T10:00:00Z");

/** Rows at 10:00:00, 10:00:30, 10:00:59.999, 10:01:00 and 10:02:00 UTC. */
function fillAt(t: TestApp, prefix: string) {
  const offsets = [0, 30_000, 59_999, 60_000, 120_000];
  for (const [i, offset] of offsets.entries()) {
    appendAudit(t.deps.db, {
      actor: "alice",
      action: "docker.restart",
      target: `${prefix}${i}`,
      exitCode: 0,
      durationMs: 1,
      ts: new Date(BASE + offset).toISOString(),
    });
  }
}

async function targets(t: TestApp, cookie: string, query: Record<string, string>) {
  const response = await t.request("GET", `/api/audit?${new URLSearchParams(query)}`, { cookie });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return (body.rows as { target: string }[]).map((row) => row.target).reverse();
}

Deno.test("the audit time filter takes ISO instants, and `to` includes its whole minute", async () => {
  const t = await createTestApp();
  const prefix = `cmaudit-${crypto.randomUUID().slice(0, 8)}-`;
  try {
    const admin = t.cookieFor(await t.addUser("audit-admin", "admin"));
    fillAt(t, prefix);
    const all = [0, 1, 2, 3, 4].map((i) => `${prefix}${i}`);

    // To the minute: 10:00 means up to 10:00:59.999.
    assert.deepEqual(
      await targets(t, admin, { from: "2026-03-01T10:00Z", to: "2026-03-01T10:00Z" }),
      all.slice(0, 3),
    );
    // The same minute written with an offset is the same instant.
    assert.deepEqual(
      await targets(t, admin, { from: "2026-03-01T11:00+01:00", to: "2026-03-01T05:30-04:30" }),
      all.slice(0, 3),
    );
    // To the second: 10:00:30 ends at 10:00:30.999; `from` is exact.
    assert.deepEqual(
      await targets(t, admin, { from: "2026-03-01T10:00:30Z", to: "2026-03-01T10:01:00Z" }),
      all.slice(1, 4),
    );
    assert.deepEqual(
      await targets(t, admin, { from: "2026-03-01T10:00:59.999Z", to: "2026-03-01T10:00:59.999Z" }),
      all.slice(2, 3),
    );
    assert.deepEqual(await targets(t, admin, { from: "2026-03-01T10:01Z" }), all.slice(3));

    // The export uses the same filter.
    const csv = await (await t.request(
      "GET",
      `/api/audit/export?${new URLSearchParams({
        format: "csv",
        from: "2026-03-01T10:00Z",
        to: "2026-03-01T10:00Z",
      })}`,
      { cookie: admin },
    )).text();
    assert.equal(csv.trim().split("\r\n").length, 1 + 3);

    // Anything the server would have to read in its own zone is refused, naming the field.
    const refused: [string, string, RegExp][] = [
      ["from", "2026-03-01T10:00", /no time zone/],
      ["to", "2026-03-01T10:00:30", /no time zone/],
      ["to", "2026-03-01", /date alone/],
      ["from", "2026-03-01T10:00 01:00", /%2B/], // a "+" sent unencoded
      ["from", "March 1, 2026", /ISO 8601 instant/],
      ["to", "1772359200000", /ISO 8601 instant/],
      ["to", "2026-02-30T10:00Z", /not a real date/],
      ["from", "2026-03-01T24:00Z", /not a real date/],
      ["to", "2026-03-01T10:00+24:00", /not a real date/],
    ];
    for (const [field, value, reason] of refused) {
      for (const path of ["/api/audit", "/api/audit/export"]) {
        const response = await t.request(
          "GET",
          `${path}?${new URLSearchParams({ [field]: value })}`,
          {
            cookie: admin,
          },
        );
        const body = await response.json();
        assert.equal(response.status, 400, `${path} ${field}=${value}`);
        assert.equal(body.field, field);
        assert.match(body.error, reason);
      }
    }
  } finally {
    await t.close();
  }
});

Deno.test("the Audit tab turns a datetime-local value into the instant it means in the browser's zone", async () => {
  // The browser's zone is the process's: run the island's function under fixed zones.
  const script = [
    `import { localToInstant } from "${new URL("../../islands/AuditLog.tsx", import.meta.url)}";`,
    `console.log(JSON.stringify(["2026-03-01T10:00", "2026-07-01T10:00:30", "", "nonsense"]`,
    `  .map(localToInstant)));`,
  ].join("\n");
  const expected: Record<string, string[]> = {
    "UTC": ["2026-03-01T10:00Z", "2026-07-01T10:00:30Z", "", "nonsense"],
    "Asia/Kolkata": ["2026-03-01T04:30Z", "2026-07-01T04:30:30Z", "", "nonsense"],
    // Winter and summer time: the offset of the date given, not of today.
    "America/New_York": ["2026-03-01T15:00Z", "2026-07-01T14:00:30Z", "", "nonsense"],
  };
  for (const [zone, instants] of Object.entries(expected)) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", script],
      cwd: new URL("../../", import.meta.url),
      env: { TZ: zone },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, stderr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), instants, zone);
  }
});
