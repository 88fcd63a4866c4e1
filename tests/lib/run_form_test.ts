/** The Run dialog's form logic (islands/containers/run_form.ts): validation, body, field mapping, duplicate. */
import assert from "node:assert/strict";
import {
  emptyForm,
  emptyRow,
  fieldMessage,
  formField,
  formFromInspect,
  formRisks,
  type RunForm,
  sectionOf,
  sectionSummaries,
  sizeText,
  toBody,
  validate,
} from "../../islands/containers/run_form.ts";
import type { InspectView } from "../../lib/docker/views.ts";
import { parseRunSpec } from "../../lib/docker/run_spec.ts";

function filled(): RunForm {
  return {
    ...emptyForm(),
    image: "cm-test/busybox:latest",
    name: "web",
    entrypoint: "sh -c",
    workingDir: "/srv",
    user: "nobody:nogroup",
    hostname: "web-1",
    networks: [
      { name: "front", aliases: "api, api.internal", uid: 1 },
      { name: "", aliases: "", uid: 2 },
      { name: "back", aliases: "", uid: 3 },
    ],
    labels: [{ key: "com.example.team", value: "ops", uid: 4 }],
    memory: "64m",
    cpus: "0.5",
    capAdd: [{ name: "net_admin", uid: 5 }],
    capDrop: [{ name: "CAP_NET_RAW", uid: 6 }],
    devices: [{ host: "/dev/fuse", container: "", permissions: "", uid: 7 }],
    privileged: false,
    logDriver: "json-file",
    logOptions: [{ key: "max-size", value: "10m", uid: 8 }],
    health: { test: "true", interval: "5s", timeout: "1m30s", retries: "3", startPeriod: "500ms" },
  };
}

Deno.test("run form: a filled form is valid and its body is what the run API accepts", () => {
  const form = filled();
  assert.deepEqual(validate(form).errors, {});
  const { body, rows } = toBody(form);
  assert.deepEqual(body.networks, [
    { name: "front", aliases: ["api", "api.internal"] },
    { name: "back", aliases: [] },
  ]);
  assert.deepEqual(rows.networks, [0, 2], "the empty row is skipped, indexes map back");
  assert.deepEqual(body.entrypoint, ["sh", "-c"]);
  assert.deepEqual(body.labels, { "com.example.team": "ops" });
  assert.equal(body.memory, "64m");
  assert.equal(body.cpus, 0.5);
  assert.deepEqual(body.cap_add, ["NET_ADMIN"]);
  assert.deepEqual(body.cap_drop, ["NET_RAW"]);
  assert.deepEqual(body.devices, ["/dev/fuse:/dev/fuse"]);
  assert.equal(body.privileged, undefined);
  assert.deepEqual(body.log_options, { "max-size": "10m" });
  assert.deepEqual(body.healthcheck, {
    test: "true",
    interval: "5s",
    timeout: "1m30s",
    retries: 3,
    start_period: "500ms",
  });
  // The server takes the body as it is.
  const spec = parseRunSpec(body as unknown as Record<string, unknown>);
  assert.equal(spec.memory, 64 * 1024 * 1024);
  assert.equal(spec.nanoCpus, 5e8);
  assert.equal(spec.healthcheck?.Timeout, 90e9);
  assert.equal(spec.user, "nobody:nogroup");
});

Deno.test("run form: an empty form sends none of the new fields", () => {
  const { body } = toBody({ ...emptyForm(), image: "busybox" });
  assert.deepEqual(Object.keys(body).sort(), [
    "env",
    "image",
    "ports",
    "restart_policy",
    "volumes",
  ]);
  assert.deepEqual(validate({ ...emptyForm(), image: "busybox" }).errors, {});
});

