/**
 * A remote Engine over mutual TLS (a dockerd with --tlsverify in its own network namespace,
 * tests/fixtures/netns_engines.ts) as an environment of the real panel process: refusals
 * in words (wrong CA, client certificate from another CA, expired client certificate,
 * refused address), then list, run, exec over the WebSocket and stats through
 * /api/environments/{env}/... with the container on that Engine only; the PEM texts never
 * answered or audited; its daemon killed: shown down while the local Engine still answers,
 * and up again once the daemon is back.
 */
import assert from "node:assert/strict";
import { startNetnsEngines } from "../fixtures/netns_engines.ts";
import { startPanel } from "../fixtures/server.ts";
import { engineClient, readEvents, TEST_IMAGE } from "../fixtures/engine.ts";
import { DockerError } from "../../lib/docker/errors.ts";

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A PEM's base64 body lines, which must appear nowhere the panel answers or records. */
function pemBody(pem: string): string[] {
  return pem.split("\n").filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line)).slice(0, 3);
}

Deno.test("a TLS environment: refusals in words; list, run, exec, stats through its routes; down and back", async () => {
  await using engines = await startNetnsEngines("envtls", { count: 1, tls: true });
  const engine = engines.manager;
  const certs = engines.certs!;
  await using panel = await startPanel();
  const admin = await panel.login();
  const call = (method: string, path: string, json?: unknown) =>
    fetch(`${panel.url}${path}`, {
      method,
      headers: {
        Cookie: admin,
        Origin: panel.url,
        ...(json === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
  const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
  const url = engine.tcpUrl!;
  const [host] = url.slice("tcp://".length).split(":");

  const refusals: [string, unknown, string, RegExp][] = [
    [
      "wrong CA",
      { url, tls: { ...tls, ca: certs.otherCa } },
      "tls.ca",
      /not signed by the given CA/,
    ],
    [
      "client certificate from another CA",
      { url, tls: { ...tls, cert: certs.otherClientCert, key: certs.otherClientKey } },
      "tls.cert",
      /refused the client certificate/,
    ],
    [
      "expired client certificate",
      { url, tls: { ...tls, cert: certs.expiredClientCert, key: certs.expiredClientKey } },
      "tls.cert",
      /expired on 2020-/,
    ],
    ["refused address", { url: `tcp://${host}:2399`, tls }, "url", /connection refused/],
  ];
  const messages = new Set<string>();
  for (const [label, body, field, message] of refusals) {
    const response = await call("POST", "/api/environments", { name: label, ...(body as object) });
    const answer = await response.json();
    assert.equal(response.status, 400, `${label}: ${JSON.stringify(answer)}`);
    assert.match(answer.error, message, label);
    assert.equal(answer.field, field, label);
    messages.add(answer.error);
  }
  assert.equal(messages.size, refusals.length, "each refusal says something different");

  const added = await call("POST", "/api/environments", { name: "TLS node", url, tls });
  const addedText = await added.text();
  assert.equal(added.status, 201, addedText);
  const env = JSON.parse(addedText) as { id: string; tls: boolean };
  assert.equal(env.tls, true);
  const secrets = [...pemBody(certs.clientKey), ...pemBody(certs.clientCert), ...pemBody(certs.ca)];
  for (const line of secrets) assert.ok(!addedText.includes(line), "no PEM in the answer");

  const listed = await until("the TLS environment to be up", async () => {
    const { environments } = await (await call("GET", "/api/environments")).json();
    const found = environments.find((e: { id: string }) => e.id === env.id);
    return found?.state.status === "up" ? found : undefined;
  });
  assert.equal(listed.tls, true);
  assert.match(listed.certificates.cert.subject, /\S/);
  assert.match(listed.certificates.ca.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.match(listed.certificates.cert.notAfter, /^\d{4}-/);
  assert.match(listed.state.engine_version, /^\d+\./);
  for (const line of secrets) assert.ok(!JSON.stringify(listed).includes(line));

  // Run a container there: it exists on that Engine only.
  const name = `cmenvtls-${crypto.randomUUID().slice(0, 8)}`;
  const run = await call("POST", `/api/environments/${env.id}/containers/run`, {
    image: TEST_IMAGE,
    name,
    cmd: ["sleep", "600"],
  });
  const runText = await run.text();
  assert.equal(run.status, 201, runText);
  const { id } = JSON.parse(runText) as { id: string };
  assert.equal((await engine.docker.json<{ Id: string }>("GET", `/containers/${id}/json`)).Id, id);
  const local = await engineClient();
  try {
    await assert.rejects(
      local.json("GET", `/containers/${id}/json`),
      (error) => error instanceof DockerError && error.daemonStatus === 404,
    );
  } finally {
    local.close();
  }
  const list = await call("GET", `/api/environments/${env.id}/containers`);
  const listText = await list.text();
  assert.equal(list.status, 200);
  assert.ok(listText.includes(id), "listed through the environment");
  const localList = await call("GET", "/api/containers");
  assert.ok(!(await localList.text()).includes(id), "not listed on local");

  // Exec over the environment's WebSocket.
  const wsUrl = `${
    panel.url.replace("http", "ws")
  }/ws/environments/${env.id}/containers/${id}/exec`;
  // @ts-ignore Deno's WebSocket takes headers as a second-argument option.
  const socket = new WebSocket(wsUrl, { headers: { Cookie: admin, Origin: panel.url } });
  socket.binaryType = "arraybuffer";
  let received = "";
  socket.onmessage = (event) => {
    received += typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data);
  };
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve());
    socket.addEventListener("error", () => reject(new Error("The exec WebSocket did not open")));
  });
  socket.send(new TextEncoder().encode("echo tls-$((6*7))\n"));
  await until(
    "the exec output",
    () => Promise.resolve(/tls-42/.test(received) || undefined),
    30_000,
  );
  socket.send(new TextEncoder().encode("exit\n"));
  await closed;

  // Stats, computed by the panel from that Engine's stream.
  const stats = await call(
    "GET",
    `/api/environments/${env.id}/docker/containers/${id}/stats/stream`,
  );
  assert.equal(stats.status, 200);
  const events = await readEvents(
    stats,
    (events) => events.some((e) => e.event === "stats"),
    30_000,
  );
  assert.ok(events.some((e) => e.event === "stats"));

  // Audit rows name the environment; nothing secret in them.
  const audit = await (await call("GET", `/api/audit?environment=${env.id}&limit=100`)).json();
  const actions = audit.rows.map((row: { action: string }) => row.action);
  assert.ok(actions.includes("docker.run"), JSON.stringify(actions));
  assert.ok(actions.includes("docker.exec"), JSON.stringify(actions));
  const exported = await (await call("GET", "/api/audit/export?format=json")).text();
  for (const line of secrets) assert.ok(!exported.includes(line), "no PEM in the audit trail");
  assert.ok(!exported.includes("PRIVATE KEY"));
  for (const line of secrets) assert.ok(!panel.output().includes(line), "no PEM in the logs");

  // Its daemon dies: the environment shows down, the local Engine still answers.
  await engine.kill();
  const down = await until("the environment to show down", async () => {
    const { environments } = await (await call("GET", "/api/environments")).json();
    const found = environments.find((e: { id: string }) => e.id === env.id);
    return found?.state.status === "down" ? found : undefined;
  });
  assert.ok(down.state.error, "a down environment says why");
  const localAgain = await call("GET", "/api/containers");
  assert.equal(localAgain.status, 200);
  await localAgain.body?.cancel();
  const page = await call("GET", "/containers");
  assert.equal(page.status, 200);
  await page.body?.cancel();

  await engine.start();
  await until("the environment to recover", async () => {
    const { environments } = await (await call("GET", "/api/environments")).json();
    const found = environments.find((e: { id: string }) => e.id === env.id);
    return found?.state.status === "up" ? found : undefined;
  });
  const after = await call("GET", `/api/environments/${env.id}/containers?all=1`);
  assert.equal(after.status, 200);
  assert.ok((await after.text()).includes(id), "the environment answers again");

  const removed = await call("DELETE", `/api/environments/${env.id}`);
  assert.equal(removed.status, 200);
  await removed.body?.cancel();
});
