/**
 * The Compose tab in headless Chromium against the real Engine: paste a file, see the
 * preview cards and warnings (a warning moves the editor's selection to its line), deploy
 * with live per-service progress, find the containers on the Containers tab with their
 * stack badge, open the stack back into the editor, bring it down from the Stacks list,
 * and check a viewer can preview but change nothing. Screenshots: tests/.artifacts/compose-*.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
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
  engineClient,
  ensureTestImage,
  removeTestContainers,
  TEST_IMAGE,
  TEST_LABEL,
} from "../fixtures/engine.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import { createContainer, listContainers, removeContainer } from "../../lib/docker/containers.ts";
import {
  countEnvVars,
  indentEdit,
  lineCount,
  lineOfMessage,
  lineRange,
  nameFromYaml,
  newlineEdit,
} from "../../islands/compose/text.ts";
import {
  applyDeployLines,
  initialDeploy,
  pullFraction,
  rowText,
} from "../../islands/compose/deploy.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

/** The plan a result carries (rows are drawn from the services' outcomes). */
function noPlan(project: string) {
  return { project, networks: [], volumes: [], services: [], orphans: [] };
}
const PROJECT_LABEL = "com.docker.compose.project";

Deno.test("compose editor: project names, lines and indentation", () => {
  assert.equal(nameFromYaml("name: shop\nservices: {}\n"), "shop");
  assert.equal(nameFromYaml('services:\n  a:\n    image: x\nname: "my-app" # the app\n'), "my-app");
  assert.equal(nameFromYaml("services:\n  web:\n    name: nested\n"), null, "only top level");
  assert.equal(nameFromYaml("name: ${PROJECT}\n"), null, "interpolation is the server's");
  assert.equal(lineCount(""), 1);
  assert.equal(lineCount("a\nb\n"), 3);
  assert.deepEqual(lineRange("a\nbb\nccc", 2), [2, 4]);
  assert.deepEqual(lineRange("a\nbb\nccc", 3), [5, 8]);
  assert.equal(lineOfMessage("bad indentation of a mapping entry at line 7, column 3"), 7);
  assert.equal(lineOfMessage("Line 12: unknown key"), 12);
  assert.equal(lineOfMessage("no number"), null);
  assert.equal(countEnvVars("# c\nA=1\n\nexport B=2\nnot a var\n"), 2);

  // Tab at a caret inserts two spaces; over lines it indents each; Shift+Tab outdents.
  const tab = indentEdit("ab", 1, 1, false)!;
  assert.deepEqual([tab.from, tab.to, tab.insert, tab.selStart], [1, 1, "  ", 3]);
  const text = "a:\n  b: 1\nc: 2";
  const block = indentEdit(text, 0, text.length, false)!;
  assert.equal(block.insert, "  a:\n    b: 1\n  c: 2");
  const out = indentEdit(text, 3, 9, true)!;
  assert.equal(text.slice(0, out.from) + out.insert + text.slice(out.to), "a:\nb: 1\nc: 2");
  assert.equal(indentEdit("a", 0, 0, true), null, "nothing to outdent");

  // Enter keeps the indentation, one more level after a key that opens a block.
  assert.equal(newlineEdit("    image: x", 12, 12).insert, "\n    ");
  assert.equal(newlineEdit("  web:", 6, 6).insert, "\n    ");
});