Deno.test("run form: each bad value is an error on its own field", () => {
  const cases: [Partial<RunForm>, string, RegExp, string?][] = [
    [{ memory: "lots" }, "memory", /size like 256m/],
    [{ memory: "1m" }, "memory", /at least 6m/i],
    [{ cpus: "0" }, "cpus", /0\.01 to 1024/],
    [{ cpus: "half" }, "cpus", /number of CPUs/],
    [{ user: "bad user" }, "user", /user name or uid/],
    [{ hostname: "-web" }, "hostname", /Letters, digits/],
    [{ workingDir: "srv" }, "working_dir", /absolute path/],
    [{ entrypoint: 'sh "-c' }, "entrypoint", /Unclosed double quote/],
    [
      { networks: [{ name: "front", aliases: "ok, bad alias!", uid: 1 }] },
      "networks[0]",
      /“alias!” is not an alias/,
      "aliases",
    ],
    [
      { networks: [{ name: "bridge", aliases: "api", uid: 1 }] },
      "networks[0]",
      /default bridge network has no aliases/,
      "aliases",
    ],
    [
      {
        networks: [{ name: "a1", aliases: "", uid: 1 }, { name: "a1", aliases: "", uid: 2 }],
      },
      "networks[1]",
      /listed above/,
      "name",
    ],
    [{ networks: [{ name: "", aliases: "x", uid: 1 }] }, "networks[0]", /Pick a network/, "name"],
    [{ labels: [{ key: "", value: "v", uid: 1 }] }, "labels[0]", /needs a key/, "key"],
    [{ labels: [{ key: "a b", value: "v", uid: 1 }] }, "labels[0]", /Letters, digits/, "key"],
    [{ capAdd: [{ name: "NET_ADMINS", uid: 1 }] }, "cap_add[0]", /not a Linux capability/, "name"],
    [
      { capAdd: [{ name: "NET_ADMIN", uid: 1 }], capDrop: [{ name: "net_admin", uid: 2 }] },
      "cap_drop[0]",
      /also added/,
      "name",
    ],
    [
      { devices: [{ host: "/etc/passwd", container: "", permissions: "", uid: 1 }] },
      "devices[0]",
      /device path on the host/,
      "host",
    ],
    [
      { devices: [{ host: "/dev/fuse", container: "", permissions: "rx", uid: 1 }] },
      "devices[0]",
      /r, w and m/,
      "permissions",
    ],
    [
      { logOptions: [{ key: "max-size", value: "1m", uid: 1 }] },
      "log_options",
      /need a log driver/,
    ],
    [
      { health: { test: "", interval: "5s", timeout: "", retries: "", startPeriod: "" } },
      "healthcheck.test",
      /needs a command/,
    ],
    [
      { health: { test: "true", interval: "5 s", timeout: "", retries: "", startPeriod: "" } },
      "healthcheck.interval",
      /duration like 30s/,
    ],
    [
      { health: { test: "true", interval: "", timeout: "", retries: "0", startPeriod: "" } },
      "healthcheck.retries",
      /1 to 100/,
    ],
  ];
  for (const [patch, key, message, part] of cases) {
    const { errors, parts } = validate({ ...emptyForm(), image: "busybox", ...patch });
    assert.match(errors[key] ?? "", message, `${JSON.stringify(patch)} → ${key}`);
    assert.equal(Object.keys(errors).length, 1, JSON.stringify(errors));
    if (part) assert.equal(parts[key], part, key);
    assert.ok(sectionOf(key), `${key} belongs to a section`);
  }
});

Deno.test("run form: the server's field lands on the form's row or field", () => {
  const { rows } = toBody(filled());
  assert.deepEqual(formField("networks[1]", rows), { key: "networks[2]", part: undefined });
  assert.deepEqual(formField("networks[0].aliases", rows), { key: "networks[0]", part: "aliases" });
  assert.deepEqual(formField("memory", rows), { key: "memory" });
  assert.deepEqual(formField("healthcheck.interval", rows), { key: "healthcheck.interval" });
  assert.deepEqual(formField("healthcheck", rows), { key: "healthcheck.test" });
  assert.deepEqual(formField("cap_add", rows), { key: "cap_add" });
  assert.deepEqual(formField("log_options", rows), { key: "log_options" });
  assert.deepEqual(formField("devices[0]", rows), { key: "devices[0]", part: undefined });
  assert.equal(formField("networks[5]", rows), null);
  assert.equal(formField("acknowledge_risks", rows), null);
  // Shown on the field, without the body's own index (the form's row differs).
  assert.equal(
    fieldMessage('networks[1]: there is no network "x"'),
    'There is no network "x"',
  );
  assert.equal(
    fieldMessage('networks[0].aliases[1]: "a b" is not a valid alias'),
    '"a b" is not a valid alias',
  );
  assert.equal(fieldMessage("memory must be at least 6m"), "Memory must be at least 6m");
});

Deno.test("run form: privileged, devices and dangerous capabilities need the acknowledgement", () => {
  const form = { ...emptyForm(), image: "busybox" };
  assert.deepEqual(formRisks(form), []);
  assert.deepEqual(formRisks({ ...form, capAdd: [{ name: "NET_ADMIN", uid: 1 }] }), []);
  const risky = formRisks({
    ...form,
    privileged: true,
    capAdd: [{ name: "", uid: 1 }, { name: "sys_admin", uid: 2 }],
    devices: [emptyRow("devices") as RunForm["devices"][number], {
      host: "/dev/fuse",
      container: "",
      permissions: "",
      uid: 3,
    }],
  });
  assert.deepEqual(risky.map((risk) => [risk.setting, risk.index]), [
    ["cap_add", 1],
    ["privileged", undefined],
    ["devices", undefined],
  ]);
  assert.match(risky[2].message, /\/dev\/fuse/);
});

