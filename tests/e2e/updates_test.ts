/**
 * Update badges in headless Chromium against the real Engine and the token-auth registry:
 * "Check for updates" marks a container whose tag has new content, a row's own check shows
 * the newer versions of another, the tooltip carries the check's time and result, the "Has
 * updates" filter keeps only those rows, and the Images tab shows the same on the image's
 * row. Screenshots land in tests/.artifacts/updates-*.png.
 */
import assert from "node:assert/strict";
import { newTestImage as newImage } from "../fixtures/updates.ts";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { makeTestContainer, removeTestContainers, testEngine } from "../fixtures/engine.ts";
import { pushImage } from "../fixtures/registry.ts";
import { startTokenRegistry } from "../fixtures/token_registry.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

/** Opens a page and waits for its island; once more after a reload if it did not hydrate. */
async function open(page: Page, url: string, island: string) {
  for (let attempt = 0;; attempt++) {
    await page.goto(url);
    try {
      await page.locator(`[data-island="${island}"][data-hydrated="true"]`).waitFor({
        timeout: 20_000,
      });
      return;
    } catch (error) {
      if (attempt > 0) throw error;
    }
  }
}

function row(page: Page, name: string) {
  return page.locator(`tr.ct-row[data-name="${name}"]`);
}

Deno.test({
  ...e2e,
  name: "e2e: update badges, their tooltips, the Has updates filter and the image row",
  async fn() {
    await using engine = await testEngine("cmupe2e");
    const { docker, prefix } = engine;
    const registry = await startTokenRegistry();
    const images: string[] = [];
    await using panel = await startPanel({ args: ["--update-check-interval", "0"] });
    try {
      const cookie = await panel.login();
      const saved = await fetch(`${panel.url}/api/containers/registries`, {
        method: "POST",
        headers: { Cookie: cookie, Origin: panel.url, "Content-Type": "application/json" },
        body: JSON.stringify({
          server_address: registry.address,
          username: registry.username,
          password: registry.password,
        }),
      });
      assert.ok(saved.ok, await saved.text());

      const first = await pushImage(
        docker,
        await newImage(docker, prefix, "v1", images),
        registry,
        "priv/app",
        "1",
      );
      images.push(first.reference);
      await makeTestContainer(docker, prefix, "web", {
        Image: first.reference,
        Cmd: ["sleep", "300"],
      });
      const versioned = await newImage(docker, prefix, "ver", images);
      for (const tag of ["1.0.0", "1.0.1", "1.1.0", "2.0.0", "1.0.1-alpine"]) {
        images.push((await pushImage(docker, versioned, registry, "priv/ver", tag)).reference);
      }
      await makeTestContainer(docker, prefix, "api", {
        Image: `${registry.address}/priv/ver:1.0.0`,
        Cmd: ["sleep", "300"],
      });
      await makeTestContainer(docker, prefix, "plain", { Cmd: ["sleep", "300"] });
      // New content under the tag `web` runs.
      const second = await pushImage(
        docker,
        await newImage(docker, prefix, "v2", images),
        registry,
        "priv/app",
        "1",
      );

      await using browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await open(
        page,
        `${panel.url}/containers?q=${encodeURIComponent(prefix)}`,
        "ContainersTable",
      );
      await row(page, `${prefix}web`).waitFor();

      // One row's own check (its menu), then every container (the toolbar button).
      await row(page, `${prefix}api`).locator(".ct-menu-btn").click();
      await page.locator(".ct-menu").getByRole("menuitem", { name: "Check for updates" }).click();
      const apiBadge = row(page, `${prefix}api`).locator(".badge-update");
      await apiBadge.waitFor({ timeout: 30_000 });
      assert.equal(await apiBadge.textContent(), "2.0.0 available");
      const apiTitle = (await apiBadge.getAttribute("title"))!;
      assert.match(
        apiTitle,
        /Newer versions: 1\.0\.1 \(patch\), 1\.1\.0 \(minor\), 2\.0\.0 \(major\)/,
      );
      assert.doesNotMatch(apiTitle, /alpine/);

      await page.getByRole("button", { name: "Check for updates" }).click();
      await page.getByRole("status").filter({ hasText: /^Checked \d+ containers?/ }).waitFor({
        timeout: 120_000,
      });
      const webBadge = row(page, `${prefix}web`).locator(".badge-update");
      await webBadge.waitFor();
      assert.equal(await webBadge.textContent(), "update");
      assert.equal(await webBadge.getAttribute("data-update-state"), "update_available");
      const webTitle = (await webBadge.getAttribute("title"))!;
      assert.match(webTitle, new RegExp(`new digest ${second.digest.slice(0, 19)}`));
      assert.match(webTitle, /Checked /);
      // A locally built image has nothing to compare: no badge.
      assert.equal(await row(page, `${prefix}plain`).locator(".badge-update").count(), 0);
      await webBadge.hover();
      await page.screenshot({ path: await screenshotPath("updates-containers") });

      await page.getByLabel(/^Has updates/).check();
      await row(page, `${prefix}plain`).waitFor({ state: "detached" });
      assert.equal(await row(page, `${prefix}web`).count(), 1);
      assert.equal(await row(page, `${prefix}api`).count(), 1);
      await page.screenshot({ path: await screenshotPath("updates-containers-filtered") });

      // The Images tab: the image `web` runs carries the badge; the filter keeps it.
      await open(page, `${panel.url}/images`, "ImagesPanel");
      const imageRow = page.locator(`tr.im-row[data-image-id="${images[0]}"]`);
      const imageBadge = imageRow.locator(".badge-update");
      await imageBadge.waitFor({ timeout: 15_000 });
      assert.equal(await imageBadge.textContent(), "update");
      assert.match((await imageBadge.getAttribute("title"))!, new RegExp(`${prefix}web`));
      await page.getByLabel(/^Has updates/).check();
      await imageRow.scrollIntoViewIfNeeded();
      await page.screenshot({ path: await screenshotPath("updates-images") });
      assert.ok(await page.locator("tr.im-row").count() >= 2);

      // The badges take the theme's colours (its variables): the same rows in the dark theme.
      await page.emulateMedia({ colorScheme: "dark" });
      await open(
        page,
        `${panel.url}/containers?q=${encodeURIComponent(prefix)}`,
        "ContainersTable",
      );
      await row(page, `${prefix}web`).locator(".badge-update").waitFor();
      await page.screenshot({ path: await screenshotPath("updates-containers-dark") });
      assert.deepEqual(errors, []);
    } finally {
      await removeTestContainers(docker, prefix);
      for (const reference of images.reverse()) {
        await docker.json("DELETE", `/images/${reference}`, { query: { force: 1 } }).catch(
          () => {},
        );
      }
      await registry.stop();
    }
  },
});

