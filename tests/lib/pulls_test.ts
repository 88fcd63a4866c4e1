import assert from "node:assert/strict";
import { createPullTracker, type PullStreamLine } from "../../lib/pulls.ts";

Deno.test("pull tracker: running pulls are listed until they finish", () => {
  const tracker = createPullTracker(() => new Date("2026-11-27T10:00:00Z"));
  const a = tracker.start("127.0.0.1:5000/team/app:1", "admin");
  const b = tracker.start("busybox", "ops");
  assert.deepEqual(tracker.running().map((pull) => [pull.reference, pull.actor]), [
    ["127.0.0.1:5000/team/app:1", "admin"],
    ["busybox", "ops"],
  ]);
  assert.equal(tracker.running()[0].started_at, "2026-11-27T10:00:00.000Z");
  a.finish({ done: true });
  assert.deepEqual(tracker.running().map((pull) => pull.id), [b.id]);
  assert.equal(tracker.follow(a.id, () => {}, () => {}), undefined, "a finished pull");
  assert.equal(tracker.follow("nope", () => {}, () => {}), undefined);
});

Deno.test("pull tracker: a follower gets a compact replay, then the live lines and the end", () => {
  const tracker = createPullTracker();
  const pull = tracker.start("team/app", "admin");
  pull.record({ status: "Pulling from team/app", id: "latest" });
  for (let i = 1; i <= 500; i++) {
    pull.record({ status: "Downloading", id: "aaa", progressDetail: { current: i, total: 500 } });
  }
  pull.record({ status: "Pulling fs layer", id: "bbb" });

  const seen: PullStreamLine[] = [];
  let ended = 0;
  const stop = tracker.follow(pull.id, (line) => seen.push(line), () => ended++);
  assert.ok(stop);
  assert.deepEqual(seen, [
    { status: "Pulling from team/app", id: "latest" },
    { status: "Downloading", id: "aaa", progressDetail: { current: 500, total: 500 } },
    { status: "Pulling fs layer", id: "bbb" },
  ]);

  pull.record({ status: "Download complete", id: "bbb" });
  pull.finish({ done: true, digest: "sha256:x" });
  assert.deepEqual(seen.slice(3), [
    { status: "Download complete", id: "bbb" },
    { done: true, digest: "sha256:x" },
  ]);
  assert.equal(ended, 1);
  pull.record({ status: "late" });
  pull.finish({ done: true });
  assert.equal(seen.length, 5, "nothing after the end");
  assert.equal(ended, 1);
});

Deno.test("pull tracker: a follower that stops gets nothing more; general lines are capped", () => {
  const tracker = createPullTracker();
  const pull = tracker.start("team/app", "admin");
  for (let i = 0; i < 50; i++) pull.record({ status: `Retrying in ${i} seconds` });
  const seen: PullStreamLine[] = [];
  const stop = tracker.follow(pull.id, (line) => seen.push(line), () => {})!;
  assert.equal(seen.length, 20, "the newest 20 general lines");
  assert.equal(seen.at(-1)!.status, "Retrying in 49 seconds");
  stop();
  pull.record({ status: "Status: Downloaded newer image for team/app:latest" });
  assert.equal(seen.length, 20);
});

Deno.test("pull tracker: a follower whose client went away (its signal) is released", () => {
  const tracker = createPullTracker();
  const pull = tracker.start("team/app", "admin");
  pull.record({ status: "Pulling fs layer", id: "aaa" });
  const seen: PullStreamLine[] = [];
  const client = new AbortController();
  assert.ok(tracker.follow(pull.id, (line) => seen.push(line), () => {}, client.signal));
  const other = tracker.follow(pull.id, () => {}, () => {});
  assert.ok(other);
  assert.equal(tracker.followers(pull.id), 2);
  client.abort();
  assert.equal(tracker.followers(pull.id), 1, "released at once");
  pull.record({ status: "Downloading", id: "aaa" });
  assert.equal(seen.length, 1, "nothing after the client left");
  other();
  assert.equal(tracker.followers(pull.id), 0);
  const gone = new AbortController();
  gone.abort();
  assert.equal(tracker.follow(pull.id, () => {}, () => {}, gone.signal), undefined);
  assert.equal(tracker.followers(pull.id), 0, "a client already gone is never registered");
});