function inspectOf(patch: Partial<InspectView>): InspectView {
  return {
    id: "0123456789abcdef0123",
    name: "orig",
    image: "cm-test/busybox:latest",
    image_id: "sha256:x",
    created: "",
    state: {
      status: "running",
      running: true,
      exit_code: 0,
      started_at: "",
      finished_at: "",
      health: null,
      restart_count: 0,
    },
    cmd: ["sleep", "600"],
    entrypoint: null,
    env: [],
    mounts: [],
    networks: [{ name: "bridge", ip_address: "172.17.0.2", aliases: [] }],
    ports: [],
    restart_policy: { name: "no", max_retries: 0 },
    labels: {},
    managed_label: null,
    panel_created: false,
    limits: { memory: null, memory_reservation: null, cpus: null, pids: null },
    user: "",
    working_dir: "",
    hostname: "0123456789ab",
    privileged: false,
    cap_add: [],
    cap_drop: [],
    devices: [],
    log: { driver: "json-file", options: {} },
    healthcheck: null,
    network_mode: "default",
    ...patch,
  };
}

Deno.test("run form: a duplicate drops the managed label (the copy is the panel's own)", () => {
  const form = formFromInspect(inspectOf({
    labels: { team: "ops", "io.example.owner": "true" },
    managed_label: "io.example.owner",
  }));
  assert.deepEqual(form.labels.map((row) => [row.key, row.value]), [["team", "ops"]]);
});

Deno.test("run form: duplicate fills every new field from the inspect", () => {
  const form = formFromInspect(inspectOf({
    entrypoint: ["sh", "-c"],
    working_dir: "/srv",
    user: "nobody",
    hostname: "web-1",
    network_mode: "back",
    networks: [
      { name: "api-net", ip_address: "", aliases: ["api", "web-1", "0123456789ab"] },
      { name: "back", ip_address: "", aliases: ["db"] },
    ],
    labels: { team: "ops", "com.docker.compose.project": "demo" },
    limits: { memory: 64 * 1024 * 1024, memory_reservation: null, cpus: 0.5, pids: null },
    cap_add: ["NET_ADMIN"],
    cap_drop: ["MKNOD"],
    devices: ["/dev/fuse:/dev/fuse", "/dev/null:/dev/n2:r"],
    log: { driver: "json-file", options: { "max-size": "10m" } },
    healthcheck: {
      test: ["CMD-SHELL", "wget -qO- localhost || exit 1"],
      interval_s: 5,
      timeout_s: 2,
      retries: 3,
      start_period_s: null,
    },
  }));
  assert.equal(form.entrypoint, "sh -c");
  assert.equal(form.workingDir, "/srv");
  assert.equal(form.user, "nobody");
  assert.equal(form.hostname, "web-1");
  assert.deepEqual(form.networks.map((row) => [row.name, row.aliases]), [
    ["back", "db"],
    ["api-net", "api"],
  ]);
  assert.deepEqual(form.labels.map((row) => [row.key, row.value]), [["team", "ops"]]);
  assert.equal(form.memory, "64m");
  assert.equal(form.cpus, "0.5");
  assert.deepEqual(form.capAdd.map((row) => row.name), ["NET_ADMIN"]);
  assert.deepEqual(form.capDrop.map((row) => row.name), ["MKNOD"]);
  assert.deepEqual(form.devices.map((row) => [row.host, row.container, row.permissions]), [
    ["/dev/fuse", "", ""],
    ["/dev/null", "/dev/n2", "r"],
  ]);
  assert.equal(form.logDriver, "json-file");
  assert.deepEqual(form.logOptions.map((row) => [row.key, row.value]), [["max-size", "10m"]]);
  assert.deepEqual(form.health, {
    test: "wget -qO- localhost || exit 1",
    interval: "5s",
    timeout: "2s",
    retries: "3",
    startPeriod: "",
  });
  assert.deepEqual(validate(form).errors, {});
  const summaries = sectionSummaries(form);
  assert.match(summaries.network, /back, api-net · host name web-1/);
  assert.match(summaries.security, /\+NET_ADMIN · −MKNOD · 2 devices/);
});

Deno.test("run form: duplicate of a plain container leaves the defaults alone", () => {
  const form = formFromInspect(inspectOf({}));
  assert.equal(form.hostname, "", "the Engine's short-id host name is not copied");
  assert.deepEqual(form.networks, [], "the default bridge is not listed");
  assert.equal(form.health.test, "");
  assert.deepEqual(validate(form).errors, {});
  const exec = formFromInspect(inspectOf({
    healthcheck: {
      test: ["CMD", "cat", "/tmp/a b"],
      interval_s: null,
      timeout_s: null,
      retries: null,
      start_period_s: null,
    },
  }));
  assert.equal(exec.health.test, 'cat "/tmp/a b"');
});

Deno.test("run form: sizes are written back exactly", () => {
  assert.equal(sizeText(64 * 1024 * 1024), "64m");
  assert.equal(sizeText(2 * 1024 ** 3), "2g");
  assert.equal(sizeText(1536 * 1024), "1536k");
  assert.equal(sizeText(7_000_001), "7000001");
});
