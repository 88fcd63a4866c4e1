/**
 * The connection test's refusals for what is not a Docker Engine, against small servers on
 * 127.0.0.1 (a web server, a TLS port spoken to in plain HTTP, one that never answers), and
 * how TLS failures are told apart (the real daemon's refusals: environments_tls_test.ts).
 */
import assert from "node:assert/strict";
import { classifyConnectError, testConnection } from "../../../lib/environments/connect.ts";
import { DockerUnreachableError } from "../../../lib/docker/errors.ts";

async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  fn: (port: number) => Promise<void>,
) {
  const abort = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen: () => {} },
    handler,
  );
  try {
    await fn(server.addr.port);
  } finally {
    abort.abort();
    await server.finished;
  }
}

const tcp = (port: number) => ({ kind: "tcp" as const, hostname: "127.0.0.1", port });

Deno.test("a web server is not a Docker Engine", async () => {
  await withServer(() => new Response("<html>hello</html>", { status: 404 }), async (port) => {
    await assert.rejects(testConnection(tcp(port)), (error: Error & { field?: string }) => {
      assert.match(error.message, /answered 404, not as a Docker Engine/);
      assert.equal(error.field, "url");
      return true;
    });
  });
  await withServer(() => new Response("{}", { status: 200 }), async (port) => {
    await assert.rejects(testConnection(tcp(port)), /answered, but not as a Docker Engine/);
  });
});

Deno.test("a TLS-only Engine spoken to in plain HTTP says to give its certificates", async () => {
  await withServer(
    () => new Response("Client sent an HTTP request to an HTTPS server.\n", { status: 400 }),
    async (port) => {
      await assert.rejects(testConnection(tcp(port)), /speaks TLS: give its CA certificate/);
    },
  );
});

Deno.test("an Engine that never answers is a timeout, said in seconds", async () => {
  let release!: () => void;
  const hung = new Promise<void>((resolve) => release = resolve);
  await withServer(async () => {
    await hung;
    return new Response("late");
  }, async (port) => {
    try {
      await assert.rejects(testConnection(tcp(port)), /did not answer within 5 s/);
    } finally {
      release();
    }
  });
});

Deno.test("TLS failures are told apart by who refused: the daemon (an alert) or the panel", () => {
  const host = {
    kind: "tls" as const,
    hostname: "10.0.0.5",
    port: 2376,
    ca: "",
    cert: "",
    key: "",
  };
  const failure = (text: string) =>
    classifyConnectError(
      new DockerUnreachableError("tcp://10.0.0.5:2376", new TypeError(text)),
      host,
    ) as Error & { field?: string };
  const refused = failure("received fatal alert: BadCertificate");
  assert.match(refused.message, /refused the client certificate/);
  assert.equal(refused.field, "tls.cert");
  assert.match(
    failure("received fatal alert: UnknownCA").message,
    /refused the client certificate/,
  );
  assert.match(failure("received fatal alert: CertificateExpired").message, /as expired/);
  const untrusted = failure("client error (Connect): invalid peer certificate: UnknownIssuer");
  assert.match(untrusted.message, /not signed by the given CA/);
  assert.equal(untrusted.field, "tls.ca");
  assert.match(
    failure("invalid peer certificate: NotValidForName").message,
    /not valid for 10\.0\.0\.5/,
  );
  assert.match(
    failure("tcp connect error: Connection refused (os error 111)").message,
    /refused\)/,
  );
  assert.match(failure("connection reset by peer").message, /^Could not connect/);
});
