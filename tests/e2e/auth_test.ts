import assert from "node:assert/strict";
import { launchBrowser, screenshotPath, signIn } from "../fixtures/browser.ts";
import { PANEL_ADMIN_PASSWORD, startPanel } from "../fixtures/server.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  ...e2e,
  name: "e2e: sign in, see the containers page, sign out, land on the login page",
  async fn() {
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${panel.url}/containers`);
    assert.match(
      page.url(),
      /\/login\?next=%2Fcontainers$/,
      "an anonymous visit is sent to the login page",
    );
    await page.locator('[data-island="LoginForm"][data-hydrated="true"]').waitFor();

    await page.fill('input[name="username"]', "admin");
    await page.fill('input[name="password"]', "wrong password");
    await page.click('button[type="submit"]');
    await page.locator(".form-error").waitFor();
    assert.equal(await page.locator(".form-error").innerText(), "Invalid username or password");
    await page.screenshot({ path: await screenshotPath("auth-login-error") });

    await signIn(page, panel.url);
    assert.equal(await page.locator("h1").innerText(), "Containers");
    assert.match(await page.locator(".user-menu").innerText(), /admin/);

    await page.locator('[data-island="UserMenu"][data-hydrated="true"]').waitFor();
    await page.click(".user-menu button");
    await page.waitForURL(`${panel.url}/login`);
    await page.goto(`${panel.url}/containers`);
    assert.match(page.url(), /\/login/, "the old session no longer opens pages");
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  ...e2e,
  name: "e2e: the setup page creates the first admin with the token from the log",
  async fn() {
    await using panel = await startPanel({ env: { CM_ADMIN_PASSWORD: "" } });
    await using browser = await launchBrowser();
    const token = panel.output().match(/setup token: ([0-9a-f]{48})/)![1];
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${panel.url}/containers`);
    await page.waitForURL(/\/setup$/);
    await page.locator('[data-island="SetupForm"][data-hydrated="true"]').waitFor();
    await page.screenshot({ path: await screenshotPath("auth-setup") });
    await page.fill('input[name="token"]', token);
    await page.fill('input[name="username"]', "owner");
    await page.fill('input[name="password"]', "a long enough password");
    await page.fill('input[name="confirm"]', "a long enough password");
    await page.click('button[type="submit"]');
    await page.waitForURL(`${panel.url}/containers`);
    assert.match(await page.locator(".user-menu").innerText(), /owner/);
  },
});

Deno.test({
  ...e2e,
  name: "e2e: the audit tab lists, filters and exports; the users page manages accounts",
  async fn() {
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page, panel.url);

    await page.goto(`${panel.url}/users`);
    await page.locator('[data-island="UsersPanel"][data-hydrated="true"]').waitFor();
    const addForm = page.locator("form", { hasText: "Add a user" });
    await addForm.locator("input").nth(0).fill("a-viewer-with-a-rather-long-name-for-layout");
    await addForm.locator('input[type="password"]').fill("viewer password 123");
    await addForm.locator("button").click();
    await page.locator(".notice.ok").waitFor();
    assert.match(
      await page.locator("table").innerText(),
      /a-viewer-with-a-rather-long-name-for-layout/,
    );
    await page.screenshot({ path: await screenshotPath("auth-users"), fullPage: true });

    await page.goto(`${panel.url}/audit`);
    await page.locator('[data-island="AuditLog"][data-hydrated="true"]').waitFor();
    const rows = page.locator("table.audit tbody tr");
    assert.ok(await rows.count() >= 2);
    assert.match(await page.locator("table.audit").innerText(), /user\.create/);
    await page.locator("table.audit tbody tr").first().click();
    await page.locator("tr.details").waitFor();
    assert.doesNotMatch(await page.locator("tr.details").innerText(), /viewer password 123/);
    await page.screenshot({ path: await screenshotPath("audit-page"), fullPage: true });

    await page.selectOption('select:near(:text("Action"))', "auth.login");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("table.audit tbody tr:not(.details) td:nth-child(4)")]
        .every((td) => td.textContent === "auth.login")
    );
    const download = page.waitForEvent("download");
    await page.click("text=Export CSV");
    const csv = await Deno.readTextFile(await (await download).path());
    assert.match(csv.split("\r\n")[0], /^seq,ts,actor,client_ip,action/);
    assert.ok(
      csv.split("\r\n").slice(1).filter(Boolean).every((line) => line.includes(",auth.login,")),
    );
  },
});

