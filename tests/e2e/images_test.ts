/**
 * The Images tab in headless Chromium against the real Engine and a real private registry:
 * add the registry through the modal, pull from it with live progress, delete the image,
 * preview and run a prune, and check a viewer gets no control that changes anything.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  launchBrowser,
  paceNdjsonResponses,
  screenshotPath,
  signIn,
  watchErrors,
} from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import {
  pushToRegistry,
  startRegistry,
  startSlowProxy,
  type TestRegistry,
} from "../fixtures/registry.ts";
import {
  engineClient,
  ensureTestImage,
  removeContainersNamed,
  removeTestContainers,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../fixtures/engine.ts";
import { randomPayloadTar } from "../fixtures/tar.ts";
import { importImage, inspectImage, listImages } from "../../lib/docker/images.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import { createContainer, inspectContainer, removeContainer } from "../../lib/docker/containers.ts";
import { applyPullLines, initialPull, pullTotals } from "../../islands/images/pull.ts";
import { formatAge, formatBytes } from "../../islands/images/format.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

/** Removes only what this test made: tags containing its namespace, and the ids it noted. */
async function cleanUp(docker: DockerClient, namespace: string, ids: Set<string>) {
  for (const image of await listImages(docker)) {
    for (const tag of (image.RepoTags ?? []).filter((tag) => tag.includes(namespace))) {
      await docker.json("DELETE", `/images/${tag}`).catch(() => {});
    }
  }
  for (const id of ids) await docker.json("DELETE", `/images/${id}`).catch(() => {});
}

async function hydrated(page: Page) {
  await page.locator('[data-island="ImagesPanel"][data-hydrated="true"]').waitFor({
    timeout: 15_000,
  });
}

Deno.test("images: the pull stream becomes per-layer and overall progress", () => {
  let state = initialPull("localhost:5000/team/app");
  state = applyPullLines(state, [
    { status: "Pulling from team/app", id: "latest" },
    { status: "Pulling fs layer", id: "aaaaaaaaaaaa" },
    { status: "Already exists", id: "bbbbbbbbbbbb" },
    { status: "Downloading", id: "aaaaaaaaaaaa", progressDetail: { current: 250, total: 1000 } },
  ]);
  assert.equal(state.layers.length, 2, "the tag line is not a layer");
  assert.equal(state.status, "Pulling from team/app (latest)");
  let totals = pullTotals(state);
  assert.equal(totals.finished, 1);
  assert.equal(totals.size, 1000);
  assert.equal(totals.fraction, 0.125, "downloading counts half of a layer's work");
  state = applyPullLines(state, [
    { status: "Download complete", id: "aaaaaaaaaaaa" },
    { status: "Extracting", id: "aaaaaaaaaaaa", progressDetail: { current: 500, total: 1000 } },
  ]);
  totals = pullTotals(state);
  assert.equal(totals.fraction, 0.75, "the bar never goes back when extraction starts");
  state = applyPullLines(state, [
    { status: "Pull complete", id: "aaaaaaaaaaaa" },
    { status: "Digest: sha256:" + "c".repeat(64) },
    { status: "Status: Downloaded newer image for localhost:5000/team/app:latest" },
    {
      done: true,
      reference: "localhost:5000/team/app:latest",
      digest: "sha256:" + "c".repeat(64),
      image_id: "sha256:" + "d".repeat(64),
    },
  ]);
  assert.equal(state.outcome, "done");
  assert.equal(pullTotals(state).fraction, 1);
  assert.equal(state.digest, "sha256:" + "c".repeat(64));

  const failed = applyPullLines(initialPull("nope"), [{ done: false, error: "manifest unknown" }]);
  assert.equal(failed.outcome, "failed");
  assert.equal(failed.error, "manifest unknown");
});

Deno.test("images: sizes and ages read like the docker CLI", () => {
  assert.equal(formatBytes(4_200_000), "4.2 MB");
  assert.equal(formatBytes(4_261_000), "4.26 MB");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(123_456_789), "123 MB");
  assert.equal(formatBytes(1_500_000_000), "1.5 GB");
  const now = 1_700_000_000_000;
  assert.equal(formatAge(now / 1000 - 3 * 86400, now), "3 days ago");
  assert.equal(formatAge(now / 1000 - 3600, now), "About an hour ago");
  assert.equal(formatAge(now / 1000 - 5 * 60, now), "5 minutes ago");
  assert.equal(formatAge(now / 1000 - 90 * 86400, now), "3 months ago");
});

