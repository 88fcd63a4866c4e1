import assert from "node:assert/strict";
import { bindRisk, describeRisks, risksOf } from "../../lib/risks.ts";

Deno.test("risks: binds that reach the host are flagged, ordinary ones are not", () => {
  const risky: [string, RegExp][] = [
    ["/", /whole filesystem/],
    ["//", /whole filesystem/],
    ["/etc/..", /whole filesystem/],
    ["/root", /\/root/],
    ["/root/.ssh", /\/root/],
    ["/etc", /\/etc/],
    ["/etc/", /\/etc/],
    ["/var/lib/docker", /\/var\/lib\/docker/],
    ["/var/lib/docker/volumes", /\/var\/lib\/docker/],
    ["/dev", /\/dev/],
    ["/var/run/docker.sock", /Docker socket/],
    ["/run", /Docker socket/],
    ["/var", /Docker socket/],
    ["/run/containerd/containerd.sock", /containerd socket/],
    ["/proc/1/root", /\/proc/],
    ["/sys/fs/cgroup", /\/sys/],
    ["../../x", /outside the stack/],
  ];
  for (const [source, why] of risky) assert.match(bindRisk(source) ?? "", why, source);
  for (const source of ["/etc/localtime", "/dev/null", "/srv/data", "./etc", "data", "/procfs"]) {
    assert.equal(bindRisk(source), null, source);
  }
});

Deno.test("risks: capabilities, privileged, host namespaces and devices", () => {
  const risks = risksOf({
    binds: ["/srv", "/"],
    capAdd: ["NET_ADMIN", "cap_sys_admin", "SYS_MODULE", "DAC_READ_SEARCH", "SYS_PTRACE", "all"],
    privileged: true,
    pid: "host",
    ipc: "host",
    networkMode: "host",
    devices: ["/dev/kmsg"],
  });
  assert.deepEqual(risks.map((risk) => [risk.setting, risk.index]), [
    ["volumes", 1],
    ["cap_add", 1],
    ["cap_add", 2],
    ["cap_add", 3],
    ["cap_add", 4],
    ["cap_add", 5],
    ["privileged", undefined],
    ["pid", undefined],
    ["ipc", undefined],
    ["network_mode", undefined],
    ["devices", undefined],
  ]);
  assert.match(describeRisks(risks), /SYS_ADMIN.*SYS_MODULE.*DAC_READ_SEARCH.*SYS_PTRACE.*ALL/);
  assert.deepEqual(risksOf({ binds: ["/srv"], capAdd: ["NET_ADMIN"], networkMode: "bridge" }), []);
});
