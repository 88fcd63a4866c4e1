/**
 * The Volumes and Networks tabs in headless Chromium against the real Engine: create,
 * inspect, browse, remove and refusals as an admin; no control that changes anything for a
 * viewer; and the empty states (through a panel whose Engine answers with no volumes and
 * only the built-in networks, a state the shared Engine cannot be put in). Screenshots go
 * to tests/.artifacts/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import {
  dockerHost,
  engineClient,
  ensureTestImage,
  makeTestContainer,
  removeTestContainers,
  removeVolumesNamed,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../fixtures/engine.ts";
import { startFakeEngine, withVersion } from "../fixtures/fake_engine.ts";
import { listNetworks } from "../../lib/docker/networks.ts";
import type { DockerClient } from "../../lib/docker/client.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

async function hydrated(page: Page, island: string) {
  await page.locator(`[data-island="${island}"][data-hydrated="true"]`).waitFor({
    timeout: 15_000,
  });
}

async function addViewer(panel: { url: string; login(): Promise<string> }, username: string) {
  const cookie = await panel.login();
  const created = await fetch(`${panel.url}/api/users`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie },
    body: JSON.stringify({ username, password: "viewer password 123", role: "viewer" }),
  });
  assert.ok(created.status < 300, await created.text());
}

async function removeNetworksNamed(docker: DockerClient, prefix: string) {
  for (const network of await listNetworks(docker)) {
    if (network.Name.startsWith(prefix)) {
      await docker.json("DELETE", `/networks/${network.Id}`).catch(() => {});
    }
  }
}

/** The text of the focused element (a dialog's default button). */
const focusedText = (page: Page) =>
  page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText.trim() ?? "");

