/**
 * What the panel's log says for operators: the first-run setup token last, framed, after the
 * listening line; and one line when the Engine goes away and one when it is back.
 */
import assert from "node:assert/strict";
import { delay, startPanel } from "../fixtures/server.ts";
import { startEngineProxy } from "../fixtures/engine.ts";

const sanitize = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "first run: the setup token is framed after the listening line",
  ...sanitize,
  async fn() {
    await using panel = await startPanel({ env: { CM_ADMIN_PASSWORD: "" } });
    const output = panel.output();
    const lines = output.trimEnd().split("\n");
    const listening = lines.findIndex((line) => line.includes("listening on"));
    const token = lines.findIndex((line) => /setup token: [0-9a-f]{48}$/.test(line));
    assert.ok(listening >= 0 && token > listening, output);
    assert.match(lines[token - 1], new RegExp(`${panel.url}/setup$`));
    assert.match(lines[token + 1], /^={40,}$/, "framed below");
    assert.match(lines[token - 3], /^={40,}$/, "framed above");
    assert.match(lines[token - 2], /FIRST RUN/);
    assert.equal(token, lines.length - 2, "nothing after it but the frame");
  },
});

Deno.test({
  name: "the log says once when the Engine goes away and once when it is back",
  ...sanitize,
  async fn() {
    const proxy = await startEngineProxy();
    try {
      await using panel = await startPanel({ args: ["--docker-host", proxy.url] });
      const count = (pattern: RegExp) =>
        panel.output().split("\n").filter((l) => pattern.test(l)).length;
      const waitFor = async (pattern: RegExp) => {
        const deadline = Date.now() + 20_000;
        while (count(pattern) === 0) {
          assert.ok(Date.now() < deadline, `no line matching ${pattern}:\n${panel.output()}`);
          await delay(100);
        }
      };
      await delay(500);
      proxy.cut();
      await waitFor(/Z Docker Engine unreachable at .*; retrying$/);
      await delay(3_000); // several reconnect attempts
      proxy.resume();
      await waitFor(/is reachable again/);
      assert.equal(count(/Z Docker Engine unreachable at .*; retrying$/), 1, panel.output());
      assert.equal(count(/is reachable again/), 1);
    } finally {
      await proxy.stop();
    }
  },
});