Deno.test({
  ...e2e,
  name: "e2e: images tab — registry modal, pull with progress, delete, prune, viewer",
  async fn() {
    const docker = await engineClient();
    const namespace = uniquePrefix("cm-e2e").replace(/-$/, "");
    const ours = new Set<string>();
    let registry: TestRegistry | undefined;
    try {
      // Inside the try: the panel and browser are gone before the cleanup below runs, so
      // nothing the panel is still doing can recreate what it removes.
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      // Setup: a unique image (random layer, so the pull really downloads) pushed to the
      // private registry and then removed locally; two dangling candidates for the prune.
      registry = await startRegistry();
      await ensureTestImage(docker); // so the viewer's list below is never empty
      const local = `${namespace}/payload:src`;
      await importImage(docker, local, randomPayloadTar(namespace, 8_000_000));
      const reference = await pushToRegistry(docker, local, registry, `${namespace}/busybox`);
      await docker.json("DELETE", `/images/${local}`); // the pull must really download it

      const dangle = `${namespace}/dangle:1`;
      await importImage(docker, dangle, randomPayloadTar(`first ${namespace}`, 200_000));
      const danglingId = (await inspectImage(docker, dangle)).Id;
      ours.add(danglingId);
      await importImage(docker, dangle, randomPayloadTar(`second ${namespace}`, 200_000));
      ours.add((await inspectImage(docker, dangle)).Id);

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      // A refused request (the wrong password below) logs "Failed to load resource".
      const errors = watchErrors(page);
      await paceNdjsonResponses(page, 300);
      await signIn(page, panel.url);
      await page.goto(`${panel.url}/images`);
      await hydrated(page);
      const pullBox = page.locator("section.im-pull");
      await pullBox.waitFor();
      assert.equal(await page.locator("h1").innerText(), "Images");
      assert.ok(await page.locator(`tr[data-image-id="${danglingId}"] .pill`).count() === 1);
      assert.match(
        await page.locator(`tr[data-image-id="${danglingId}"]`).innerText(),
        /dangling/,
      );
      assert.match(await page.locator(".im-registries").innerText(), /No private registries/);

      // Add the registry through the modal: a wrong password first (nothing stored).
      await page.click("button:has-text('Add registry')");
      const modal = page.locator("dialog#im-registry");
      await modal.waitFor();
      await modal.locator("button.im-chip", { hasText: "ghcr.io" }).click();
      assert.equal(await modal.locator('input[name="server_address"]').inputValue(), "ghcr.io");
      assert.match(await modal.innerText(), /read:packages/);
      await modal.locator('input[name="server_address"]').fill(registry.address);
      await modal.locator('input[name="username"]').fill(registry.username);
      await modal.locator('input[name="password"]').fill("not the password");
      await modal.locator('button[type="submit"]').click();
      await modal.locator('[role="alert"]').waitFor({ timeout: 30_000 });
      assert.match(await modal.locator('[role="alert"]').innerText(), /refused|unauthorized/i);
      await modal.locator('input[name="password"]').fill(registry.password);
      await page.screenshot({ path: await screenshotPath("images-registry-modal") });
      await modal.locator('button[type="submit"]').click();
      await modal.waitFor({ state: "detached", timeout: 30_000 });
      const registryRow = page.locator(`tr[data-registry="${registry.address}"]`);
      await registryRow.waitFor();
      assert.match(await registryRow.innerText(), new RegExp(registry.username));
      assert.equal(await registryRow.locator("td.im-reg-used").innerText(), "never");
      assert.ok(
        !(await page.content()).includes(registry.password),
        "the password is nowhere on the page",
      );

      // An invalid reference is refused at the field; a missing image fails in red.
      await page.fill("#im-pull-ref", "UPPER/Case");
      await page.click("section.im-pull button[type='submit']");
      await page.locator("p.im-field-error#im-pull-hint").waitFor();
      assert.match(await page.locator("#im-pull-hint").innerText(), /reference/i);
      assert.equal(await page.locator("#im-pull-ref").getAttribute("aria-invalid"), "true");
      await page.fill("#im-pull-ref", `${registry.address}/${namespace}/missing:1`);
      await page.click("section.im-pull button[type='submit']");
      await page.locator('.im-progress[data-outcome="failed"]').waitFor({ timeout: 60_000 });
      assert.match(
        await page.locator('.im-progress [role="alert"]').innerText(),
        /failed.*(not found|unknown|does not exist)/is,
      );
      await page.screenshot({ path: await screenshotPath("images-pull-failed") });

      // Pull from it: progress rows, then the success state with the digest.
      await page.fill("#im-pull-ref", reference);
      assert.match(await page.locator("#im-pull-hint").innerText(), /saved credentials/);
      await page.click("section.im-pull button[type='submit']");
      const progress = page.locator(".im-progress");
      await progress.locator(".im-layer, progress.im-bar-overall").first().waitFor();
      // The paced stream (paceNdjsonResponses) lets the bars be seen moving.
      const moving = progress.locator(".im-layer.phase-downloading, .im-layer.phase-extracting");
      await moving.first().waitFor({ timeout: 30_000 });
      const midway = await progress.locator("progress.im-bar-overall").evaluate((el) =>
        (el as HTMLProgressElement).value
      );
      assert.ok(midway > 0 && midway < 1, `the overall bar is part way (${midway})`);
      await page.screenshot({ path: await screenshotPath("images-pull-progress") });
      await page.locator('.im-progress[data-outcome="done"]').waitFor({ timeout: 60_000 });
      assert.ok(await progress.locator(".im-layer").count() >= 1, "one row per layer");
      const result = await progress.locator(".im-pull-result").innerText();
      assert.match(result, /Downloaded newer image/);
      assert.match(result, /sha256:[0-9a-f]{64}/);
      assert.equal(
        await progress.locator("progress.im-bar-overall").evaluate((el) =>
          (el as HTMLProgressElement).value
        ),
        1,
      );
      const pulledId = (await inspectImage(docker, reference)).Id;
      ours.add(pulledId);
      const pulledRow = page.locator(`tr[data-image-id="${pulledId}"]`);
      await pulledRow.waitFor();
      assert.match(await pulledRow.innerText(), new RegExp(`${namespace}/busybox`));
      assert.match(await pulledRow.innerText(), /MB/);
      await page.screenshot({ path: await screenshotPath("images-pull-done") });
      await registryRow.locator("td.im-reg-used", { hasText: /ago|just now/ }).waitFor();

      // "Run container" with an image that is only in the registry: the dialog shows the
      // pull, then closes, and the container runs.
      const runImage = await pushToRegistry(docker, TEST_IMAGE, registry, `${namespace}/runme`);
      await page.locator('[data-island="RunContainerDialog"][data-hydrated="true"]').waitFor();
      await page.locator("header").getByRole("button", { name: "Run container" }).click();
      const runDialog = page.locator("dialog.ct-run");
      await runDialog.locator('input[name="image"]').fill(runImage);
      await runDialog.locator('input[name="name"]').fill(`${namespace}-pulled`);
      await runDialog.locator('input[name="cmd"]').fill("sleep 600");
      await runDialog.getByRole("button", { name: "Run", exact: true }).click();
      const runPull = runDialog.locator(".ct-run-pull");
      await runPull.waitFor({ timeout: 30_000 });
      assert.match(
        await runPull.innerText(),
        new RegExp(`^Pulling \\S+/${namespace}/runme:latest · `),
      );
      assert.equal(await runDialog.getByRole("button", { name: "Pulling…" }).count(), 1);
      await page.screenshot({ path: await screenshotPath("run-pulls-image") });
      await runDialog.waitFor({ state: "detached", timeout: 60_000 });
      await page.locator(".ct-toast").waitFor();
      const pulledRun = await inspectContainer(docker, `${namespace}-pulled`);
      assert.equal(pulledRun.State.Running, true);
      await removeContainer(docker, pulledRun.Id, { force: true });

      // A second tag and a stopped container: the confirmation offers "only this tag", and
      // deleting the whole image needs the explicit force.
      const aliasRepo =
        `${namespace}/a-rather-long-repository-name/for-checking/that-tags-truncate`;
      const alias = `${aliasRepo}:2`;
      await docker.json("POST", `/images/${pulledId}/tag`, {
        query: { repo: aliasRepo, tag: "2" },
      });
      await createContainer(docker, {
        Image: pulledId,
        Cmd: ["/nothing"],
        Labels: { [TEST_LABEL]: namespace },
      }, `${namespace}-stopped`);
      await page.click("button:has-text('Refresh')");
      await pulledRow.locator(".im-tag", { hasText: "that-tags-truncate" }).waitFor();
      // The tag and the container each update the list live; the last answer says it all.
      await pulledRow.locator(".im-col-used", { hasText: /1 container/ }).waitFor();
      assert.equal(
        await pulledRow.locator(".im-col-used a").getAttribute("href"),
        `/containers?image=${encodeURIComponent(pulledId)}`,
      );

      // Filter and sort.
      await page.fill(".im-filter", namespace);
      await page.waitForFunction(
        (ns) =>
          [...document.querySelectorAll(".im-table tbody tr")].every((tr) =>
            tr.textContent!.includes(ns) || tr.getAttribute("data-dangling") === "true"
          ),
        namespace,
      );
      await page.click(".im-table th button:has-text('Size')");
      assert.equal(
        await page.locator(".im-table th[aria-sort]").getAttribute("aria-sort"),
        "descending",
      );
      await page.fill(".im-filter", "");
      await page.screenshot({ path: await screenshotPath("images-table"), fullPage: true });

      // Edit the registry: the password field is write-only, empty keeps the stored one.
      await registryRow.locator("button", { hasText: "Edit" }).click();
      await modal.waitFor();
      assert.equal(await modal.locator('input[name="password"]').inputValue(), "");
      assert.equal(
        await modal.locator('input[name="password"]').getAttribute("placeholder"),
        "unchanged",
      );
      await modal.locator('button[type="submit"]').click();
      await modal.waitFor({ state: "detached" });
      await page.locator(".im-registries .im-notice", { hasText: "Updated" }).waitFor();

      await pulledRow.locator("button", { hasText: "Delete" }).click();
      const confirm = page.locator("dialog#im-delete");
      await confirm.waitFor();
      await confirm.locator('input[type="radio"]').nth(1).check();
      await confirm.locator("select").selectOption(alias);
      await confirm.locator("button.danger", { hasText: "Remove tag" }).click();
      await confirm.waitFor({ state: "detached" });
      await page.locator(".im-images .im-notice", { hasText: "Removed the tag" }).waitFor();
      await pulledRow.locator(".im-tag", { hasText: "that-tags-truncate" }).waitFor({
        state: "detached",
      });

      await pulledRow.locator("button", { hasText: "Delete" }).click();
      await confirm.waitFor();
      assert.match(await confirm.innerText(), new RegExp(`${namespace}-stopped`));
      const forceDelete = confirm.locator("button.danger");
      assert.equal(await forceDelete.isDisabled(), true, "force must be ticked first");
      await confirm.locator('input[type="checkbox"]').check();
      await page.screenshot({ path: await screenshotPath("images-delete-confirm") });
      await forceDelete.click();
      await confirm.waitFor({ state: "detached" });
      await pulledRow.waitFor({ state: "detached" });
      assert.match(await page.locator(".im-images .im-notice").innerText(), /Deleted/);
      ours.delete(pulledId);

      // Prune: the preview lists the dangling image and a total, then the reclaimed bytes.
      await page.click("button:has-text('Prune dangling')");
      const prune = page.locator("dialog#im-prune");
      await prune.waitFor();
      await prune.locator(`tr[data-image-id="${danglingId}"]`).waitFor();
      assert.match(await prune.locator(".im-prune-total").innerText(), /\d.*B$/);
      await page.screenshot({ path: await screenshotPath("images-prune-preview") });
      await prune.locator("button.danger").click();
      await prune.locator(".im-prune-result").waitFor({ timeout: 60_000 });
      assert.match(await prune.locator(".im-prune-result").innerText(), /Reclaimed \d/);
      await page.screenshot({ path: await screenshotPath("images-prune-done") });
      await prune.locator("button", { hasText: "Close" }).click();
      await page.locator(`tr[data-image-id="${danglingId}"]`).waitFor({ state: "detached" });
      ours.delete(danglingId);

      // Delete the registry (with confirmation): back to the empty state.
      await registryRow.locator("button", { hasText: "Delete" }).click();
      const forget = page.locator("dialog#im-registry-delete");
      await forget.locator("button.danger", { hasText: "Delete credentials" }).click();
      await registryRow.waitFor({ state: "detached" });
      await page.locator(".im-registries .im-empty-small").waitFor();
      assert.deepEqual(errors, [], "no errors in the browser console (CSP included)");

      // A viewer sees the list but no control that changes anything.
      const cookie = await panel.login();
      const created = await fetch(`${panel.url}/api/users`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie },
        body: JSON.stringify({
          username: "images-viewer",
          password: "viewer password 123",
          role: "viewer",
        }),
      });
      assert.equal(created.status < 300, true, await created.text());
      const viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await signIn(viewer, panel.url, "images-viewer", "viewer password 123");
      await viewer.goto(`${panel.url}/images`);
      await hydrated(viewer);
      await viewer.locator(".im-table").waitFor();
      await viewer.waitForTimeout(300);
      assert.equal(await viewer.locator("section.im-pull").count(), 0, "no pull box");
      assert.equal(await viewer.locator("button", { hasText: "Prune" }).count(), 0);
      assert.equal(await viewer.locator(".im-table button", { hasText: "Delete" }).count(), 0);
      assert.equal(await viewer.locator("button", { hasText: "Add registry" }).count(), 0);
      assert.ok(await viewer.locator(".im-table tbody tr").count() >= 1);
      await viewer.screenshot({ path: await screenshotPath("images-viewer") });
    } finally {
      await removeTestContainers(docker, namespace);
      await removeContainersNamed(docker, `${namespace}-`);
      await cleanUp(docker, namespace, ours);
      await registry?.stop();
      docker.close();
    }
  },
});