Deno.test("compose deploy stream: rows per service, pull bar, result and error", () => {
  let state = initialDeploy("shop", ["db", "web"]);
  state = applyDeployLines(state, [
    { status: "started", project: "shop", services: ["db", "web"] },
    { status: "network", message: "Creating network shop_default" },
    { service: "db", status: "pulling", message: "Pulling postgres:16" },
    {
      service: "db",
      status: "pulling",
      message: "aaaaaaaaaaaa Downloading",
      current: 50,
      total: 200,
    },
    {
      service: "db",
      status: "pulling",
      message: "bbbbbbbbbbbb Downloading",
      current: 0,
      total: 200,
    },
  ]);
  assert.equal(state.outcome, "deploying");
  assert.deepEqual(state.steps, ["Creating network shop_default"]);
  assert.equal(state.rows[0].phase, "active");
  assert.equal(pullFraction(state.rows[0]), 0.125);
  assert.equal(rowText(state.rows[0], null), "Pulling postgres:16");
  assert.equal(state.rows[1].phase, "queued");
  state = applyDeployLines(state, [
    { service: "db", status: "creating" },
    { service: "db", status: "starting" },
    { service: "db", status: "done" },
    { service: "web", status: "waiting", message: "Waiting for db (service_healthy)" },
  ]);
  assert.equal(state.rows[0].phase, "done");
  assert.equal(rowText(state.rows[1], null), "Waiting for db (service_healthy)");
  const failed = applyDeployLines(state, [
    { service: "web", status: "failed", message: "port is already allocated" },
    { done: false, error: 'Service "web": port is already allocated' },
  ]);
  assert.equal(failed.outcome, "failed");
  assert.equal(failed.failedService, "web");
  assert.equal(failed.rows[1].phase, "failed");
  const done = applyDeployLines(state, [
    { service: "web", status: "done" },
    {
      done: true,
      result: {
        project: "shop",
        services: [
          { service: "db", container: "shop-db-1", action: "created" },
          { service: "web", container: "shop-web-1", action: "recreated" },
        ],
        orphans: [],
        removed_orphans: [],
        plan: noPlan("shop"),
      },
    },
  ]);
  assert.equal(done.outcome, "done");
  assert.equal(rowText(done.rows[1], done.result), "Recreated and started");
  const refused = applyDeployLines(initialDeploy("x", ["a"]), [{ done: false, error: "no" }]);
  assert.equal(refused.rows[0].phase, "skipped");
  // A daemon warning is a project-wide step; a dependent restarted with its dependency says so.
  let restarted = applyDeployLines(initialDeploy("shop", ["db", "web"]), [
    { status: "started", project: "shop", services: ["db", "web"] },
    { status: "warning", message: "healthcheck.start_interval needs Docker Engine API 1.44" },
    { service: "db", status: "recreating" },
    { service: "web", status: "restarting", message: "Restarting: db changed" },
  ]);
  assert.deepEqual(restarted.steps, [
    "Warning: healthcheck.start_interval needs Docker Engine API 1.44",
  ]);
  assert.equal(restarted.rows[1].phase, "active");
  assert.equal(rowText(restarted.rows[1], null), "Restarting: db changed");
  assert.equal(rowText(restarted.rows[0], null), "Recreating container");
  restarted = applyDeployLines(restarted, [
    { service: "db", status: "done" },
    { service: "web", status: "done" },
    {
      done: true,
      result: {
        project: "shop",
        services: [
          { service: "db", container: "shop-db-1", action: "recreated" },
          { service: "web", container: "shop-web-1", action: "restarted" },
        ],
        orphans: [],
        removed_orphans: [],
        plan: noPlan("shop"),
      },
    },
  ]);
  assert.equal(
    rowText(restarted.rows[1], restarted.result),
    "Restarted (unchanged; a dependency was renewed)",
  );
});

async function openCompose(page: Page, url: string) {
  await page.goto(`${url}/compose`);
  await page.locator('[data-island="ComposePanel"][data-hydrated="true"]').waitFor({
    timeout: 15_000,
  });
}

async function cleanupProject(docker: DockerClient, project: string) {
  const filters = JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] });
  const containers = await listContainers(docker, {
    all: true,
    filters: { label: [`${PROJECT_LABEL}=${project}`] },
  });
  for (const container of containers) {
    await removeContainer(docker, container.Id, { force: true, volumes: true }).catch(() => {});
  }
  const networks = await docker.json<{ Id: string }[]>("GET", "/networks", { query: { filters } })
    .catch(() => []);
  for (const network of networks) {
    await docker.json("DELETE", `/networks/${network.Id}`).catch(() => {});
  }
  const volumes = await docker.json<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", {
    query: { filters },
  }).catch(() => ({ Volumes: [] }));
  for (const volume of volumes.Volumes ?? []) {
    await docker.json("DELETE", `/volumes/${volume.Name}`).catch(() => {});
  }
}

