/**
 * "Exec shell" in headless Chromium against the real Engine: the terminal opens from a
 * running container's action menu (xterm.js loaded only then), runs commands, copies and
 * pastes, follows the window's size, falls back from a missing bash, reports an exit
 * code, reconnects, and ends the shell when it closes. Screenshots land in
 * tests/.artifacts/exec-*.png.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { delay, startPanel } from "../fixtures/server.ts";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";
import type { DockerClient } from "../../lib/docker/client.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };
const SHELL_BOX = { Cmd: ["sleep", "3600"] };

function row(page: Page, name: string) {
  return page.locator(`tr.ct-row[data-name="${name}"]`);
}

async function menuItems(page: Page, name: string) {
  await row(page, name).locator(".ct-menu-btn").click();
  const items = await page.locator(".ct-menu [role=menuitem]").allInnerTexts();
  await page.keyboard.press("Escape");
  await page.locator(".ct-menu").waitFor({ state: "detached" });
  return items;
}

/** The terminal's rows as xterm.js rendered them, trailing blanks removed. */
function lines(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll(".ct-term .xterm-rows > div")].map((el) =>
      (el.textContent ?? "").replace(/\u00a0/g, " ").trimEnd()
    )
  );
}

/** Waits until a rendered row equals `text` exactly, `count` times (default once). */
async function waitForLine(page: Page, text: string, count = 1, timeout = 10_000) {
  try {
    await page.waitForFunction(
      ([want, times]) =>
        [...document.querySelectorAll(".ct-term .xterm-rows > div")].filter((el) =>
          (el.textContent ?? "").replace(/\u00a0/g, " ").trimEnd() === want
        ).length >= (times as number),
      [text, count] as const,
      { timeout },
    );
  } catch (error) {
    throw new Error(`No line "${text}" (×${count}) in:\n${(await lines(page)).join("\n")}`, {
      cause: error,
    });
  }
}

/** Waits for `count` shell prompts ("/ # " as root in /). */
function waitForPrompts(page: Page, count: number) {
  return page.waitForFunction(
    (n) =>
      [...document.querySelectorAll(".ct-term .xterm-rows > div")].filter((el) =>
        /^\/ #/.test((el.textContent ?? "").replace(/\u00a0/g, " "))
      ).length >= n,
    count,
    { timeout: 10_000 },
  );
}

async function run(page: Page, command: string) {
  await page.keyboard.type(command);
  await page.keyboard.press("Enter");
}

/** The loaded static/build chunks whose text contains xterm.js's own class name. */
async function xtermChunks(page: Page, urls: string[]) {
  const found: string[] = [];
  for (const url of new Set(urls)) {
    const text = await page.evaluate((u) => fetch(u).then((r) => r.text()), url);
    if (text.includes("xterm-helper-textarea")) found.push(url);
  }
  return found;
}

/** The processes in the container, as `docker top` lists them. */
async function processes(docker: DockerClient, id: string): Promise<string[]> {
  const top = await docker.json<{ Processes: string[][]; Titles: string[] }>(
    "GET",
    `/containers/${id}/top`,
  );
  const cmd = top.Titles.indexOf("CMD");
  return top.Processes.map((p) => p[cmd]);
}