Deno.test({
  ...e2e,
  name: "e2e: the Update button on a row with an update, and Update to a newer version in its menu",
  async fn() {
    await using engine = await testEngine("cmupe2f");
    const { docker, prefix } = engine;
    const registry = await startTokenRegistry();
    const images: string[] = [];
    await using panel = await startPanel({ args: ["--update-check-interval", "0"] });
    try {
      const cookie = await panel.login();
      const post = (path: string, body: unknown) =>
        fetch(`${panel.url}${path}`, {
          method: "POST",
          headers: { Cookie: cookie, Origin: panel.url, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
      const saved = await post("/api/containers/registries", {
        server_address: registry.address,
        username: registry.username,
        password: registry.password,
      });
      assert.ok(saved.ok, await saved.text());

      const first = await pushImage(
        docker,
        await newImage(docker, prefix, "v1", images),
        registry,
        "priv/app",
        "1",
      );
      images.push(first.reference);
      const web = await makeTestContainer(docker, prefix, "web", {
        Image: first.reference,
        Cmd: ["sleep", "300"],
      });
      const versioned = await newImage(docker, prefix, "ver", images);
      for (const tag of ["1.0.0", "1.1.0"]) {
        images.push((await pushImage(docker, versioned, registry, "priv/ver", tag)).reference);
      }
      const api = await makeTestContainer(docker, prefix, "api", {
        Image: `${registry.address}/priv/ver:1.0.0`,
        Cmd: ["sleep", "300"],
      });
      const second = await pushImage(
        docker,
        await newImage(docker, prefix, "v2", images),
        registry,
        "priv/app",
        "1",
      );
      const checked = await post("/api/containers/updates/check", { containers: [web, api] });
      assert.ok(checked.ok, await checked.text());

      await using browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await open(
        page,
        `${panel.url}/containers?q=${encodeURIComponent(prefix)}`,
        "ContainersTable",
      );
      const button = row(page, `${prefix}web`).getByRole("button", { name: "Update", exact: true });
      await button.waitFor({ timeout: 15_000 });
      // A version-only badge has no button: moving to another tag is a menu choice.
      assert.equal(
        await row(page, `${prefix}api`).getByRole("button", { name: "Update", exact: true })
          .count(),
        0,
      );
      await page.screenshot({ path: await screenshotPath("updates-button") });

      await button.click();
      const status = page.getByRole("status");
      await status.filter({ hasText: `Updated ${prefix}web to ${first.reference}` }).waitFor({
        timeout: 60_000,
      });
      assert.match((await status.textContent())!, new RegExp(second.digest.slice(0, 19)));
      await page.screenshot({ path: await screenshotPath("updates-updated") });
      // The new container has no update: the badge and its button go.
      await row(page, `${prefix}web`).locator(".badge-update").waitFor({
        state: "detached",
        timeout: 15_000,
      });
      const after = await docker.json<{ Id: string; Image: string; State: { Running: boolean } }>(
        "GET",
        `/containers/${prefix}web/json`,
      );
      assert.notEqual(after.Id, web);
      assert.equal(after.State.Running, true);

      await row(page, `${prefix}api`).locator(".ct-menu-btn").click();
      await page.locator(".ct-menu").getByRole("menuitem", { name: "Update to 1.1.0 (minor)" })
        .click();
      await status.filter({ hasText: `Updated ${prefix}api to ${registry.address}/priv/ver:1.1.0` })
        .waitFor({ timeout: 60_000 });
      const moved = await docker.json<{ Config: { Image: string } }>(
        "GET",
        `/containers/${prefix}api/json`,
      );
      assert.equal(moved.Config.Image, `${registry.address}/priv/ver:1.1.0`);
      assert.deepEqual(errors, []);
    } finally {
      await removeTestContainers(docker, prefix);
      for (const reference of images.reverse()) {
        await docker.json("DELETE", `/images/${reference}`, { query: { force: 1 } }).catch(
          () => {},
        );
      }
      await registry.stop();
    }
  },
});
