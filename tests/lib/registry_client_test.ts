/**
 * The registry client's authentication, credential scoping, rate limits and pagination,
 * against scripted registries (an injected fetch: these hosts are not real). The real
 * registries (htpasswd and token) are in tests/routes/updates_test.ts.
 */
import assert from "node:assert/strict";
import { createRegistryClient } from "../../lib/registry/client.ts";
import { RegistryError } from "../../lib/registry/errors.ts";

const DIGEST = `sha256:${"a".repeat(64)}`;
const CREDENTIALS = { username: "alice", password: "s3cret-canary" };
const BASIC = `Basic ${btoa("alice:s3cret-canary")}`;

interface Seen {
  url: string;
  method: string;
  authorization: string | null;
}

function scripted(handler: (url: URL, init: RequestInit, seen: Seen) => Response) {
  const seen: Seen[] = [];
  const fake = ((input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const entry = {
      url: url.href,
      method: init.method ?? "GET",
      authorization: new Headers(init.headers).get("authorization"),
    };
    seen.push(entry);
    return Promise.resolve(handler(url, init, entry));
  }) as typeof fetch;
  return { fake, seen };
}

const manifestOk = () =>
  new Response(null, {
    status: 200,
    headers: {
      "Docker-Content-Digest": DIGEST,
      "Content-Type": "application/vnd.docker.distribution.manifest.v2+json",
    },
  });

