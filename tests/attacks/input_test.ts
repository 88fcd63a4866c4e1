/**
 * Attacks on input costs and validation (hardening issue items 13, 14 and parts of 17):
 * expensive compose previews by a viewer, oversized commands, env and labels, registry
 * addresses the Engine should never be asked to log in to, stack names that are not project
 * names, NUL bytes in env values, and escape-shaped settings run or deployed without an
 * explicit acknowledgement. Every case failed on the code before its fix.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp } from "../fixtures/app.ts";
import { delay, type PanelProcess, startPanel } from "../fixtures/server.ts";
import { dockerHost, TEST_IMAGE, testEngine } from "../fixtures/engine.ts";
import { createDockerClient } from "../../lib/docker/client.ts";
import { listContainers } from "../../lib/docker/containers.ts";

const PREVIEW = "/api/containers/compose/preview";
const DEPLOY = "/api/containers/compose/deploy";
const MiB = 1024 * 1024;
const SERVICES = "services: {web: {image: nginx}}\n";

/** `head` + as many `unit`s as fit in just under 1 MiB + `tail`. */
function fill(head: string, unit: (i: number) => string, tail: string): string {
  const parts = [head];
  let size = head.length + tail.length;
  for (let i = 0; size + 64 < MiB; i++) {
    const piece = unit(i);
    parts.push(piece);
    size += piece.length;
  }
  parts.push(tail);
  return parts.join("");
}

/** The most expensive compose files that fit in the 1 MiB a preview accepts. */
function worstCaseFiles(): { name: string; body: Record<string, unknown> }[] {
  const merge = (() => {
    let text = `x-m: &m {${Array.from({ length: 500 }, (_, i) => `k${i}: ${i}`).join(", ")}}\n`;
    text += "x-l:\n";
    for (let i = 0; text.length < MiB - 100; i++) text += `  - {<<: *m, z${i}: 1}\n`;
    return text + SERVICES;
  })();
  const anchors = (() => {
    let text = "x-a:\n";
    for (let i = 0; i < 10_000; i++) text += `  - &a${i} v\n`;
    text += "x-b:\n";
    for (let i = 0; i < 10_000; i++) text += `  - *a${i}\n`;
    return text + SERVICES;
  })();
  const files = {
    anchors,
    documents: fill("", () => "---\n", SERVICES),
    tokens: fill("x-l: [", () => "1,", `1]\n${SERVICES}`),
    flowMaps: fill("x-l: [", () => "{a: 1},", `1]\n${SERVICES}`),
    nesting: fill("x-l:\n", () => `  - ${"[".repeat(60)}${"]".repeat(60)}\n`, SERVICES),
    merge,
    comments: fill("", () => "#\n", SERVICES),
    services: fill(
      "services:\n",
      (i) => `  s${i}: {image: nginx, environment: [A=1], ports: ["${1000 + i % 60000}:80"]}\n`,
      "",
    ),
    blockMap: fill("x-m:\n", (i) => `  k${i}: 1\n`, SERVICES),
  };
  const env = fill("", (i) => `V${i}=x\n`, "");
  return [
    ...Object.entries(files).map(([name, yaml]) => ({ name, body: { project: "p", yaml } })),
    { name: "dotenv", body: { project: "p", yaml: SERVICES, env } },
    { name: "anchors-again", body: { project: "p", yaml: anchors } },
    { name: "documents-again", body: { project: "p", yaml: files.documents } },
  ];
}

/** The panel process's resident memory in bytes (VmRSS). */
async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) * 1024;
}

/**
 * Polls /api/health every 10 ms until `done` settles; every answer's time in ms, sorted.
 * The polling runs in a worker, so the test's own uploads do not delay it.
 */
async function healthTimes(url: string, done: Promise<unknown>): Promise<number[]> {
  const code = `
    let stop = false;
    self.onmessage = () => stop = true;
    const times = [];
    while (!stop) {
      const start = performance.now();
      const response = await fetch(${JSON.stringify(`${url}/api/health`)});
      await response.body?.cancel();
      times.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    self.postMessage(times);
  `;
  const source = URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
  const poller = new Worker(source, { type: "module" });
  const times = new Promise<number[]>((resolve) =>
    poller.onmessage = (event) => resolve(event.data)
  );
  await done.catch(() => {});
  poller.postMessage("stop");
  try {
    return (await times).sort((a, b) => a - b);
  } finally {
    poller.terminate();
    URL.revokeObjectURL(source);
  }
}