Deno.test({
  ...e2e,
  name: "e2e: volumes tab — create, refusals, details, sizes, browse, remove, viewer",
  async fn() {
    const docker = await engineClient();
    const prefix = uniquePrefix("cmvole2e");
    try {
      await ensureTestImage(docker);
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await page.goto(`${panel.url}/volumes`);
      await hydrated(page, "VolumesPanel");
      assert.equal(await page.locator("h1").innerText(), "Volumes");
      assert.equal(await page.locator('a.tab[aria-current="page"]').innerText(), "Volumes");

      // Create through the dialog, with a long name and labels.
      const name = `${prefix}a-rather-long-volume-name-for-checking-how-the-table-truncates-it`;
      await page.getByRole("button", { name: "Create volume" }).click();
      const dialog = page.locator("dialog#vn-volume-create");
      await dialog.locator('input[name="name"]').fill(name);
      await dialog.locator('textarea[name="labels"]').fill(
        `${TEST_LABEL}=${prefix}\ncom.docker.compose.project=shop`,
      );
      await page.screenshot({ path: await screenshotPath("volumes-create") });
      await dialog.getByRole("button", { name: "Create" }).click();
      await dialog.waitFor({ state: "detached" });
      const row = page.locator(`tr[data-volume="${name}"]`);
      await row.waitFor();
      assert.match(await row.innerText(), /shop/);
      assert.match(await row.innerText(), /unused/);

      // The same name again: refused in the dialog, naming the problem.
      await page.getByRole("button", { name: "Create volume" }).click();
      await dialog.locator('input[name="name"]').fill(name);
      await dialog.getByRole("button", { name: "Create" }).click();
      await dialog.locator('[role="alert"]').waitFor();
      assert.match(await dialog.locator('[role="alert"]').innerText(), /already exists/);
      assert.equal(await dialog.locator('input[name="name"]').getAttribute("aria-invalid"), "true");
      await page.screenshot({ path: await screenshotPath("volumes-create-refused") });
      await dialog.getByRole("button", { name: "Cancel" }).click();

      // A container uses it: the row links to it and Remove is disabled.
      await docker.json("POST", "/containers/create", {
        query: { name: `${prefix}writer` },
        json: {
          Image: TEST_IMAGE,
          Cmd: [
            "sh",
            "-c",
            "mkdir -p /data/conf && echo hello > /data/conf/app.ini && echo hi > /data/readme.txt && sleep 600",
          ],
          Labels: { [TEST_LABEL]: prefix },
          HostConfig: { Binds: [`${name}:/data`] },
        },
      }).then((c) => docker.json("POST", `/containers/${(c as { Id: string }).Id}/start`));
      await page.getByRole("button", { name: "Refresh" }).click();
      await row.locator(`a.vn-user`, { hasText: `${prefix}writer` }).waitFor();
      assert.equal(
        await row.locator(`a.vn-user`).getAttribute("href"),
        `/containers?q=${encodeURIComponent(`${prefix}writer`)}`,
      );
      assert.equal(await row.getByRole("button", { name: `Remove ${name}` }).isDisabled(), true);

      // Sizes only when asked, with when they were measured.
      assert.equal((await row.locator(".vn-col-size").innerText()).trim(), "–");
      await page.getByRole("button", { name: "Measure sizes" }).click();
      await page.locator(".vn-measured").waitFor({ timeout: 60_000 });
      await row.locator(".vn-col-size", { hasText: /B$/ }).waitFor();

      // Details.
      await row.locator("button.vn-name").click();
      const details = page.locator("tr.vn-details");
      await details.waitFor();
      assert.match(await details.innerText(), new RegExp(`${TEST_LABEL}=${prefix}`));
      assert.match(await details.innerText(), /\/var\/lib\/docker\/volumes\/.*\/_data/);
      await page.screenshot({ path: await screenshotPath("volumes-list") });

      // Browse through the container that mounts it; open a folder.
      await row.getByRole("button", { name: "Browse" }).click();
      const browse = page.locator("dialog#vn-browse");
      await browse.locator('tr[data-entry="conf"]').waitFor();
      assert.match(await browse.locator(".vn-via").innerText(), new RegExp(`${prefix}writer`));
      await browse.locator('tr[data-entry="conf"] button.vn-dir').click();
      await browse.locator('tr[data-entry="app.ini"]').waitFor();
      assert.equal(
        await browse.locator('tr[data-entry="app.ini"] a').getAttribute("href"),
        `/api/containers/volumes/${name}/download?path=%2Fconf%2Fapp.ini`,
      );
      const fileDownload = await page.request.get(
        `${panel.url}${await browse.locator('tr[data-entry="app.ini"] a').getAttribute("href")}`,
      );
      assert.equal(await fileDownload.text(), "hello\n");
      await page.screenshot({ path: await screenshotPath("volumes-browse") });
      await browse.getByRole("button", { name: "Close" }).first().click();

      // An unused volume: browse needs a helper image; then remove it through the dialog.
      const spare = `${prefix}spare`;
      await docker.json("POST", "/volumes/create", {
        json: { Name: spare, Labels: { [TEST_LABEL]: prefix } },
      });
      await page.getByRole("button", { name: "Refresh" }).click();
      const spareRow = page.locator(`tr[data-volume="${spare}"]`);
      await spareRow.waitFor();
      await spareRow.getByRole("button", { name: "Browse" }).click();
      await browse.locator("form.vn-helper select").waitFor();
      await browse.locator("form.vn-helper select").selectOption(TEST_IMAGE);
      await page.screenshot({ path: await screenshotPath("volumes-browse-helper") });
      await browse.getByRole("button", { name: "Browse with this image" }).click();
      await browse.locator(".vn-empty-dir").waitFor();
      await page.screenshot({ path: await screenshotPath("volumes-browse-empty") });
      await browse.getByRole("button", { name: "Close" }).first().click();
      await spareRow.getByRole("button", { name: `Remove ${spare}` }).click();
      await page.locator("dialog#vn-volume-remove").waitFor();
      // The destructive button is never the default: Enter cancels.
      assert.equal(await focusedText(page), "Cancel");
      await page.locator("dialog#vn-volume-remove").getByRole("button", { name: "Remove volume" })
        .click();
      await spareRow.waitFor({ state: "detached" });
      await page.locator(".notice.ok", { hasText: `Removed volume ${spare}` }).waitFor();

      // Filter with no match.
      await page.fill('input[aria-label="Filter volumes"]', `${prefix}nothing-matches`);
      await page.locator(".empty", { hasText: "No volume matches" }).waitFor();
      await page.screenshot({ path: await screenshotPath("volumes-no-match") });
      assert.deepEqual(errors, [], "no errors in the browser console (CSP included)");

      // A viewer sees everything, changes nothing.
      await addViewer(panel, "vol-viewer");
      const viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await signIn(viewer, panel.url, "vol-viewer", "viewer password 123");
      await viewer.goto(`${panel.url}/volumes`);
      await hydrated(viewer, "VolumesPanel");
      await viewer.locator(`tr[data-volume="${name}"]`).waitFor();
      for (const label of ["Create volume", "Prune unused", "Browse", "Remove"]) {
        assert.equal(await viewer.getByRole("button", { name: label }).count(), 0, label);
      }
      await viewer.screenshot({ path: await screenshotPath("volumes-viewer") });
    } finally {
      await removeTestContainers(docker, prefix);
      await removeVolumesNamed(docker, prefix);
      docker.close();
    }
  },
});