async function rejects(promise: Promise<unknown>, kind: string): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${error}`);
    assert.equal(error.kind, kind, error.message);
    return error;
  }
  throw new Error(`expected ${kind}`);
}

Deno.test("anonymous registry: one HEAD with the manifest Accept types, no credentials", async () => {
  const { fake, seen } = scripted(() => manifestOk());
  const client = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: fake,
  });
  const head = await client.headManifest("registry.test/team/app:1.2");
  assert.equal(head.digest, DIGEST);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].url, "https://registry.test/v2/team/app/manifests/1.2");
  assert.equal(seen[0].method, "HEAD");
  assert.equal(seen[0].authorization, null);
});

Deno.test("Docker Hub references go to registry-1.docker.io; loopback registries over http", async () => {
  const { fake, seen } = scripted(() => manifestOk());
  const client = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: fake,
  });
  await client.headManifest("busybox");
  await client.headManifest("127.0.0.1:5000/a/b:c");
  assert.deepEqual(seen.map((s) => s.url), [
    "https://registry-1.docker.io/v2/library/busybox/manifests/latest",
    "http://127.0.0.1:5000/v2/a/b/manifests/c",
  ]);
});

Deno.test("basic auth: after the first challenge, credentials go up front (one request)", async () => {
  const { fake, seen } = scripted((_url, init) =>
    new Headers(init.headers).get("authorization") === BASIC
      ? manifestOk()
      : new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Basic realm="r"' } })
  );
  const asked: string[] = [];
  const client = createRegistryClient({
    credentials: (address) => {
      asked.push(address);
      return Promise.resolve(address === "registry.test" ? CREDENTIALS : undefined);
    },
    fetch: fake,
  });
  await client.headManifest("registry.test/a:1");
  assert.deepEqual(seen.map((s) => s.authorization), [null, BASIC]);
  await client.headManifest("registry.test/a:1");
  assert.equal(seen.length, 3);
  assert.equal(seen[2].authorization, BASIC);
  assert.ok(asked.every((address) => address === "registry.test"));
});

Deno.test("bearer flow: token from an https realm with the credentials, cached until it expires", async () => {
  let now = 1_000_000;
  const { fake, seen } = scripted((url, init) => {
    if (url.host === "auth.test") {
      assert.equal(url.searchParams.get("service"), "reg");
      assert.equal(url.searchParams.get("scope"), "repository:team/app:pull");
      const authorised = new Headers(init.headers).get("authorization") === BASIC;
      return Response.json({ token: authorised ? "tok-full" : "tok-anon", expires_in: 300 });
    }
    if (new Headers(init.headers).get("authorization") === "Bearer tok-full") return manifestOk();
    return new Response(null, {
      status: 401,
      headers: { "WWW-Authenticate": 'Bearer realm="https://auth.test/token",service="reg"' },
    });
  });
  const client = createRegistryClient({
    credentials: () => Promise.resolve(CREDENTIALS),
    fetch: fake,
    now: () => now,
  });
  await client.headManifest("registry.test/team/app:1");
  assert.deepEqual(seen.map((s) => [new URL(s.url).host, s.authorization]), [
    ["registry.test", null],
    ["auth.test", BASIC],
    ["registry.test", "Bearer tok-full"],
  ]);
  await client.headManifest("registry.test/team/app:1");
  assert.equal(seen.length, 4, "the cached token goes up front: one request");
  now += 600_000;
  await client.headManifest("registry.test/team/app:1");
  assert.deepEqual(seen.slice(4).map((s) => new URL(s.url).host), ["auth.test", "registry.test"]);
});

Deno.test("a token realm on another host over plain http never gets the credentials", async () => {
  const { fake, seen } = scripted((url, init) => {
    if (url.host === "auth.elsewhere.test") return Response.json({ token: "tok-anon" });
    const auth = new Headers(init.headers).get("authorization");
    return auth === "Bearer tok-full" ? manifestOk() : new Response(null, {
      status: 401,
      headers: { "WWW-Authenticate": 'Bearer realm="http://auth.elsewhere.test/token"' },
    });
  });
  const client = createRegistryClient({
    credentials: () => Promise.resolve(CREDENTIALS),
    fetch: fake,
  });
  const error = await rejects(client.headManifest("registry.test/team/app:1"), "unauthorised");
  const tokenRequests = seen.filter((s) => new URL(s.url).host === "auth.elsewhere.test");
  assert.ok(tokenRequests.length >= 1);
  assert.ok(tokenRequests.every((s) => s.authorization === null));
  assert.match(error.message, /not sent to its token service auth\.elsewhere\.test/);
  assert.ok(!error.message.includes(CREDENTIALS.password));
});

Deno.test("a redirect to another origin drops the Authorization header", async () => {
  const { fake, seen } = scripted((url, init) => {
    if (url.host === "cdn.test") return manifestOk();
    if (new Headers(init.headers).get("authorization") !== BASIC) {
      return new Response(null, { status: 401, headers: { "WWW-Authenticate": "Basic realm=x" } });
    }
    return new Response(null, { status: 307, headers: { Location: "https://cdn.test/m" } });
  });
  const client = createRegistryClient({
    credentials: () => Promise.resolve(CREDENTIALS),
    fetch: fake,
  });
  await client.headManifest("registry.test/a:1");
  assert.deepEqual(seen.map((s) => [new URL(s.url).host, s.authorization]), [
    ["registry.test", null],
    ["registry.test", BASIC],
    ["cdn.test", null],
  ]);
});

Deno.test("429 with Retry-After: rate limited, and no request until that time", async () => {
  let now = 5_000_000;
  let limited = true;
  const { fake, seen } = scripted(() =>
    limited
      ? new Response("slow down", { status: 429, headers: { "Retry-After": "120" } })
      : manifestOk()
  );
  const client = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: fake,
    now: () => now,
  });
  const error = await rejects(client.headManifest("registry.test/a:1"), "rate_limited");
  assert.equal(error.retryAt, now + 120_000);
  await rejects(client.getManifest("registry.test/b:2"), "rate_limited");
  await rejects(client.listTags("registry.test/c:3"), "rate_limited");
  assert.equal(seen.length, 1, "nothing is sent while the registry said to wait");
  limited = false;
  now += 121_000;
  await client.headManifest("registry.test/a:1");
  assert.equal(seen.length, 2);
});

Deno.test("not found, unauthorised without credentials, unreachable, refused addresses", async () => {
  const { fake, seen } = scripted((url) =>
    url.pathname.includes("/gone/")
      ? Response.json({ errors: [{ code: "MANIFEST_UNKNOWN" }] }, { status: 404 })
      : new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Basic realm="x"' } })
  );
  const client = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: fake,
  });
  await rejects(client.headManifest("registry.test/gone/app:1"), "not_found");
  const unauthorised = await rejects(
    client.headManifest("registry.test/priv/app:1"),
    "unauthorised",
  );
  assert.match(unauthorised.message, /none are saved/);

  const failing = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: () => Promise.reject(new TypeError("connection refused")),
  });
  await rejects(failing.headManifest("registry.test/a:1"), "unreachable");

  const before = seen.length;
  for (
    const reference of ["169.254.169.254/latest/meta:1", "127.0.0.1:2375/a:1", "0.0.0.0:5000/a:1"]
  ) {
    await rejects(client.headManifest(reference), "refused");
  }
  const panel = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: fake,
    panel: { hostname: "127.0.0.1", port: 8080 },
  });
  await rejects(panel.headManifest("127.0.0.1:8080/a:1"), "refused");
  assert.equal(seen.length, before, "refused addresses are never contacted");
});

Deno.test("GET manifest: the body must match its digest", async () => {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
  });
  const { fake } = scripted(() =>
    new Response(body, {
      headers: {
        "Docker-Content-Digest": DIGEST,
        "Content-Type": "application/vnd.oci.image.manifest.v1+json",
      },
    })
  );
  const client = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: fake,
  });
  await rejects(client.getManifest("registry.test/a:1"), "bad_response");
});

Deno.test("tag lists follow Link pages on the same registry only", async () => {
  const { fake, seen } = scripted((url) => {
    const last = url.searchParams.get("last");
    if (!last) {
      return Response.json({ tags: ["1.0.0", "1.0.1"] }, {
        headers: { Link: '</v2/a/tags/list?last=1.0.1&n=1000>; rel="next"' },
      });
    }
    return Response.json({ tags: ["2.0.0"] }, {
      headers: { Link: '<https://evil.test/v2/a/tags/list?last=2.0.0>; rel="next"' },
    });
  });
  const client = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: fake,
  });
  assert.deepEqual(await client.listTags("registry.test/a:1.0.0"), ["1.0.0", "1.0.1", "2.0.0"]);
  assert.deepEqual(seen.map((s) => s.url), [
    "https://registry.test/v2/a/tags/list?n=1000",
    "https://registry.test/v2/a/tags/list?last=1.0.1&n=1000",
  ]);
});

Deno.test("invalid references never reach a URL", async () => {
  const { fake, seen } = scripted(() => manifestOk());
  const client = createRegistryClient({
    credentials: () => Promise.resolve(undefined),
    fetch: fake,
  });
  for (
    const reference of ["registry.test/../x:1", "registry.test/a:1?x=y", "registry.test/A:1", "a b"]
  ) {
    await assert.rejects(client.headManifest(reference));
  }
  assert.equal(seen.length, 0);
});