/**
 * Sends the 12 worst-case previews at once to the real panel process (so the client's own
 * work is not counted) from `cookies` in turn, measuring /api/health and the panel's RSS.
 */
async function previewStorm(panel: PanelProcess, cookies: string[]) {
  const files = worstCaseFiles().slice(0, 12).map(({ body }) => JSON.stringify(body));
  const post = (body: string, cookie: string) =>
    fetch(`${panel.url}${PREVIEW}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie },
      body,
    });
  // Warm up the route (the worker's modules, the first Engine connection) before measuring.
  await (await post(JSON.stringify({ yaml: SERVICES, project: "p" }), cookies[0])).body?.cancel();
  await delay(300);
  // The same polling with nothing else going on: on a loaded machine (other test files run at
  // the same time) /api/health itself can take tens of milliseconds.
  const idle = await healthTimes(panel.url, delay(1000));
  const pid = panel.child.pid;
  const rssBefore = await rssOf(pid);
  let rssPeak = rssBefore;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssPeak = Math.max(rssPeak, await rssOf(pid));
      await delay(20);
    }
  })();
  const all = Promise.all(files.map(async (body, i) => {
    const response = await post(body, cookies[i % cookies.length]);
    const text = await response.text();
    return { status: response.status, text, retryAfter: response.headers.get("retry-after") };
  }));
  // Polled for at least as long as the idle sample, so that both are judged on enough answers.
  const busy = await healthTimes(panel.url, Promise.all([all, delay(1000)]));
  const answers = await all;
  sampling = false;
  await sampler;
  return { answers, health: { idle, busy }, growthMb: (rssPeak - rssBefore) / 1e6 };
}

/**
 * /api/health stays under 100 ms while the previews run (before the fix: 3-8 s). Other test
 * files run at the same time on two cores: when the machine is loaded (a load average above
 * its cores, or slow answers even when the panel is idle) the panel's thread waits for a
 * core now and then, so 90% of the answers must be under 100 ms and none over 500 ms.
 */
async function assertFastHealth({ idle, busy }: { idle: number[]; busy: number[] }) {
  const load = Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
  const quiet = load < navigator.hardwareConcurrency && idle.at(-1)! < 30;
  const shown = `during the previews: ${busy.map((ms) => ms.toFixed(0)).join(" ")} ms; idle: ${
    idle.map((ms) => ms.toFixed(0)).join(" ")
  } ms; load average ${load}`;
  if (quiet) assert.ok(busy.at(-1)! < 100, shown);
  else {
    assert.ok(busy[Math.floor(busy.length * 0.9)] < 100, shown);
    assert.ok(busy.at(-1)! < 500, shown);
  }
}

/** Creates `count` viewers through the admin API and signs each in; their cookies. */
async function viewers(panel: PanelProcess, count: number): Promise<string[]> {
  const admin = await panel.login();
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const username = `viewer${i}`;
    const password = "viewer password for tests";
    const created = await fetch(`${panel.url}/api/users`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: admin },
      body: JSON.stringify({ username, password, role: "viewer" }),
    });
    assert.equal(created.status, 201, await created.text());
    cookies.push(await panel.login(username, password));
  }
  return cookies;
}

Deno.test("attack: 12 parallel worst-case previews by one viewer keep /api/health fast and memory bounded", async () => {
  await using panel = await startPanel();
  const { answers, health, growthMb } = await previewStorm(panel, await viewers(panel, 1));
  await assertFastHealth(health);
  assert.ok(growthMb < 100, `RSS grew by ${growthMb.toFixed(0)} MB`);
  for (const answer of answers) {
    assert.ok([200, 400, 413, 429].includes(answer.status), `${answer.status} ${answer.text}`);
  }
  // One preview at a time per user: the others are refused before any parsing, with a
  // time to come back.
  const busy = answers.filter((answer) => answer.status === 429);
  assert.ok(busy.length >= 10, `only ${busy.length} of 12 were refused as busy`);
  for (const answer of busy) assert.ok(Number(answer.retryAfter) >= 1, answer.text);
});

Deno.test("attack: 12 viewers previewing worst-case files at once keep /api/health fast and memory bounded", async () => {
  await using panel = await startPanel();
  const { answers, health, growthMb } = await previewStorm(panel, await viewers(panel, 12));
  await assertFastHealth(health);
  assert.ok(growthMb < 100, `RSS grew by ${growthMb.toFixed(0)} MB`);
  for (const answer of answers) {
    assert.ok([200, 400, 413, 429].includes(answer.status), `${answer.status} ${answer.text}`);
  }
  // Those that got a turn were refused by the caps (each file breaks one), not parsed in full.
  const refused = answers.filter((answer) => answer.status === 400 || answer.status === 413);
  assert.ok(refused.length >= 1, JSON.stringify(answers.map((a) => a.status)));
});

/** A client on the real Engine that records every request's method and path. */
function recordingDocker() {
  const calls: string[] = [];
  const docker = createDockerClient(dockerHost, {
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      calls.push(`${init?.method ?? "GET"} ${url.pathname.replace(/^\/v[0-9.]+/, "")}`);
      return fetch(input, init);
    },
  });
  return { docker, calls };
}

const mutating = (calls: string[]) =>
  calls.filter((call) =>
    /^POST \/(containers\/create|auth|networks\/create|volumes\/create)/.test(call)
  );

Deno.test("attack: a 100 KB command, a huge env or label set is a 400 before any Engine call (run and compose)", async () => {
  await using engine = await testEngine("inputsize");
  const { docker, calls } = recordingDocker();
  const t = await createTestApp({ docker });
  try {
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const big = "x".repeat(100 * 1024);
    const runs: Record<string, unknown>[] = [
      { cmd: `echo ${big}` },
      { cmd: ["echo", big] },
      { cmd: Array(5000).fill("a") },
      { env: { BIG: big } },
      { env: Array.from({ length: 5000 }, (_, i) => `V${i}=${"y".repeat(30)}`) },
    ];
    for (const extra of runs) {
      const response = await t.request("POST", "/api/containers/run", {
        cookie: admin,
        json: { image: TEST_IMAGE, name: `${engine.prefix}big`, ...extra },
      });
      const text = await response.text();
      assert.equal(response.status, 400, `${Object.keys(extra)} ${text}`);
      assert.match(text, /too (long|large|many)/i);
    }
    const composes = [
      `command: ["echo", "${big}"]`,
      `entrypoint: "sh -c '${big}'"`,
      `environment:\n      BIG: "${big}"`,
      `labels:\n      big: "${big}"`,
      `labels:\n${
        Array.from({ length: 3000 }, (_, i) => `      l${i}: "${"z".repeat(20)}"`).join("\n")
      }`,
      `environment:\n${
        Array.from({ length: 3000 }, (_, i) => `      V${i}: "${"z".repeat(20)}"`).join("\n")
      }`,
    ];
    for (const setting of composes) {
      const yaml = `services:\n  web:\n    image: ${TEST_IMAGE}\n    ${setting}\n`;
      const response = await t.request("POST", DEPLOY, {
        cookie: admin,
        json: { project: `${engine.prefix}big`, yaml },
      });
      const text = await response.text();
      assert.equal(response.status, 400, `${setting.slice(0, 40)}: ${text.slice(0, 200)}`);
      assert.match(text, /too (long|large|many)/i);
    }
    assert.deepEqual(mutating(calls), [], "the Engine was asked to create something");
    const left = await listContainers(engine.docker, {
      all: true,
      filters: { name: [engine.prefix] },
    });
    assert.equal(left.length, 0);
  } finally {
    await t.close();
    docker.close();
  }
});

Deno.test("attack: a NUL in an env value is a 400 before any Engine call (run and compose)", async () => {
  await using engine = await testEngine("inputnul");
  const { docker, calls } = recordingDocker();
  const t = await createTestApp({ docker });
  try {
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    for (const env of [{ A: "x\u0000y" }, ["A=x\u0000y"]]) {
      const response = await t.request("POST", "/api/containers/run", {
        cookie: admin,
        json: { image: TEST_IMAGE, name: `${engine.prefix}nul`, env },
      });
      const text = await response.text();
      assert.equal(response.status, 400, text);
      assert.match(text, /NUL/);
    }
    for (
      const input of [
        {
          yaml: `services:\n  web:\n    image: ${TEST_IMAGE}\n    environment:\n      A: "x\\0y"\n`,
        },
        {
          yaml: `services:\n  web:\n    image: ${TEST_IMAGE}\n    environment: ["A=\${V}"]\n`,
          env: "V=a\u0000b\n",
        },
        {
          yaml: `services:\n  web:\n    image: ${TEST_IMAGE}\n    env_file: a.env\n`,
          env_files: { "a.env": "A=x\u0000y\n" },
        },
        { yaml: `services:\n  web:\n    image: ${TEST_IMAGE}\n    command: ["echo", "a\\0b"]\n` },
      ]
    ) {
      const response = await t.request("POST", DEPLOY, {
        cookie: admin,
        json: { project: `${engine.prefix}nul`, ...input },
      });
      const text = await response.text();
      assert.equal(response.status, 400, `${input.yaml}: ${text}`);
      assert.match(text, /NUL/);
    }
    assert.deepEqual(mutating(calls), []);
  } finally {
    await t.close();
    docker.close();
  }
});

Deno.test("attack: registry addresses that are not registries are a 400 before any Engine /auth call", async () => {
  const { docker, calls } = recordingDocker();
  const t = await createTestApp({ docker, args: ["--listen", "127.0.0.1:8181"] });
  try {
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const refused: [string, RegExp][] = [
      ["169.254.169.254", /link-local/],
      ["http://169.254.169.254:80", /link-local/],
      ["[fe80::1]", /link-local/],
      ["[fe80::1]:5000", /link-local/],
      ["[::ffff:169.254.169.254]", /link-local/],
      ["0.0.0.0:5000", /unspecified/],
      ["[::]:5000", /unspecified/],
      ["224.0.0.1:5000", /multicast/],
      ["[ff02::1]:5000", /multicast/],
      ["127.0.0.1:2375", /Docker daemon/],
      ["localhost:2376", /Docker daemon/],
      ["127.0.0.1:8181", /panel's own address/],
      ["localhost:8181", /panel's own address/],
    ];
    for (const [address, why] of refused) {
      const response = await t.request("POST", "/api/containers/registries", {
        cookie: admin,
        json: { server_address: address, username: "u", password: "p" },
      });
      const body = await response.json();
      assert.equal(response.status, 400, `${address}: ${JSON.stringify(body)}`);
      assert.match(body.error, why, address);
    }
    assert.deepEqual(calls.filter((call) => call.includes("/auth")), []);
    const listed = await (await t.request("GET", "/api/containers/registries", { cookie: admin }))
      .json();
    assert.deepEqual(listed.registries, []);
    // Every refusal has its (final) audit row.
    const rows = auditRows(t.deps.db).filter((row) =>
      row.action === "registry.upsert" && row.exit_code === 400
    );
    assert.equal(rows.length, refused.length);

    // A loopback registry on another port is still asked (nothing listens there: the
    // Engine's login fails, which proves the address itself was accepted).
    const other = await t.request("POST", "/api/containers/registries", {
      cookie: admin,
      json: { server_address: "127.0.0.1:1", username: "u", password: "p" },
    });
    const otherBody = await other.json();
    assert.equal(other.status, 400);
    assert.match(otherBody.error, /refused the login/);
    assert.equal(calls.filter((call) => call.includes("/auth")).length, 1);
  } finally {
    await t.close();
    docker.close();
  }
});

Deno.test("attack: stack names that are not project names are a 400 on every stacks route", async () => {
  const t = await createTestApp();
  try {
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    for (const name of ["a".repeat(300), "..%2Fx", "..", "A-upper", "-x"]) {
      const routes: [string, string][] = [
        ["GET", `/api/containers/compose/stacks/${name}`],
        ["DELETE", `/api/containers/compose/stacks/${name}`],
        ...["start", "stop", "restart", "down"].map((action) =>
          ["POST", `/api/containers/compose/stacks/${name}/${action}`] as [string, string]
        ),
      ];
      for (const [method, path] of routes) {
        const response = await t.request(method, path, { cookie: admin });
        const text = await response.text();
        // ".." is resolved away by URL parsing before routing: it never reaches a stack route.
        if (name === ".." && response.status === 404) continue;
        assert.equal(response.status, 400, `${method} ${path.slice(0, 80)}: ${text.slice(0, 200)}`);
        assert.match(text, /project name/i);
      }
    }
  } finally {
    await t.close();
  }
});

Deno.test("attack: a bind of / or of the Docker socket through the run API needs acknowledge_risks (audited)", async () => {
  await using engine = await testEngine("inputrisk");
  const t = await createTestApp();
  try {
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const cases: [string, RegExp][] = [
      ["/:/host:ro", /whole filesystem/],
      ["/var/run/docker.sock:/var/run/docker.sock", /Docker socket/],
      ["/etc:/host-etc:ro", /\/etc/],
    ];
    for (const [bind, risk] of cases) {
      const json = {
        image: TEST_IMAGE,
        name: `${engine.prefix}risk`,
        cmd: ["sleep", "60"],
        volumes: [bind],
      };
      const refused = await t.request("POST", "/api/containers/run", { cookie: admin, json });
      const body = await refused.json();
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(body.field, "acknowledge_risks");
      assert.match(body.error, risk);
      const row = auditRows(t.deps.db).at(-1)!;
      assert.equal(row.action, "docker.run");
      assert.equal(row.exit_code, 400);
      assert.match(row.stderr, risk);
      assert.equal(
        (await listContainers(engine.docker, { all: true, filters: { name: [engine.prefix] } }))
          .length,
        0,
      );
    }
    const ran = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: {
        image: TEST_IMAGE,
        name: `${engine.prefix}risk`,
        cmd: ["sleep", "60"],
        volumes: ["/:/host:ro"],
        acknowledge_risks: true,
      },
    });
    assert.equal(ran.status, 201, await ran.clone().text());
    assert.equal((await ran.json()).state, "running");
  } finally {
    await t.close();
  }
});

Deno.test("attack: the compose preview lists every escape-shaped setting as a risk", async () => {
  const t = await createTestApp();
  try {
    const viewer = t.cookieFor(await t.addUser("viewer", "viewer"));
    const yaml = `services:
  a:
    image: nginx
    volumes: ["/:/host", "/root:/r", "/etc:/e", "/var/lib/docker:/d", "/dev:/dev", "/var/run/docker.sock:/s"]
  b:
    image: nginx
    cap_add: [SYS_ADMIN, SYS_MODULE, DAC_READ_SEARCH, SYS_PTRACE]
    privileged: true
    pid: host
    ipc: host
    devices: ["/dev/kmsg:/dev/kmsg"]
  c:
    image: nginx
    network_mode: host
`;
    const response = await t.request("POST", PREVIEW, {
      cookie: viewer,
      json: { project: "risky", yaml },
    });
    const preview = await response.json();
    assert.equal(response.status, 200, JSON.stringify(preview));
    const risks = preview.risks.map((risk: { message: string }) => risk.message).join("\n");
    for (
      const expected of [
        /whole filesystem/,
        /\/root/,
        /\/etc/,
        /\/var\/lib\/docker/,
        /\/dev/,
        /Docker socket/,
        /SYS_ADMIN/,
        /SYS_MODULE/,
        /DAC_READ_SEARCH/,
        /SYS_PTRACE/,
        /privileged/,
        /pid: host/,
        /ipc: host/,
        /devices/,
        /network_mode: host/,
      ]
    ) {
      assert.match(risks, expected);
    }
  } finally {
    await t.close();
  }
});
