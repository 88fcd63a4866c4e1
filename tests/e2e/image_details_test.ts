/**
 * The image details drawer (layers, history, labels, tag, untag, push with progress), the
 * registry browser (repositories, tags, pull from there) and a compose stack's Update in
 * headless Chromium, against the real panel, Engine and test registry. Screenshots at
 * 1440x900 and 390x844, light and dark: tests/.artifacts/image-details-*.png,
 * registry-browser-*.png and stack-update-*.png.
 */
import assert from "node:assert/strict";
import { newTestImage } from "../fixtures/updates.ts";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { removeTestContainers, testEngine } from "../fixtures/engine.ts";
import { pushImage, startRegistry } from "../fixtures/registry.ts";
import { cleanupComposeProject } from "../fixtures/compose.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import { inspectImage } from "../../lib/docker/images.ts";
import { listContainers } from "../../lib/docker/containers.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

/** The update tests' image, with labels and a command the details drawer shows. */
function newImage(
  docker: DockerClient,
  prefix: string,
  label: string,
  made: string[],
  query: Record<string, string> = {},
) {
  return newTestImage(docker, prefix, label, made, {
    changes: [
      "LABEL org.opencontainers.image.title=a-label-with-a-rather-long-value-that-has-to-wrap-inside-the-drawer-without-overflowing",
      "LABEL org.opencontainers.image.source=https://example.invalid/team/app",
      'CMD ["sleep", "300"]',
    ],
    query,
  });
}

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