Deno.test({
  ...e2e,
  name:
    "e2e: networks tab — bad subnet on the field, create, connect with a fixed address, disconnect, remove, viewer",
  async fn() {
    const docker = await engineClient();
    const prefix = uniquePrefix("cmnete2e");
    try {
      await ensureTestImage(docker);
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await page.goto(`${panel.url}/networks`);
      await hydrated(page, "NetworksPanel");
      assert.equal(await page.locator("h1").innerText(), "Networks");
      for (const builtIn of ["bridge", "host", "none"]) {
        const row = page.locator(`tr[data-network="${builtIn}"]`);
        assert.match(await row.innerText(), /built-in/);
        assert.equal(await row.getByRole("button", { name: /^Remove/ }).count(), 0);
      }

      const name = `${prefix}backend-with-a-long-name-for-the-table`;
      await page.getByRole("button", { name: "Create network" }).click();
      const dialog = page.locator("dialog#vn-network-create");
      await dialog.locator('input[name="name"]').fill(name);
      await dialog.locator('input[name="subnet"]').fill("10.231.246.0");
      await dialog.locator('input[name="attachable"]').check();
      await dialog.locator('textarea[name="labels"]').fill(`${TEST_LABEL}=${prefix}`);
      await dialog.getByRole("button", { name: "Create" }).click();
      await dialog.locator(".im-field-error").waitFor();
      assert.match(await dialog.locator(".im-field-error").innerText(), /CIDR/);
      assert.equal(
        await dialog.locator('input[name="subnet"]').getAttribute("aria-invalid"),
        "true",
      );
      await page.screenshot({ path: await screenshotPath("networks-create-bad-subnet") });
      await dialog.locator('input[name="subnet"]').fill("10.231.246.0/24");
      await dialog.locator('input[name="gateway"]').fill("10.231.246.1");
      await dialog.getByRole("button", { name: "Create" }).click();
      await dialog.waitFor({ state: "detached" });
      const row = page.locator(`tr[data-network="${name}"]`);
      await row.waitFor();
      assert.match(await row.innerText(), /10\.231\.246\.0\/24 via 10\.231\.246\.1/);
      assert.match(await row.innerText(), /attachable/);

      // Connect a container with an alias and a fixed address.
      await makeTestContainer(docker, prefix, "api", { Cmd: ["sleep", "600"] });
      await row.getByRole("button", { name: "Connect" }).click();
      const connect = page.locator("dialog#vn-connect");
      await connect.locator(`select[name="container"] option[value="${prefix}api"]`).waitFor({
        state: "attached",
      });
      await connect.locator('select[name="container"]').selectOption(`${prefix}api`);
      await connect.locator('input[name="aliases"]').fill("api api.internal");
      await connect.locator('input[name="ipv4"]').fill("10.231.246.30");
      await page.screenshot({ path: await screenshotPath("networks-connect") });
      await connect.getByRole("button", { name: "Connect" }).click();
      await connect.waitFor({ state: "detached" });
      await row.locator("a.vn-user", { hasText: "10.231.246.30" }).waitFor();
      assert.equal(await row.getByRole("button", { name: `Remove ${name}` }).isDisabled(), true);

      await row.locator("button.vn-name").click();
      const attached = page.locator(`tr.vn-details tr[data-attached="${prefix}api"]`);
      await attached.waitFor();
      await attached.locator("td", { hasText: "api, api.internal" }).waitFor();
      await page.screenshot({ path: await screenshotPath("networks-list") });

      await attached.getByRole("button", { name: "Disconnect" }).click();
      await page.locator(".notice.ok", { hasText: "Disconnected" }).waitFor();
      await row.locator(".vn-col-used", { hasText: "none" }).waitFor();
      await row.getByRole("button", { name: `Remove ${name}` }).click();
      await page.locator("dialog#vn-network-remove").waitFor();
      assert.equal(await focusedText(page), "Cancel");
      await page.locator("dialog#vn-network-remove").getByRole("button", { name: "Remove network" })
        .click();
      await row.waitFor({ state: "detached" });
      assert.deepEqual(errors, [], "no errors in the browser console (CSP included)");

      await addViewer(panel, "net-viewer");
      const viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await signIn(viewer, panel.url, "net-viewer", "viewer password 123");
      await viewer.goto(`${panel.url}/networks`);
      await hydrated(viewer, "NetworksPanel");
      await viewer.locator('tr[data-network="bridge"]').waitFor();
      for (const label of ["Create network", "Prune unused", "Connect", "Remove"]) {
        assert.equal(await viewer.getByRole("button", { name: label }).count(), 0, label);
      }
      await viewer.screenshot({ path: await screenshotPath("networks-viewer") });
    } finally {
      await removeTestContainers(docker, prefix);
      await removeNetworksNamed(docker, prefix);
      docker.close();
    }
  },
});