function composeFile() {
  return `version: "3"
services:
  web:
    image: ${TEST_IMAGE}
    command: httpd -f -p 8080 -h /www
    restart: unless-stopped
    environment:
      GREETING: a-secret-value
    ports:
      - "127.0.0.1::8080"
    volumes:
      - data:/data
    frobnicate: true
  worker:
    image: ${TEST_IMAGE}
    command: sleep 3600
    depends_on:
      - web
volumes:
  data: {}
`;
}

Deno.test({
  ...e2e,
  name: "e2e: compose tab — preview, warnings, deploy with progress, stack badge, down, viewer",
  async fn() {
    const docker = await engineClient();
    const project = `cme2e${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
    const cliProject = `${project}cli`;
    try {
      // Inside the try: the panel and browser are gone before the cleanup below runs, so
      // nothing the panel is still doing can recreate what it removes.
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      await ensureTestImage(docker);
      // A stack made outside the panel (as the compose CLI labels it): listed as external.
      await createContainer(docker, {
        Image: TEST_IMAGE,
        Cmd: ["sleep", "3600"],
        Labels: {
          [TEST_LABEL]: project,
          [PROJECT_LABEL]: cliProject,
          "com.docker.compose.service": "db",
          "com.docker.compose.project.working_dir": "/srv/somewhere/else",
        },
      }, `${cliProject}-db-1`);

      const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
      const errors = watchErrors(page);
      await paceNdjsonResponses(page, 350);
      await signIn(page, panel.url);
      await openCompose(page, panel.url);
      assert.equal(await page.locator("h1").innerText(), "Compose");
      await page.locator(".cp-preview-empty").waitFor();
      const cliRow = page.locator(`tr[data-stack="${cliProject}"]`);
      await cliRow.waitFor();
      assert.match(await cliRow.locator(".cp-badge").innerText(), /external/);

      // A broken file: the error names its line and "Go to line" selects it.
      await page.fill("#cp-yaml", "services:\n  web:\n    image: x\n   bad: 1\n");
      await page.locator('.cp-preview[data-state="error"]').waitFor({ timeout: 15_000 });
      assert.match(await page.locator(".cp-preview-error").innerText(), /line 4/);
      assert.equal(await page.locator("button.cp-deploy-btn").isDisabled(), true);
      await page.locator(".cp-preview-error button", { hasText: "Go to line 4" }).click();
      assert.equal(
        await page.locator("#cp-yaml").evaluate((el) => {
          const area = el as HTMLTextAreaElement;
          return area.value.slice(area.selectionStart, area.selectionEnd);
        }),
        "   bad: 1",
      );
      await page.locator(".cp-ln.mark-error").waitFor();
      await page.screenshot({ path: await screenshotPath("compose-error") });

      // Paste the file: it has no name:, so the project name is asked for.
      const yaml = composeFile();
      await page.fill("#cp-yaml", yaml);
      await page.locator(".cp-field-required").waitFor();
      await page.fill("#cp-project", project);
      const web = page.locator('.cp-card[data-service="web"]');
      const worker = page.locator('.cp-card[data-service="worker"]');
      await page.locator('.cp-preview[data-state="fresh"]').waitFor({ timeout: 15_000 });
      await web.waitFor();
      await worker.waitFor();
      const order = await page.locator(".cp-card").evaluateAll((cards) =>
        cards.map((card) => card.getAttribute("data-service"))
      );
      assert.deepEqual(order, ["web", "worker"], "cards in deploy order");
      assert.equal(await web.locator(".cp-action").getAttribute("data-action"), "create");
      assert.match(await web.locator(".cp-mark").innerText(), /local/);
      const webText = await web.innerText();
      assert.match(webText, /GREETING/);
      assert.match(webText, /unless-stopped/);
      assert.match(webText, /httpd -f -p 8080/);
      assert.match(webText, /127\.0\.0\.1:random:8080\/tcp/);
      assert.match(webText, /volume[\s\S]*data[\s\S]*\/data[\s\S]*rw/i);
      assert.match(await worker.innerText(), /web\s+started/);
      assert.ok(
        !(await page.locator(".cp-preview").innerText()).includes("a-secret-value"),
        "environment values never reach the page",
      );
      assert.match(
        await page.locator(".cp-resources-row").innerText(),
        new RegExp(`${project}_data`),
      );
      await page.screenshot({
        path: await screenshotPath("compose-editor-preview"),
        fullPage: true,
      });

      // Warnings: the obsolete version and the unknown key; a click selects the line.
      const warnings = page.locator(".cp-warning");
      assert.ok(await warnings.count() >= 2, "at least two warnings");
      const obsolete = page.locator('.cp-warning[data-kind="obsolete"] button');
      await obsolete.first().waitFor();
      const unknown = page.locator(".cp-warning", { hasText: "frobnicate" }).locator("button");
      const unknownLine = Number(await unknown.getAttribute("data-line"));
      assert.equal(yaml.split("\n")[unknownLine - 1].trim(), "frobnicate: true");
      await unknown.click();
      const selected = await page.locator("#cp-yaml").evaluate((el) => {
        const area = el as HTMLTextAreaElement;
        return {
          text: area.value.slice(area.selectionStart, area.selectionEnd),
          focused: document.activeElement === area,
        };
      });
      assert.equal(selected.text.trim(), "frobnicate: true");
      assert.ok(selected.focused, "the editor has the focus");
      assert.equal(
        await page.locator(".cp-ln.is-target").innerText(),
        String(unknownLine),
        "the gutter marks the line",
      );
      await obsolete.first().click();
      assert.equal(
        await page.locator("#cp-yaml").evaluate((el) => {
          const area = el as HTMLTextAreaElement;
          return area.value.slice(area.selectionStart, area.selectionEnd);
        }),
        'version: "3"',
      );
      await page.locator(".cp-warnings").scrollIntoViewIfNeeded();
      await page.screenshot({ path: await screenshotPath("compose-warnings") });

      // A risky setting holds the deploy back until it is acknowledged.
      const deploy = page.locator("button.cp-deploy-btn");
      await page.fill(
        "#cp-yaml",
        yaml.replace(
          "    command: sleep 3600\n",
          "    command: sleep 3600\n    privileged: true\n",
        ),
      );
      const risks = page.locator(".cp-risks");
      await risks.waitFor({ timeout: 15_000 });
      assert.match(await risks.innerText(), /privileged/);
      assert.equal(await deploy.isDisabled(), true, "disabled until the risks are acknowledged");
      await risks.locator('input[name="acknowledge_risks"]').check();
      assert.equal(await deploy.isEnabled(), true);
      await page.screenshot({ path: await screenshotPath("compose-risks") });
      await page.fill("#cp-yaml", yaml);
      await risks.waitFor({ state: "detached", timeout: 15_000 });

      // Deploy: per-service rows move (the stream is slowed down to be seen), then done.
      await page.locator('.cp-preview[data-state="fresh"]').waitFor({ timeout: 15_000 });
      assert.equal(await deploy.isEnabled(), true);
      await deploy.click();
      const progress = page.locator(".cp-progress");
      await progress.waitFor();
      // web is up and worker on its way: a check and a spinner.
      await progress.locator('.cp-row[data-service="web"][data-phase="done"]').waitFor({
        timeout: 30_000,
      });
      await progress.locator('.cp-row[data-service="worker"][data-phase="active"]').waitFor({
        timeout: 30_000,
      });
      await page.locator(".cp-deploy").scrollIntoViewIfNeeded();
      await page.screenshot({ path: await screenshotPath("compose-deploy-progress") });
      await page.locator('.cp-progress[data-outcome="done"]').waitFor({ timeout: 60_000 });
      assert.equal(await progress.locator('.cp-row[data-phase="done"]').count(), 2);
      assert.match(await progress.locator(".cp-result").innerText(), /deployed/i);
      const containers = await listContainers(docker, {
        all: true,
        filters: { label: [`${PROJECT_LABEL}=${project}`] },
      });
      assert.equal(containers.length, 2);
      assert.ok(containers.every((c) => c.State === "running"), "both services run");
      await page.screenshot({ path: await screenshotPath("compose-deploy-done") });

      // The preview catches up: both services are now unchanged.
      await page.locator('.cp-card[data-service="web"] .cp-action[data-action="unchanged"]')
        .waitFor({ timeout: 15_000 });
      const row = page.locator(`tr[data-stack="${project}"]`);
      await row.locator(".cp-state", { hasText: "2/2 running" }).waitFor({ timeout: 15_000 });
      assert.match(await row.locator(".cp-badge").first().innerText(), /ours/);
      await page.locator(".cp-stacks").scrollIntoViewIfNeeded();
      await page.screenshot({ path: await screenshotPath("compose-stacks") });

      // The Containers tab shows them with the stack badge.
      await page.goto(`${panel.url}/containers`);
      await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor();
      const webRow = page.locator(`tr[data-name="${project}-web-1"]`);
      await webRow.waitFor();
      assert.equal(await webRow.locator(".badge-stack").innerText(), `${project}/web`);
      await page.locator(`tr[data-name="${project}-worker-1"] .badge-stack`).waitFor();

      // Back on Compose: open the stack into a fresh editor, then bring it down.
      await openCompose(page, panel.url);
      await row.locator("button", { hasText: "Open" }).click();
      await page.waitForFunction(
        (expected) =>
          (document.querySelector("#cp-yaml") as HTMLTextAreaElement).value === expected,
        yaml,
      );
      assert.equal(await page.locator("#cp-project").inputValue(), project);
      await row.locator('button[data-action="down"]').click();
      const dialog = page.locator("dialog#cp-down");
      await dialog.waitFor();
      await dialog.locator('input[name="volumes"]').check();
      await page.screenshot({ path: await screenshotPath("compose-down-confirm") });
      await dialog.locator("button.danger").click();
      await dialog.waitFor({ state: "detached", timeout: 30_000 });
      await row.locator('.cp-state[data-state="down"]').waitFor({ timeout: 15_000 });
      assert.match(await page.locator(".cp-stacks .cp-notice").innerText(), /down/);
      const left = await listContainers(docker, {
        all: true,
        filters: { label: [`${PROJECT_LABEL}=${project}`] },
      });
      assert.equal(left.length, 0, "the containers are gone");
      const volumes = await docker.json<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", {
        query: { filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }) },
      });
      assert.equal((volumes.Volumes ?? []).length, 0, "the named volume went too");

      // Down kept the file: the row offers Forget, which deletes it and the row goes.
      await row.locator('button[data-action="forget"]').click();
      const forget = page.locator("dialog#cp-forget");
      await forget.waitFor();
      await page.screenshot({ path: await screenshotPath("compose-forget-confirm") });
      await forget.locator("button.danger").click();
      await forget.waitFor({ state: "detached", timeout: 15_000 });
      await row.waitFor({ state: "detached", timeout: 15_000 });
      assert.deepEqual(errors, [], "no errors in the browser console (CSP included)");

      // A viewer previews but gets no deploy or stack controls.
      const cookie = await panel.login();
      const created = await fetch(`${panel.url}/api/users`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie },
        body: JSON.stringify({
          username: "compose-viewer",
          password: "viewer password 123",
          role: "viewer",
        }),
      });
      assert.equal(created.status < 300, true, await created.text());
      // (narrower: the preview goes under the editor)
      const viewer = await browser.newPage({ viewport: { width: 1024, height: 900 } });
      const viewerErrors = watchErrors(viewer);
      await signIn(viewer, panel.url, "compose-viewer", "viewer password 123");
      await openCompose(viewer, panel.url);
      await viewer.locator(`tr[data-stack="${cliProject}"]`).waitFor();
      // Files: the picker takes a compose file, a drop on the editor takes a .env.
      await viewer.setInputFiles(".cp-file-input", {
        name: "compose.yaml",
        mimeType: "application/yaml",
        buffer: Buffer.from(`name: ${project}\n${yaml}`),
      });
      await viewer.waitForFunction(
        (expected) =>
          (document.querySelector("#cp-yaml") as HTMLTextAreaElement).value === expected,
        `name: ${project}\n${yaml}`,
      );
      assert.equal(await viewer.locator("#cp-project").inputValue(), project, "from name:");
      await viewer.locator(".cp-editor").evaluate((editor) => {
        const data = new DataTransfer();
        data.items.add(new File(["GREETING=hi\n# note\nTAG=1\n"], ".env"));
        for (const type of ["dragenter", "dragover", "drop"]) {
          editor.dispatchEvent(
            new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }),
          );
        }
      });
      await viewer.locator(".cp-env[open]").waitFor();
      assert.equal(await viewer.locator("#cp-env").inputValue(), "GREETING=hi\n# note\nTAG=1\n");
      assert.match(await viewer.locator(".cp-env summary").innerText(), /2 variables/);
      assert.equal(await viewer.locator(".cp-drop-overlay").count(), 0, "the overlay went");
      // Tab indents by two spaces; Enter keeps the indentation.
      await viewer.locator("#cp-yaml").evaluate((el) => {
        const area = el as HTMLTextAreaElement;
        const at = area.value.indexOf("    command: sleep 3600") + "    command: sleep 3600".length;
        area.focus();
        area.setSelectionRange(at, at);
      });
      await viewer.keyboard.press("Enter");
      await viewer.keyboard.type("stop_grace_period: 5s");
      await viewer.keyboard.press("Enter");
      await viewer.keyboard.press("Tab");
      const edited = await viewer.locator("#cp-yaml").inputValue();
      assert.ok(
        edited.includes("    command: sleep 3600\n    stop_grace_period: 5s\n      \n"),
        JSON.stringify(edited),
      );
      await viewer.locator('.cp-card[data-service="worker"]').waitFor({ timeout: 15_000 });
      assert.equal(await viewer.locator("button.cp-deploy-btn").count(), 0, "no deploy");
      assert.equal(await viewer.locator(".cp-stacks button[data-action]").count(), 0);
      assert.equal(await viewer.locator(".cp-stacks button", { hasText: "Open" }).count(), 0);
      await viewer.screenshot({ path: await screenshotPath("compose-viewer"), fullPage: true });
      assert.deepEqual(viewerErrors, [], "no errors in the viewer's console");
    } finally {
      await cleanupProject(docker, project);
      await cleanupProject(docker, cliProject);
      await removeTestContainers(docker, project);
      docker.close();
    }
  },
});

Deno.test({
  ...e2e,
  name: "e2e: compose tab — open a stack, edit its .env, see what is recreated and why, redeploy",
  async fn() {
    const docker = await engineClient();
    const project = `cmedit${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
    const quick = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;
    const yaml = `services:
  web:
    image: ${TEST_IMAGE}
    command: ${quick}
    environment:
      GREETING: \${GREETING}
  worker:
    image: ${TEST_IMAGE}
    command: ${quick}
    depends_on:
      web: {condition: service_started, restart: true}
  idle:
    image: ${TEST_IMAGE}
    command: ${quick}
`;
    try {
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      await ensureTestImage(docker);
      const cookie = await panel.login();
      const deployed = await fetch(`${panel.url}/api/containers/compose/deploy`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie },
        body: JSON.stringify({ yaml, project, env: "GREETING=one\n" }),
      });
      assert.match((await deployed.text()).trim().split("\n").at(-1)!, /"done":true/);

      const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await openCompose(page, panel.url);
      const row = page.locator(`tr[data-stack="${project}"]`);
      await row.locator(".cp-state", { hasText: "3/3 running" }).waitFor({ timeout: 15_000 });
      await row.locator("button", { hasText: "Open" }).click();
      await page.waitForFunction(
        (expected) =>
          (document.querySelector("#cp-yaml") as HTMLTextAreaElement).value === expected,
        yaml,
      );
      assert.equal(await page.locator("#cp-project").inputValue(), project);
      assert.equal(await page.locator("#cp-env").inputValue(), "GREETING=one\n");
      // Against what runs: nothing to do.
      const card = (service: string) => page.locator(`.cp-card[data-service="${service}"]`);
      await card("web").locator('.cp-action[data-action="unchanged"]').waitFor({
        timeout: 15_000,
      });
      assert.equal(await card("web").locator(".cp-reason").innerText(), "unchanged and running");

      // Edit the .env: web's configuration changes, worker restarts with it, idle stays.
      await page.fill("#cp-env", "GREETING=two\n");
      await card("web").locator('.cp-action[data-action="recreate"]').waitFor({
        timeout: 15_000,
      });
      assert.equal(
        await card("web").locator(".cp-reason").innerText(),
        "its configuration changed",
      );
      assert.equal(
        await card("worker").locator(".cp-action").getAttribute("data-action"),
        "restart",
      );
      assert.match(
        await card("worker").locator(".cp-reason").innerText(),
        /depends on web with restart: true/,
      );
      assert.equal(
        await card("idle").locator(".cp-action").getAttribute("data-action"),
        "unchanged",
      );
      assert.match(await page.locator(".cp-summary").innerText(), /1 recreate[\s\S]*1 restart/);
      await page.screenshot({ path: await screenshotPath("compose-edit-plan"), fullPage: true });

      const before = await listContainers(docker, {
        all: true,
        filters: { label: [`${PROJECT_LABEL}=${project}`] },
      });
      await page.locator("button.cp-deploy-btn").click();
      const progress = page.locator(".cp-progress");
      await page.locator('.cp-progress[data-outcome="done"]').waitFor({ timeout: 60_000 });
      assert.match(
        await progress.locator('.cp-row[data-service="web"]').innerText(),
        /Recreated and started/,
      );
      assert.match(
        await progress.locator('.cp-row[data-service="worker"]').innerText(),
        /Restarted/,
      );
      await page.locator(".cp-deploy").scrollIntoViewIfNeeded();
      await page.screenshot({ path: await screenshotPath("compose-edit-redeployed") });
      const after = await listContainers(docker, {
        all: true,
        filters: { label: [`${PROJECT_LABEL}=${project}`] },
      });
      const idOf = (list: typeof after, service: string) =>
        list.find((c) => c.Labels?.["com.docker.compose.service"] === service)?.Id;
      assert.notEqual(idOf(after, "web"), idOf(before, "web"), "web was replaced");
      assert.equal(idOf(after, "worker"), idOf(before, "worker"), "worker was restarted only");
      assert.equal(idOf(after, "idle"), idOf(before, "idle"));
      const web = await docker.json<{ Name: string; Config: { Env: string[] } }>(
        "GET",
        `/containers/${idOf(after, "web")}/json`,
      );
      assert.equal(web.Name, `/${project}-web-1`);
      assert.ok(web.Config.Env.includes("GREETING=two"));
      // The preview catches up with what runs now.
      await card("web").locator('.cp-action[data-action="unchanged"]').waitFor({
        timeout: 15_000,
      });
      assert.deepEqual(errors, [], "no errors in the browser console (CSP included)");
    } finally {
      await cleanupProject(docker, project);
      docker.close();
    }
  },
});