Deno.test({
  ...e2e,
  name:
    "e2e: image details, registry browser and stack Update (screenshots at 1440/390, light/dark)",
  async fn() {
    await using engine = await testEngine("cmimge2e");
    const { docker, prefix } = engine;
    const registry = await startRegistry();
    const images: string[] = [];
    const project = `${prefix}stack`.replace(/[^a-z0-9_-]/g, "");
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

      // A local image with a long name, and repositories in the registry to browse.
      const longRepo = `${prefix}a-rather-long-repository-name-for-wrapping/app`;
      const local = await newImage(docker, prefix, "local", images, {
        repo: longRepo,
        tag: "1.0.0",
      });
      images.push(`${longRepo}:1.0.0`);
      for (
        const [repository, tag] of [["team/api", "1.0.0"], ["team/api", "1.1.0"], ["web", "2"]]
      ) {
        images.push((await pushImage(docker, local, registry, repository, tag)).reference);
      }
      const a = await pushImage(
        docker,
        await newImage(docker, prefix, "a1", images),
        registry,
        "stack/a",
        "1",
      );
      const b = await pushImage(
        docker,
        await newImage(docker, prefix, "b1", images),
        registry,
        "stack/b",
        "1",
      );
      images.push(a.reference, b.reference);
      const service = (image: string) =>
        `    image: ${image}\n    command: ["sleep", "300"]\n    stop_grace_period: 1s\n`;
      const deployed = await post("/api/containers/compose/deploy", {
        project,
        yaml: `services:\n  a:\n${service(a.reference)}  b:\n${service(b.reference)}`,
      });
      const deployText = await deployed.text();
      assert.match(deployText.trim().split("\n").at(-1)!, /"done":true/, deployText);
      const newB = await pushImage(
        docker,
        await newImage(docker, prefix, "b2", images),
        registry,
        "stack/b",
        "1",
      );
      const checked = await post("/api/containers/updates/check", {});
      assert.ok(checked.ok, await checked.text());

      await using browser = await launchBrowser();
      // One signed-in page, resized and re-themed for each screenshot.
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      // The badges the check left, on the container and image rows, before anything changes.
      for (const [width, height] of [[1440, 900], [390, 844]]) {
        for (const scheme of ["light", "dark"] as const) {
          await page.setViewportSize({ width, height });
          await page.emulateMedia({ colorScheme: scheme });
          errors.length = 0;
          await open(
            page,
            `${panel.url}/containers?q=${encodeURIComponent(project)}`,
            "ContainersTable",
          );
          const bRow = page.locator(`tr.ct-row[data-name="${project}-b-1"]`);
          await bRow.locator(".badge-update").waitFor({ timeout: 15_000 });
          assert.equal(
            await page.locator(`tr.ct-row[data-name="${project}-a-1"] .badge-update`).count(),
            0,
          );
          await page.screenshot({
            path: await screenshotPath(`update-badges-containers-${width}-${scheme}`),
          });
          await open(page, `${panel.url}/images`, "ImagesPanel");
          const badge = page.locator("tr.im-row .badge-update").first();
          await badge.waitFor({ timeout: 15_000 });
          await badge.scrollIntoViewIfNeeded();
          await page.screenshot({
            path: await screenshotPath(`update-badges-images-${width}-${scheme}`),
          });
          assert.deepEqual(errors, []);
        }
      }
      for (const [width, height] of [[1440, 900], [390, 844]]) {
        for (const scheme of ["light", "dark"] as const) {
          await page.setViewportSize({ width, height });
          await page.emulateMedia({ colorScheme: scheme });
          errors.length = 0;
          const first = width === 1440 && scheme === "light";
          const shot = async (name: string) =>
            await page.screenshot({ path: await screenshotPath(`${name}-${width}-${scheme}`) });

          // Image details.
          await open(page, `${panel.url}/images`, "ImagesPanel");
          const imageRow = page.locator(`tr.im-row[data-image-id="${local}"]`);
          await imageRow.waitFor();
          await imageRow.getByRole("button", { name: /^Details of / }).locator("visible=true")
            .click();
          const drawer = page.locator("dialog.im-drawer");
          await drawer.locator("table.im-history tbody tr").first().waitFor();
          assert.match(await drawer.locator(".im-facts").innerText(), /linux\/amd64|linux\//);
          assert.match(
            await drawer.locator(".im-labels").innerText(),
            /org\.opencontainers\.image\.source/,
          );
          if (first) {
            // Tag, then untag, in the drawer.
            await drawer.locator("#im-add-tag").fill(`${prefix}extra:7`);
            await drawer.getByRole("button", { name: "Add tag" }).click();
            await drawer.locator(".im-tag-list").getByText(`${prefix}extra:7`).waitFor();
            images.push(`${prefix}extra:7`);
            await drawer.getByRole("button", { name: `Remove the tag ${prefix}extra:7` }).click();
            await drawer.locator(".im-tag-list").getByText(`${prefix}extra:7`).waitFor({
              state: "detached",
            });
            // Push with per-layer progress.
            await drawer.locator(".im-push-repo input").fill("pushed/from-drawer");
            await drawer.locator(".im-push-tag input").fill("3");
            await drawer.getByRole("button", { name: "Push", exact: true }).click();
            await drawer.locator('.im-progress[data-outcome="done"]').waitFor({ timeout: 60_000 });
            images.push(`${registry.address}/pushed/from-drawer:3`);
            assert.ok(await drawer.locator(".im-progress .im-layer").count() >= 1);
            assert.doesNotMatch(await drawer.innerText(), new RegExp(registry.password));
          }
          await shot("image-details");
          await drawer.locator("#im-d-layers").scrollIntoViewIfNeeded();
          await shot("image-details-history");
          await drawer.getByRole("button", { name: "Close" }).click();

          // The registry browser.
          await page.locator(`tr[data-registry="${registry.address}"]`).getByRole("button", {
            name: "Browse",
          }).click();
          const browse = page.locator("dialog.im-browse");
          await browse.getByRole("button", { name: "team/api" }).click();
          await browse.getByRole("button", { name: `Pull ${registry.address}/team/api:1.1.0` })
            .waitFor();
          await shot("registry-browser");
          if (first) {
            await docker.json("DELETE", `/images/${registry.address}/team/api:1.1.0`).catch(
              () => {},
            );
            await browse.getByRole("button", { name: `Pull ${registry.address}/team/api:1.1.0` })
              .click();
            await page.locator('.im-pull .im-progress[data-outcome="done"]').waitFor({
              timeout: 60_000,
            });
            assert.equal(
              (await inspectImage(docker, `${registry.address}/team/api:1.1.0`)).Id,
              local,
            );
          } else {
            await browse.getByRole("button", { name: "Close" }).click();
          }

          // Update notifications: add one (with a secret), a refused URL, the list.
          const hooks = page.locator("section.im-webhooks");
          await hooks.scrollIntoViewIfNeeded();
          if (first) {
            await hooks.getByLabel("URL").fill("http://169.254.169.254/latest");
            await hooks.getByRole("button", { name: "Add webhook" }).click();
            await hooks.locator(".im-field-error").getByText(/link-local/).waitFor();
            await hooks.getByLabel("URL").fill("http://127.0.0.1:9/hooks/ci-token");
            await hooks.getByLabel(/Signing secret/).fill("webhook-signing-secret");
            await hooks.getByRole("button", { name: "Add webhook" }).click();
            await hooks.locator(".im-hook").getByText("http://127.0.0.1:9/hooks/ci-token")
              .waitFor();
            assert.match(await hooks.locator(".im-hook-meta").innerText(), /signed/);
            assert.doesNotMatch(await page.content(), /webhook-signing-secret/);
          }
          await hooks.locator(".im-hook").first().waitFor();
          await hooks.scrollIntoViewIfNeeded();
          await shot("webhooks");

          // The stack's update badge and Update.
          await open(page, `${panel.url}/compose`, "ComposePanel");
          const stackRow = page.locator(`tr[data-stack="${project}"]`);
          await stackRow.waitFor();
          if (first) {
            const badge = stackRow.locator(".up-stack-badge");
            await badge.waitFor({ timeout: 15_000 });
            assert.equal(await badge.getAttribute("data-update-services"), "b");
            await stackRow.scrollIntoViewIfNeeded();
            await shot("stack-update-badge");
            await stackRow.getByRole("button", { name: `Update ${project}` }).click();
            const dialog = page.locator("dialog#up-stack");
            assert.match(await dialog.locator(".up-services").innerText(), /b/);
            await shot("stack-update-dialog");
            await dialog.getByRole("button", { name: "Update", exact: true }).click();
            const result = dialog.locator(".notice");
            await result.waitFor({ timeout: 120_000 });
            const text = await result.innerText();
            assert.match(text, /updated b \(1 container/i, text);
            assert.match(text, /a already runs its newest image/, text);
            await shot("stack-update");
            const bNow = (await listContainers(docker, {
              all: true,
              filters: { label: [`com.docker.compose.project=${project}`] },
            })).find((c) => c.Labels?.["com.docker.compose.service"] === "b");
            assert.equal(
              (await inspectImage(docker, bNow!.ImageID)).RepoDigests?.some((d) =>
                d.endsWith(newB.digest)
              ),
              true,
            );
            await dialog.getByRole("button", { name: "Close" }).first().click();
            // The recreated container is checked again: the badge goes.
            await stackRow.locator(".up-stack-badge").waitFor({
              state: "detached",
              timeout: 30_000,
            });
          } else {
            await stackRow.scrollIntoViewIfNeeded();
            await shot("stack-update");
          }
          assert.deepEqual(errors, []);
        }
      }
    } finally {
      await cleanupComposeProject(docker, project);
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