Deno.test({
  ...e2e,
  name: "e2e: volumes and networks empty states",
  async fn() {
    // An Engine with no volumes and only the built-in networks: the real one answers
    // everything else (version, pings, containers), the lists are emptied here.
    const real = Deno.createHttpClient({
      proxy: { transport: "unix", path: dockerHost.kind === "unix" ? dockerHost.path : "" },
    });
    // Streams (the panel's /events subscription) are passed through as streams and cut when
    // the test ends, or the fake Engine's shutdown would wait for them forever.
    const proxied = new AbortController();
    const engine = await startFakeEngine(withVersion(async (request) => {
      const url = new URL(request.url);
      if (/^\/v[\d.]+\/volumes$/.test(url.pathname)) {
        return Response.json({ Volumes: [], Warnings: null });
      }
      if (/^\/v[\d.]+\/containers\/json$/.test(url.pathname)) return Response.json([]);
      const answer = await fetch(`http://127.0.0.1${url.pathname}${url.search}`, {
        method: request.method,
        client: real,
        signal: proxied.signal,
      } as RequestInit);
      if (/^\/v[\d.]+\/networks$/.test(url.pathname)) {
        const all = await answer.json() as { Name: string }[];
        return Response.json(all.filter((n) => ["bridge", "host", "none"].includes(n.Name)));
      }
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    }));
    try {
      await using panel = await startPanel({ args: ["--docker-host", `unix://${engine.path}`] });
      await using browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await page.goto(`${panel.url}/volumes`);
      await hydrated(page, "VolumesPanel");
      await page.locator(".empty", { hasText: "No volumes on this host." }).waitFor();
      await page.screenshot({ path: await screenshotPath("volumes-empty") });
      await page.getByRole("button", { name: "Prune unused" }).click();
      await page.locator("dialog#vn-volume-prune", { hasText: "No unused volumes" }).waitFor();
      await page.locator("dialog#vn-volume-prune button.btn", { hasText: "Close" }).click();
      await page.goto(`${panel.url}/networks`);
      await hydrated(page, "NetworksPanel");
      await page.locator(".empty", { hasText: "No networks of your own yet." }).waitFor();
      assert.equal(await page.locator("tr.vn-row").count(), 3);
      await page.screenshot({ path: await screenshotPath("networks-empty") });
      assert.deepEqual(errors, []);
    } finally {
      proxied.abort();
      await engine.close();
      real.close();
    }
  },
});