Deno.test({
  ...e2e,
  name: "e2e: the audit time filter means the browser's own time zone, and To covers its minute",
  async fn() {
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    // UTC+05:30 all year: a filter read in the server's zone (UTC) would be 5½ hours off.
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 },
      timezoneId: "Asia/Kolkata",
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await signIn(page, panel.url);
    await page.goto(`${panel.url}/audit`);
    await page.locator('[data-island="AuditLog"][data-hydrated="true"]').waitFor();

    // The newest row (this sign-in).
    const newest = page.locator("table.audit tbody tr:not(.details)").first();
    const seq = await newest.locator("td").nth(0).innerText();
    // The cell shows the browser's local time; its title is the row's UTC instant.
    const written = Date.parse((await newest.locator("td").nth(1).getAttribute("title"))!);
    assert.ok(!Number.isNaN(written));
    /** What a clock in Kolkata showed at `ms`, as a datetime-local input holds it. */
    const kolkata = (ms: number) => new Date(ms + 330 * 60_000).toISOString().slice(0, 16);

    // From ten minutes before to the minute it was written, in the browser's own time: the
    // row is in, though it was written some seconds into that minute.
    const filtered = (needle: string) =>
      page.waitForResponse((response) =>
        response.url().includes("/api/audit?") && response.url().includes(needle)
      );
    const to = `${new Date(written).toISOString().slice(0, 16)}Z`;
    let answer = filtered("from=");
    await page.fill('input[type="datetime-local"] >> nth=0', kolkata(written - 10 * 60_000));
    assert.equal((await (await answer).json()).rows[0]?.seq, Number(seq));
    answer = filtered(`to=${encodeURIComponent(to)}`);
    await page.fill('input[type="datetime-local"] >> nth=1', kolkata(written));
    const response = await answer;
    assert.equal(response.status(), 200);
    assert.equal((await response.json()).rows[0]?.seq, Number(seq));
    assert.equal(await newest.locator("td").nth(0).innerText(), seq);
    assert.match(
      (await page.locator("a.btn", { hasText: "Export CSV" }).getAttribute("href"))!,
      new RegExp(`to=${encodeURIComponent(to)}`),
    );
    assert.deepEqual(errors, []);

    // From the next minute on there is nothing yet.
    await page.fill('input[type="datetime-local"] >> nth=0', kolkata(written + 60_000));
    await page.fill('input[type="datetime-local"] >> nth=1', "");
    await page.locator(".empty-title", { hasText: "No audit rows match." }).waitFor();
    assert.equal(await page.locator('[role="alert"]').count(), 0);
  },
});

Deno.test({
  ...e2e,
  name: "e2e: after sign-in, next= goes only to a path on the panel (no open redirect)",
  async fn() {
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const signInWithNext = async (next: string) => {
      await page.goto(`${panel.url}/login?next=${next}`);
      await page.locator('[data-island="LoginForm"][data-hydrated="true"]').waitFor();
      await page.fill('input[name="username"]', "admin");
      await page.fill('input[name="password"]', PANEL_ADMIN_PASSWORD);
      await page.click('button[type="submit"]');
    };
    // The reproduction: a tab that the browser strips turns "/\t/evil" into "//evil".
    for (const next of ["%2F%09%2Fevil.example", "%2F%5Cevil.example", "%2F%2Fevil.example"]) {
      await signInWithNext(next);
      await page.waitForURL(`${panel.url}/containers`, { timeout: 10_000 });
      assert.equal(new URL(page.url()).origin, panel.url);
      await page.context().clearCookies();
    }
    await signInWithNext("%2Fimages");
    await page.waitForURL(`${panel.url}/images`, { timeout: 10_000 });
  },
});
