import assert from "node:assert/strict";
import { findWarning, parse, rejects, service, web } from "./helpers.ts";

const TOP = "volumes:\n  data:\n  cache:\n";

function volumesOf(lines: string[]) {
  return service(web(["volumes:", ...lines.map((l) => `  - ${l}`)].join("\n"), TOP)).volumes;
}

Deno.test("volumes: short syntax (named, bind, anonymous, modes)", () => {
  assert.deepEqual(
    volumesOf([
      "data:/var/lib/data",
      "cache:/cache:ro",
      "./site:/usr/share/nginx/html",
      "../shared:/shared:rw",
      "/srv/app:/app:ro,z",
      "/conf:/conf:Z",
      "/tmp/x:/x:z,ro",
      "/scratch",
      "data:/nocopy:nocopy",
    ]),
    [
      { type: "volume", source: "data", target: "/var/lib/data", read_only: false },
      { type: "volume", source: "cache", target: "/cache", read_only: true },
      {
        type: "bind",
        source: "./site",
        target: "/usr/share/nginx/html",
        read_only: false,
        create_host_path: true,
      },
      {
        type: "bind",
        source: "../shared",
        target: "/shared",
        read_only: false,
        create_host_path: true,
      },
      {
        type: "bind",
        source: "/srv/app",
        target: "/app",
        read_only: true,
        selinux: "z",
        create_host_path: true,
      },
      {
        type: "bind",
        source: "/conf",
        target: "/conf",
        read_only: false,
        selinux: "Z",
        create_host_path: true,
      },
      {
        type: "bind",
        source: "/tmp/x",
        target: "/x",
        read_only: true,
        selinux: "z",
        create_host_path: true,
      },
      { type: "anonymous", target: "/scratch", read_only: false },
      { type: "volume", source: "data", target: "/nocopy", read_only: false },
    ],
  );
});

Deno.test("volumes: long syntax", () => {
  const project = parse(web(
    [
      "volumes:",
      "  - {type: volume, source: data, target: /data, read_only: true, volume: {nocopy: true}}",
      "  - {type: volume, target: /anon}",
      "  - {type: bind, source: ./conf, target: /etc/app/}",
      "  - type: bind",
      "    source: /srv",
      "    target: /srv",
      "    bind: {create_host_path: false}",
      "  - {type: bind, source: /opt, target: /opt, bind: {selinux: Z}}",
      "  - {type: tmpfs, target: /run/cache}",
    ].join("\n"),
    TOP,
  ));
  assert.deepEqual(project.services[0].volumes, [
    { type: "volume", source: "data", target: "/data", read_only: true },
    { type: "anonymous", target: "/anon", read_only: false },
    {
      type: "bind",
      source: "./conf",
      target: "/etc/app",
      read_only: false,
      create_host_path: true,
    },
    {
      type: "bind",
      source: "/srv",
      target: "/srv",
      read_only: false,
      create_host_path: false,
    },
    {
      type: "bind",
      source: "/opt",
      target: "/opt",
      read_only: false,
      selinux: "Z",
      create_host_path: true,
    },
    { type: "tmpfs", target: "/run/cache" },
  ]);
  // volume.nocopy is ignored without a warning.
  assert.deepEqual(project.warnings, []);
});

Deno.test("volumes: a named volume must be declared at the top level", () => {
  const error = rejects(
    () => service(web("volumes:\n  - missing:/data")),
    /volumes\[0\] "missing:\/data" uses the volume "missing", which is not declared/,
  );
  assert.equal(error.line, 5);
  rejects(
    () => service(web("volumes:\n  - {type: volume, source: nope, target: /x}", TOP)),
    /uses the volume "nope"/,
  );
});

Deno.test("volumes: invalid entries are a 400", () => {
  rejects(() => volumesOf(["data:relative"]), /container path must be absolute/);
  rejects(() => volumesOf(["relative"]), /container path must be absolute/);
  rejects(() => volumesOf(["data:/x:rx"]), /unknown mode "rx"/);
  rejects(() => volumesOf(["data:/x:ro,rw"]), /ro and rw conflict/);
  rejects(() => volumesOf(["/a:/b:ro:z"]), /too many ":"/);
  rejects(() => volumesOf(["data::/x"]), /must look like SOURCE:TARGET/);
  rejects(() => volumesOf(["{source: data, target: /x}"]), /needs a type/);
  rejects(() => volumesOf(["{type: bind, target: /x}"]), /bind mount needs a source/);
  rejects(() => volumesOf(["{type: volume, source: data}"]), /needs a target/);
  rejects(
    () => volumesOf(["{type: bind, source: ./x, target: /x, bind: {selinux: q}}"]),
    /selinux must be z or Z/,
  );
  rejects(() => volumesOf(["bad name:/x"]), /neither a path/);
});

Deno.test("volumes: dangerous bind mounts are flagged in short and long form", () => {
  const risky = [
    "/",
    "/etc",
    "/etc/",
    "/etc/../etc",
    "//etc",
    "/etc/.",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run",
    "/proc",
    "/proc/1/root",
    "/sys/fs/cgroup",
  ];
  for (const source of risky) {
    for (
      const entry of [
        `"${source}:/mnt/x"`,
        `{type: bind, source: "${source}", target: /mnt/x}`,
      ]
    ) {
      const { warnings } = parse(web(`volumes:\n  - ${entry}`));
      const warning = findWarning(warnings, "risk", /mounts/);
      assert.equal(warning.line, 5, entry);
      assert.equal(warning.service, "web");
    }
  }
  for (const source of ["/etc/localtime", "/srv/data", "./etc", "/procfs", "/system"]) {
    const { warnings } = parse(web(`volumes:\n  - "${source}:/mnt/x:ro"`));
    assert.deepEqual(warnings.filter((w) => w.kind === "risk"), [], source);
  }
});

Deno.test("volumes: top-level names, external and driver", () => {
  const project = parse(web(
    "volumes:\n  - a:/a\n  - b:/b\n  - c:/c\n  - d:/d\n  - e:/e",
    [
      "volumes:",
      "  a:",
      "  b: {name: custom-b}",
      "  c: {external: true}",
      "  d: {external: {name: legacy-d}}",
      "  e: {driver: local, external: false, name: ~}",
      "  x-named: {}",
    ].join("\n"),
  ));
  assert.deepEqual(project.volumes, {
    a: { name: "demo_a", external: false },
    b: { name: "custom-b", external: false },
    c: { name: "c", external: true },
    d: { name: "legacy-d", external: true },
    e: { name: "demo_e", external: false, driver: "local" },
    // As compose-go: under volumes: an x- key is a name, not an extension.
    "x-named": { name: "demo_x-named", external: false },
  });
  findWarning(project.warnings, "obsolete", /volumes\.d\.external\.name is deprecated/);
});

Deno.test("a relative bind source that climbs out of the stack folder is a risk", () => {
  const project = parse(
    "services:\n  a:\n    image: busybox\n    volumes:\n      - ../../../etc:/host-etc\n      - ./data:/data\n",
  );
  const risks = project.warnings.filter((warning) => warning.kind === "risk");
  assert.equal(risks.length, 1);
  assert.match(risks[0].message, /outside the stack's own folder/);
  assert.equal(risks[0].line, 5);
});
