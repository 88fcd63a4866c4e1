/**
 * A mutual-TLS environment through the UI: an Engine from the netns fixture listening on
 * tcp:// with --tlsverify. A CA that did not sign the Engine's certificate is refused next to
 * the CA field; with the right PEMs it is added, its Containers tab lists the container that
 * exists on that Engine only, the terminal opens a shell in it over the environment's
 * WebSocket, and its stats stream through the environment's route.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { startNetnsEngines } from "../fixtures/netns_engines.ts";
import { makeTestContainer } from "../fixtures/engine.ts";

async function hydrated(page: Page, island: string) {
  await page.locator(`[data-island="${island}"][data-hydrated="true"]`).first().waitFor({
    timeout: 30_000,
  });
}

Deno.test({
  name:
    "e2e: a TLS environment added with PEMs: wrong CA next to its field, containers, exec, stats",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using extra = await startNetnsEngines("envtlsui", { count: 1, tls: true });
    const engine = extra.engines[0];
    const certs = extra.certs!;
    const prefix = `cmtlsui${crypto.randomUUID().slice(0, 6)}-`;
    // On the remote Engine only (the fixture removes the whole Engine afterwards).
    await makeTestContainer(engine.docker, prefix, "shell", { Cmd: ["sleep", "3600"] });
    const name = `${prefix}shell`;

    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    const sockets: string[] = [];
    page.on("websocket", (socket) => sockets.push(new URL(socket.url()).pathname));
    const streams: string[] = [];
    page.on("request", (request) => {
      const path = new URL(request.url()).pathname;
      if (path.includes("/stats/stream")) streams.push(path);
    });
    await signIn(page, panel.url);

    await page.goto(`${panel.url}/environments`);
    await hydrated(page, "EnvironmentsPanel");
    await page.getByRole("button", { name: "Add environment" }).click();
    const dialog = page.locator("#env-dialog");
    await dialog.locator('input[name="name"]').fill(`tls-${prefix.slice(7, 13)}`);
    await dialog.locator('input[name="url"]').fill(engine.tcpUrl!);
    await dialog.locator('textarea[name="ca"]').fill(certs.otherCa);
    await dialog.locator('textarea[name="cert"]').fill(certs.clientCert);
    await dialog.locator('textarea[name="key"]').fill(certs.clientKey);
    await dialog.getByRole("button", { name: "Add environment" }).click();
    const caError = dialog.locator("#env-ca-error");
    await caError.waitFor({ timeout: 30_000 });
    assert.ok((await caError.innerText()).length > 0);
    await page.screenshot({ path: await screenshotPath("environments-tls-wrong-ca-1440-light") });

    await dialog.locator('textarea[name="ca"]').fill(certs.ca);
    await dialog.getByRole("button", { name: "Add environment" }).click();
    await dialog.waitFor({ state: "detached", timeout: 30_000 });
    const row = page.locator("tr[data-env-id]", { hasText: engine.tcpUrl! });
    await row.waitFor({ timeout: 30_000 });
    const env = (await row.getAttribute("data-env-id"))!;
    assert.equal(await row.locator(".env-badge.is-tls").innerText(), "TLS");
    // The key is never sent back to the page.
    assert.ok(!(await page.content()).includes(certs.clientKey.split("\n")[1]));

    // Its Containers tab lists the remote container; the local one does not have it.
    streams.length = 0; // the local Containers page after sign-in streamed its own stats
    await page.goto(`${panel.url}/environments/${env}/containers`);
    await hydrated(page, "ContainersTable");
    await page.getByPlaceholder("Filter by name, image or stack").fill(prefix);
    const containerRow = page.locator(`tr.ct-row[data-name="${name}"]`);
    await containerRow.waitFor({ timeout: 30_000 });
    const local = await fetch(`${panel.url}/api/containers?all=1`, {
      headers: { Cookie: await panel.login() },
    }).then((r) => r.json()) as { containers: { name: string }[] };
    assert.ok(!local.containers.some((c) => c.name === name), "not on the local Engine");

    // Exec over the environment's WebSocket.
    await containerRow.locator(".ct-menu-btn").click();
    await page.locator(".ct-menu").getByRole("menuitem", { name: "Exec shell" }).click();
    const term = page.locator("dialog.ct-term");
    await term.locator(".ct-term-state").filter({ hasText: /^Connected/ }).waitFor({
      timeout: 30_000,
    });
    await page.keyboard.type("echo tls-$((40+2))");
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll(".ct-term .xterm-rows > div")].some((el) =>
          (el.textContent ?? "").replace(/\u00a0/g, " ").trimEnd() === "tls-42"
        ),
      undefined,
      { timeout: 20_000 },
    );
    await page.screenshot({ path: await screenshotPath("environments-tls-exec-1440-light") });
    assert.ok(
      sockets.some((path) => path.startsWith(`/ws/environments/${env}/containers/`)),
      `the terminal used the environment's WebSocket: ${sockets.join(", ")}`,
    );
    await page.keyboard.press("Escape");
    await term.waitFor({ state: "detached", timeout: 15_000 }).catch(() => {});

    // Stats: the table's stats stream is the environment's.
    await page.waitForFunction(
      () => document.querySelector("dialog.ct-term") === null,
      undefined,
      { timeout: 15_000 },
    ).catch(() => {});
    for (let i = 0; i < 30 && !streams.some((p) => p.includes(`/environments/${env}/`)); i++) {
      await page.waitForTimeout(1_000);
    }
    assert.ok(
      streams.some((path) => path.startsWith(`/api/environments/${env}/`)),
      `stats came through the environment's route: ${streams.join(", ")}`,
    );
    assert.ok(
      !streams.some((path) => path.startsWith("/api/containers") || path.startsWith("/api/docker")),
      "no stats stream went to the local Engine's route",
    );
    assert.deepEqual(errors, []);
  },
});
