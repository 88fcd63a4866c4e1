/**
 * Every page at phone and desktop sizes, in the light and the dark theme: no horizontal
 * page scroll, the header's controls on screen, no text below WCAG AA contrast, and a
 * screenshot of each (tests/.artifacts/responsive-*.png) to look at.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

const PAGES = [
  "containers",
  "compose",
  "images",
  "volumes",
  "networks",
  "audit",
  "users",
  "environments",
];
const SIZES = [
  { name: "phone", width: 360, height: 740 },
  { name: "phone390", width: 390, height: 844 },
  { name: "desktop", width: 1440, height: 900 },
];
const CONTRAST_PAGES = new Set(["containers", "compose", "images", "audit"]);

/** Runs in the page: texts whose contrast with what is behind them is under 4.5:1 (3:1 large). */
function lowContrastInPage(): string[] {
  const parse = (value: string): number[] | null => {
    const match = value.match(/rgba?\(([^)]+)\)/);
    if (!match) return null;
    const parts = match[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const blend = (top: number[], bottom: number[]) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const luminance = (rgb: number[]) => {
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (element: Element | null): number[] => {
    const layers: number[][] = [];
    for (let node = element; node; node = node.parentElement) {
      const color = parse(getComputedStyle(node).backgroundColor);
      if (color && color[3] > 0) {
        layers.push(color);
        if (color[3] >= 1) break;
      }
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = blend(layer, result);
    return result;
  };
  const failures: string[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set<Element>();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!element || seen.has(element) || !node.textContent?.trim()) continue;
    seen.add(element);
    if (element.closest("[aria-hidden='true'], .xterm, svg, option")) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden" || style.display === "none") continue;
    const rect = element.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    // Disabled controls are exempt from the contrast rule (WCAG 1.4.3).
    if (element.closest(":disabled, [aria-disabled='true']")) continue;
    let opacity = 1;
    for (let n: Element | null = element; n; n = n.parentElement) {
      opacity *= Number(getComputedStyle(n).opacity);
    }
    const back = background(element);
    const fore = blend(parse(style.color)!, back);
    const text = opacity < 1 ? blend([...fore.slice(0, 3), opacity], back) : fore;
    const [l1, l2] = [luminance(text), luminance(back)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize);
    const bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(
        `${ratio.toFixed(2)}:1 "${node.textContent.trim().slice(0, 40)}" ` +
          `(${element.tagName.toLowerCase()}.${[...element.classList].join(".")})`,
      );
    }
  }
  return failures;
}

async function headerVisible(page: Page, width: number) {
  const inView = async (selector: string) => {
    const box = await page.locator(selector).first().boundingBox();
    assert.ok(box, `${selector} is rendered`);
    assert.ok(box.x >= 0 && box.x + box.width <= width + 0.5, `${selector} is on screen`);
  };
  await inView(".brand");
  await inView(".engine-status");
  await inView("header .run-button, header button:has-text('Run container')");
  if (width < 1240) {
    await inView(".menu-toggle");
  } else {
    await inView("nav.tabs");
    await inView(".user-menu");
  }
}

/** Loads one page and notes what is wrong with it (overflow, header, contrast, theme). */
async function checkPage(
  page: Page,
  url: string,
  name: string,
  where: string,
  scheme: "light" | "dark",
  size: (typeof SIZES)[number],
  found: string[],
) {
  await page.goto(`${url}/${name}`, { waitUntil: "domcontentloaded" });
  await page.locator("[data-island]:not([data-hydrated='true'])").first().waitFor({
    state: "detached",
    timeout: 15_000,
  }).catch(() => {});
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: innerWidth,
  }));
  if (overflow.scroll > overflow.inner) {
    found.push(`${where}: page is ${overflow.scroll}px wide in ${overflow.inner}px`);
  }
  try {
    await headerVisible(page, size.width);
  } catch (error) {
    found.push(`${where}: ${(error as Error).message}`);
  }
  if (CONTRAST_PAGES.has(name) && size.name !== "phone390") {
    const low = await page.evaluate(lowContrastInPage);
    for (const line of low.slice(0, 5)) found.push(`${where}: contrast ${line}`);
  }
  const background = await page.evaluate(() =>
    getComputedStyle(document.documentElement).backgroundColor
  );
  const dark = background === "rgb(15, 18, 23)";
  if (dark !== (scheme === "dark")) found.push(`${where}: background ${background}`);
  await page.screenshot({
    path: await screenshotPath(`responsive-${name}-${size.width}-${scheme}`),
    fullPage: size.width > 1000,
  });
}

Deno.test({
  name:
    "e2e: every page at 360, 390 and 1440 px in both themes: no overflow, header on screen, AA contrast",
  ...e2e,
  async fn() {
    await using engine = await testEngine("cmresp");
    await makeTestContainer(engine.docker, engine.prefix, "web-with-a-rather-long-name", {
      Cmd: ["sleep", "300"],
    });
    await makeTestContainer(engine.docker, engine.prefix, "stopped", { Cmd: ["true"] }, false);
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const session = (await panel.login()).split("=")[1];
    const failures: string[] = [];
    for (const scheme of ["light", "dark"] as const) {
      for (const size of SIZES) {
        const context = await browser.newContext({
          viewport: { width: size.width, height: size.height },
          colorScheme: scheme,
        });
        await context.addCookies([{ name: "cm_session", value: session, url: panel.url }]);
        const page = await context.newPage();
        page.setDefaultTimeout(30_000);
        for (const name of PAGES) {
          const where = `${name} ${size.width}px ${scheme}`;
          // The browser fixture reloads a page whose scripts a network change aborted (other
          // files create Docker networks); a check that meets that reload is made again.
          for (let attempt = 0;; attempt++) {
            const found: string[] = [];
            try {
              await checkPage(page, panel.url, name, where, scheme, size, found);
              failures.push(...found);
              break;
            } catch (error) {
              if (attempt > 0 || !/Execution context was destroyed/.test(String(error))) {
                throw error;
              }
            }
          }
        }
        if (size.width < 1240) {
          // The menu opens with the keyboard too (the checkbox behind the button).
          await page.locator(".menu-toggle-input").focus();
          await page.keyboard.press("Space");
          for (const control of ["nav.tabs a:has-text('Audit')", "button:has-text('Sign out')"]) {
            if (!await page.locator(control).isVisible()) {
              failures.push(`${size.width}px ${scheme}: ${control} not shown in the open menu`);
            }
          }
          await page.screenshot({
            path: await screenshotPath(`responsive-menu-${size.width}-${scheme}`),
          });
        }
        await context.close();
      }
    }
    assert.deepEqual(failures, []);
  },
});
