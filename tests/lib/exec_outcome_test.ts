/** How an exec session's end reads in the Audit tab and in the terminal's status line. */
import assert from "node:assert/strict";
import { type AuditRowView, outcomeOf } from "../../islands/AuditLog.tsx";
import { statusText } from "../../islands/containers/Terminal.tsx";

function execRow(fields: Partial<AuditRowView>): AuditRowView {
  return {
    seq: 2,
    ts: "2026-11-30T10:00:00.000Z",
    actor: "admin",
    client_ip: "127.0.0.1",
    action: "docker.exec",
    target: "a".repeat(64),
    params: `{"cmd":"/bin/sh"}`,
    exit_code: 0,
    duration_ms: 5,
    stdout: "",
    stderr: "",
    request_id: "r",
    prev_hash: "",
    hash: "",
    phase: null,
    started_seq: 1,
    ...fields,
  } as AuditRowView;
}

Deno.test("audit outcome: an exec the user closed reads 'closed', one that exited 0 'ended'", () => {
  const closed = outcomeOf(execRow({
    stdout: `{"cmd":"/bin/sh","ended":"closed","reason":"Closed by the user","fallback":false}`,
  }));
  assert.equal(closed.label, "closed");
  assert.equal(closed.title, "Closed by the user");
  const ended = outcomeOf(execRow({
    stdout: `{"cmd":"/bin/sh","ended":"exited","exit_code":0,"fallback":false}`,
  }));
  assert.equal(ended.label, "ended");
});

Deno.test("audit outcome: a real non-zero exit keeps its code; other rows are unchanged", () => {
  const failed = outcomeOf(execRow({ exit_code: 3, stderr: "/bin/sh exited with code 3" }));
  assert.equal(failed.label, "failed 3");
  assert.equal(
    outcomeOf(execRow({ action: "docker.stop", stdout: `{"ended":"closed"}` })).label,
    "ok",
  );
  assert.equal(outcomeOf(execRow({ stdout: "{not json" })).label, "ok");
});

Deno.test("terminal status: exit code 0 is a normal end; other codes are named", () => {
  assert.equal(statusText({ phase: "exited", code: 0 }, ""), "Session ended");
  assert.equal(statusText({ phase: "exited", code: 3 }, ""), "Exited with code 3");
});