Deno.test({
  ...e2e,
  name: "e2e: a pull goes on across a reload, and the Images tab shows it again",
  async fn() {
    const docker = await engineClient();
    const namespace = uniquePrefix("cm-e2e").replace(/-$/, "");
    const registry = await startRegistry();
    // 4 MB at 1 MB/s through a throttling proxy: seconds of real pulling to reload into.
    const proxy = startSlowProxy(registry, 1_000_000);
    try {
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      const local = `${namespace}/payload:src`;
      await importImage(docker, local, randomPayloadTar(namespace, 4_000_000));
      await pushToRegistry(docker, local, registry, `${namespace}/slow`);
      await docker.json("DELETE", `/images/${local}`);
      const saved = await fetch(`${panel.url}/api/containers/registries`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Origin: panel.url,
          Cookie: await panel.login(),
        },
        body: JSON.stringify({
          server_address: proxy.address,
          username: registry.username,
          password: registry.password,
        }),
      });
      assert.equal(saved.status, 200, await saved.text());
      const reference = `${proxy.address}/${namespace}/slow:latest`;

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await page.goto(`${panel.url}/images`);
      await hydrated(page);
      await page.fill("#im-pull-ref", reference);
      await page.click("section.im-pull button[type='submit']");
      await page.locator(".im-progress .im-layer.phase-downloading").waitFor({ timeout: 30_000 });

      await page.reload();
      await hydrated(page);
      const progress = page.locator('.im-progress[data-outcome="pulling"]');
      await progress.waitFor({ timeout: 10_000 });
      assert.equal(await page.inputValue("#im-pull-ref"), reference);
      assert.match(await progress.innerText(), new RegExp(`${namespace}/slow`));
      await page.screenshot({ path: await screenshotPath("images-pull-resumed") });
      assert.equal(
        await page.locator("section.im-pull button[type='submit']").innerText(),
        "Pulling…",
      );
      await page.locator('.im-progress[data-outcome="done"]').waitFor({ timeout: 60_000 });
      assert.match(await page.locator(".im-pull-result").innerText(), /sha256:[0-9a-f]{64}/);
      const pulledId = (await inspectImage(docker, reference)).Id;
      await page.locator(`tr[data-image-id="${pulledId}"]`).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await cleanUp(docker, namespace, new Set());
      await proxy.stop();
      await registry.stop();
      docker.close();
    }
  },
});
