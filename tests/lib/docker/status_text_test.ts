import assert from "node:assert/strict";
import { humanDuration, statusText } from "../../../lib/docker/views.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

Deno.test("humanDuration words durations as the Engine's status texts do", () => {
  const cases: [number, string][] = [
    [450, "Less than a second"],
    [-5 * SECOND, "Less than a second"],
    [1 * SECOND, "1 second"],
    [45 * SECOND, "45 seconds"],
    [59 * SECOND, "59 seconds"],
    [60 * SECOND, "About a minute"],
    [3 * MINUTE, "3 minutes"],
    [35 * MINUTE + 40 * SECOND, "35 minutes"],
    [59 * MINUTE, "59 minutes"],
    [1 * HOUR, "About an hour"],
    [1 * HOUR + 29 * MINUTE, "About an hour"],
    [1 * HOUR + 31 * MINUTE, "2 hours"],
    [3 * HOUR + 29 * MINUTE, "3 hours"],
    [3 * HOUR + 31 * MINUTE, "4 hours"],
    [24 * HOUR, "24 hours"],
    [DAY + 12 * HOUR, "36 hours"],
    [2 * DAY, "2 days"],
    [13 * DAY + 5 * HOUR, "13 days"],
    [2 * WEEK, "2 weeks"],
    [MONTH, "4 weeks"],
    [MONTH + 2 * WEEK, "6 weeks"],
    [2 * MONTH, "2 months"],
    [5 * MONTH + 2 * WEEK, "5 months"],
    [24 * MONTH, "24 months"],
    [24 * MONTH + 2 * WEEK, "2 years"],
    [3 * YEAR + 2 * MONTH, "3 years"],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms} ms`);
});

Deno.test("statusText: each state's text, as moby's State.String() has it", () => {
  const now = Date.parse("2026-11-30T12:00:00Z");
  const state = (over: Record<string, unknown>) => ({
    Status: "running",
    ExitCode: 0,
    StartedAt: "2026-11-30T11:55:00.123456789Z",
    FinishedAt: "0001-01-01T00:00:00Z",
    ...over,
  });
  assert.equal(statusText(state({}), now), "Up 4 minutes");
  assert.equal(
    statusText(state({ Health: { Status: "starting" } }), now),
    "Up 4 minutes (health: starting)",
  );
  assert.equal(statusText(state({ Health: { Status: "healthy" } }), now), "Up 4 minutes (healthy)");
  assert.equal(statusText(state({ Status: "paused" }), now), "Up 4 minutes (Paused)");
  assert.equal(
    statusText(
      state({ Status: "restarting", ExitCode: 1, FinishedAt: "2026-11-30T11:59:58Z" }),
      now,
    ),
    "Restarting (1) 2 seconds ago",
  );
  assert.equal(
    statusText(state({ Status: "exited", ExitCode: 137, FinishedAt: "2026-11-30T09:00:00Z" }), now),
    "Exited (137) 3 hours ago",
  );
  assert.equal(
    statusText(state({ Status: "created", StartedAt: "0001-01-01T00:00:00Z" }), now),
    "Created",
  );
  assert.equal(statusText(state({ Status: "removing" }), now), "Removal In Progress");
  assert.equal(statusText(state({ Status: "dead" }), now), "Dead");
});
