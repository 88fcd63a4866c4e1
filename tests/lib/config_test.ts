import assert from "node:assert/strict";
import { ConfigError, parseCommand } from "../../lib/config.ts";

const noEnv = () => undefined;

function serve(args: string[], env: Record<string, string> = {}) {
  const command = parseCommand(args, (name) => env[name]);
  assert.equal(command.kind, "serve");
  return (command as Extract<typeof command, { kind: "serve" }>).config;
}

Deno.test("defaults apply when neither flags nor env are set", () => {
  const config = serve([]);
  assert.deepEqual(config.listen, { hostname: "127.0.0.1", port: 8080 });
  assert.equal(config.dataDir, "./data");
  assert.deepEqual(config.dockerHost, { kind: "unix", path: "/var/run/docker.sock" });
  assert.equal(config.keyFile, "./data/secret.key");
  assert.equal(config.managedLabel, "io.quazzar.managed");
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.listen));
});

Deno.test("env fills in and flags win over env", () => {
  const env = {
    CM_LISTEN: "0.0.0.0:9000",
    CM_DATA_DIR: "/srv/cm",
    DOCKER_HOST: "tcp://127.0.0.1:2375",
    CM_KEY_FILE: "/etc/cm.key",
  };
  const fromEnv = serve([], env);
  assert.deepEqual(fromEnv.listen, { hostname: "0.0.0.0", port: 9000 });
  assert.equal(fromEnv.dataDir, "/srv/cm");
  assert.deepEqual(fromEnv.dockerHost, { kind: "tcp", hostname: "127.0.0.1", port: 2375 });
  assert.equal(fromEnv.keyFile, "/etc/cm.key");

  const fromFlags = serve(["--listen", "127.0.0.1:18080", "--data-dir=/tmp/x"], env);
  assert.equal(fromFlags.listen.port, 18080);
  assert.equal(fromFlags.dataDir, "/tmp/x");
  assert.equal(serve(["--data-dir", "/tmp/y"]).keyFile, "/tmp/y/secret.key");
  assert.deepEqual(serve(["--listen", "[::1]:8443"]).listen, { hostname: "::1", port: 8443 });
});

Deno.test("help and version are commands of their own", () => {
  assert.equal(parseCommand(["--help"], noEnv).kind, "help");
  assert.equal(parseCommand(["--version"], noEnv).kind, "version");
});

Deno.test("unknown flags and invalid values name the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /--bogus/],
    [["--listen", "nonsense"], /--listen/],
    [["--listen", "127.0.0.1:70000"], /--listen port/],
    [["--docker-host", "http://x"], /--docker-host/],
    [["--docker-host", "unix://relative.sock"], /--docker-host/],
    [["--docker-host", "tcp://host"], /--docker-host/],
    [["--data-dir", ""], /--data-dir/],
    [["--listen"], /--listen needs a value/],
    [["stray"], /Unexpected argument "stray"/],
  ];
  for (const [args, pattern] of cases) {
    assert.throws(() => parseCommand(args, noEnv), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `${args.join(" ")} should throw ConfigError`);
      assert.match(error.message, pattern);
      return true;
    });
  }
  assert.throws(
    () => parseCommand([], (name) => name === "CM_LISTEN" ? "x" : undefined),
    /CM_LISTEN/,
  );
});