Deno.test({
  ...e2e,
  name: "e2e: Exec shell opens a terminal into a running container",
  async fn() {
    await using engine = await testEngine("cmexec");
    const { docker, prefix } = engine;
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const id = await makeTestContainer(docker, prefix, "shell", SHELL_BOX);
    await makeTestContainer(docker, prefix, "stopped", SHELL_BOX, false);
    const name = `${prefix}shell`;

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: panel.url,
    });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const chunks: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/static/build/")) {
        chunks.push(request.url());
      }
    });
    await signIn(page, panel.url);
    await page.goto(`${panel.url}/containers`);
    await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor();
    await page.getByPlaceholder("Filter by name, image or stack").fill(prefix);

    // Only running containers have the item.
    assert.ok((await menuItems(page, name)).includes("Exec shell"));
    assert.ok(!(await menuItems(page, `${prefix}stopped`)).includes("Exec shell"));

    // xterm.js is not loaded until the terminal opens.
    const before = chunks.length;
    assert.ok(before > 0, "the page loaded its island chunks");
    assert.deepEqual(await xtermChunks(page, chunks), [], "no xterm chunk before opening");

    await row(page, name).locator(".ct-menu-btn").click();
    await page.locator(".ct-menu").getByRole("menuitem", { name: "Exec shell" }).click();
    const dialog = page.locator("dialog.ct-term");
    await dialog.waitFor();
    const status = dialog.locator(".ct-term-state");
    await status.filter({ hasText: /^Connected · \/bin\/sh · \d+×\d+$/ }).waitFor({
      timeout: 15_000,
    });
    assert.equal((await xtermChunks(page, chunks.slice(before))).length, 1);
    await waitForPrompts(page, 1);

    // The terminal has the focus: typing runs a command.
    await run(page, "echo hello");
    await waitForLine(page, "hello");
    await waitForPrompts(page, 2);

    // xterm's generated styles apply (constructed sheets), its helper textarea is hidden.
    const look = await page.evaluate(() => {
      const rows = document.querySelector(".ct-term .xterm-rows")!;
      const textarea = document.querySelector(".ct-term .xterm-helper-textarea")!;
      return {
        color: getComputedStyle(rows).color,
        font: getComputedStyle(rows).fontFamily,
        textareaOpacity: getComputedStyle(textarea).opacity,
        textareaZ: getComputedStyle(textarea).zIndex,
        styleElements: document.querySelectorAll(".ct-term style").length,
        cursors: document.querySelectorAll(".ct-term .xterm-cursor").length,
        viewportOverflow: getComputedStyle(document.querySelector(".ct-term .xterm-viewport")!)
          .overflowY,
      };
    });
    assert.equal(look.color, "rgb(213, 221, 232)");
    assert.match(look.font, /monospace/);
    // (xterm keeps it at the cursor for IMEs: invisible, under the rows.)
    assert.equal(look.textareaOpacity, "0");
    assert.equal(look.textareaZ, "-5");
    assert.equal(look.styleElements, 0, "no <style> element (the CSP would block it)");
    assert.equal(look.cursors, 1);
    assert.equal(look.viewportOverflow, "scroll");
    await page.screenshot({ path: await screenshotPath("exec-terminal") });

    // Copy: a double-click selects the word; Ctrl+Shift+C and the Copy button copy it.
    const helloRow = await page.evaluateHandle(() =>
      [...document.querySelectorAll(".ct-term .xterm-rows > div")].find((el) =>
        (el.textContent ?? "").trimEnd() === "hello"
      )!
    );
    const box = (await helloRow.asElement()!.boundingBox())!;
    await page.mouse.dblclick(box.x + 12, box.y + box.height / 2);
    const copyButton = dialog.getByRole("button", { name: "Copy", exact: true });
    await page.waitForFunction(() =>
      !(document.querySelector(".ct-term-tools button") as HTMLButtonElement).disabled
    );
    await page.evaluate(() => navigator.clipboard.writeText(""));
    await page.keyboard.press("Control+Shift+C");
    await dialog.locator(".ct-term-note", { hasText: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "hello");
    await page.evaluate(() => navigator.clipboard.writeText(""));
    await copyButton.click();
    await page.waitForFunction(async () => (await navigator.clipboard.readText()) === "hello");

    // Paste: Ctrl+Shift+V is the browser's paste, which xterm sends as input.
    await page.evaluate(() => navigator.clipboard.writeText("echo pasted-$((6*7))"));
    await page.keyboard.press("Control+Shift+V");
    await page.keyboard.press("Enter");
    await waitForLine(page, "pasted-42");

    // 24-bit colours render (through CSSOM: the CSP blocks style attributes).
    await run(page, "printf '\\033[38;2;255;100;0m%s\\033[0m\\n' ORANGE");
    await waitForLine(page, "ORANGE");
    assert.ok(
      await page.evaluate(() =>
        [...document.querySelectorAll(".ct-term .xterm-rows span")].some((el) =>
          el.textContent === "ORANGE" && getComputedStyle(el).color === "rgb(255, 100, 0)"
        )
      ),
      "ORANGE is orange",
    );

    // The PTY follows the window: a smaller window, a smaller terminal, and stty agrees.
    const sizeOf = async () => {
      const [, cols, rows] = /(\d+)×(\d+)$/.exec(await status.innerText())!;
      return { cols: Number(cols), rows: Number(rows) };
    };
    const large = await sizeOf();
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.waitForFunction(
      (cols) => !document.querySelector(".ct-term-state")?.textContent?.includes(`${cols}×`),
      large.cols,
    );
    const small = await sizeOf();
    assert.ok(small.cols < large.cols && small.rows < large.rows, JSON.stringify(small));
    // The resize message reaches the Engine on its own time: ask again until it has.
    for (let attempt = 1;; attempt++) {
      await run(page, "stty size");
      try {
        await waitForLine(page, `${small.rows} ${small.cols}`, 1, 2_000);
        break;
      } catch (error) {
        if (attempt === 5) throw error;
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // Esc belongs to the shell while the terminal has the focus.
    await page.keyboard.press("Escape");
    await delay(300);
    assert.ok(await dialog.isVisible(), "Esc in the terminal does not close the modal");
    await page.keyboard.press("Control+C");

    // bash is not in busybox: the server falls back to sh and says so, in yellow.
    await dialog.getByLabel("Shell", { exact: true }).selectOption("bash");
    const notice = "/bin/bash is not in this container; using /bin/sh instead.";
    await waitForLine(page, notice);
    assert.ok(
      await page.evaluate(
        (text) =>
          [...document.querySelectorAll(".ct-term .xterm-rows span")].some((el) =>
            el.textContent?.includes(text.slice(0, 20)) &&
            getComputedStyle(el).color === "rgb(229, 183, 68)"
          ),
        notice,
      ),
      "the fallback line is yellow",
    );
    await status.filter({ hasText: "Connected · /bin/sh (no /bin/bash in this container)" })
      .waitFor();
    await page.screenshot({ path: await screenshotPath("exec-fallback") });

    // The exit code, then Reconnect.
    const prompts = (await lines(page)).filter((line) => line.startsWith("/ #")).length;
    await run(page, "exit 3");
    await status.filter({ hasText: /^Exited with code 3$/ }).waitFor({ timeout: 10_000 });
    await waitForLine(page, "[Exited with code 3. Press Enter to start a new session.]");
    await page.screenshot({ path: await screenshotPath("exec-exited") });
    await dialog.getByRole("button", { name: "Reconnect" }).click();
    await status.filter({ hasText: /^Connected/ }).waitFor({ timeout: 10_000 });
    await waitForPrompts(page, prompts + 1);
    assert.equal(await dialog.getByRole("button", { name: "Reconnect" }).count(), 0);

    // A custom shell: checked as typed, then used.
    await dialog.getByLabel("Shell", { exact: true }).selectOption("custom");
    const path = dialog.getByLabel("Shell path");
    await page.waitForFunction(() => document.activeElement?.ariaLabel === "Shell path");
    for (const bad of ["bin/sh", "/bin/../sh", "/bin/sh -l", "/bin//sh"]) {
      await path.fill(bad);
      await dialog.getByRole("button", { name: "Open" }).click();
      await dialog.locator(".ct-term-path-error").waitFor();
      assert.equal(await path.getAttribute("aria-invalid"), "true");
    }
    await path.fill("/bin/ash");
    await dialog.getByRole("button", { name: "Open" }).click();
    assert.equal(await dialog.locator(".ct-term-path-error").count(), 0);
    await status.filter({ hasText: /^Connected · \/bin\/ash/ }).waitFor({ timeout: 10_000 });
    await run(page, "echo $0");
    await waitForLine(page, "/bin/ash");

    // Closing the modal ends the shell in the container.
    assert.ok((await processes(docker, id)).some((cmd) => cmd.includes("ash")));
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });
    const deadline = Date.now() + 10_000;
    let left = await processes(docker, id);
    while (left.length > 1 && Date.now() < deadline) {
      await delay(200);
      left = await processes(docker, id);
    }
    assert.deepEqual(left, ["sleep 3600"]);
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  ...e2e,
  name: "e2e: Exec shell says why when the container stops",
  async fn() {
    await using engine = await testEngine("cmexec");
    const { docker, prefix } = engine;
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const id = await makeTestContainer(docker, prefix, "shell", SHELL_BOX);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = watchErrors(page);
    await signIn(page, panel.url);
    await page.goto(`${panel.url}/containers`);
    await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor();
    await row(page, `${prefix}shell`).locator(".ct-menu-btn").click();
    await page.locator(".ct-menu").getByRole("menuitem", { name: "Exec shell" }).click();
    const dialog = page.locator("dialog.ct-term");
    const status = dialog.locator(".ct-term-state");
    await status.filter({ hasText: /^Connected/ }).waitFor({ timeout: 15_000 });
    await waitForPrompts(page, 1);

    // The container stops under the shell: the session ends, the pill says so.
    await docker.request("POST", `/containers/${id}/kill`).then((r) => r.body?.cancel());
    await status.filter({ hasText: /^(Exited with code \d+|Disconnected: .+)$/ }).waitFor({
      timeout: 15_000,
    });
    await dialog.locator(".ct-term-title .pill.state-exited").waitFor({ timeout: 15_000 });

    // Reconnecting to a stopped container: the server's reason, not a silent failure.
    await dialog.getByRole("button", { name: "Reconnect" }).click();
    await status.filter({ hasText: /^Disconnected: Container .+ is not running$/ }).waitFor({
      timeout: 10_000,
    });
    await page.screenshot({ path: await screenshotPath("exec-not-running") });
    // And the menu no longer offers a shell for it.
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });
    await row(page, `${prefix}shell`).locator(".ct-menu-btn").click();
    const items = await page.locator(".ct-menu [role=menuitem]").allInnerTexts();
    assert.ok(!items.includes("Exec shell"), items.join(", "));
    assert.deepEqual(errors, []);
  },
});
