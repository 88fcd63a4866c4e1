/** Sign-in, sign-out, first-run setup and the current user. */
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "node:crypto";
import { dummyHash, prepareDummyHash, verifyPassword } from "../../lib/auth/passwords.ts";
import { deleteSession, hashToken, sessionIsLive } from "../../lib/auth/sessions.ts";
import { HashingBusyError } from "../../lib/auth/hash_limiter.ts";
import {
  countUsers,
  findUserForLogin,
  type Role,
  validateNewPassword,
  validateUsername,
} from "../../lib/auth/users.ts";
import { INVALID_CREDENTIALS } from "../../lib/sysctl/handlers/auth.ts";
import { HttpError, RateLimitedError } from "../../lib/errors.ts";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { isSecureRequest, sessionCookieName } from "../middleware/auth.ts";
import { readJsonObject, stringField } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";
import { dispatchUserUpdate } from "./password_change.ts";
import { safeNextPath } from "../../lib/auth/next.ts";
import { loginPage, setupPage } from "../pages/bare.tsx";

/** A plain HTML form post (the page's scripts did not run). */
function isFormPost(c: Context): boolean {
  const type = c.req.header("Content-Type") ?? "";
  return type.startsWith("application/x-www-form-urlencoded");
}

/** The throttle's account name for setup attempts; no username can look like it. */
const SETUP_ACCOUNT = "(setup)";

/**
 * The checks both sign-in paths share (the JSON API and the plain form posts): the same
 * throttle, hashing bound, token comparison and audit rows.
 */
function authActions(deps: AppDeps) {
  const { db, dispatcher, throttle, config } = deps;
  // Without blocking startup: ready long before the first login that needs it.
  prepareDummyHash();

  /** Sets the cookie of a new session for a verified user. */
  async function startSession(
    c: Context<AppEnv>,
    user: { id: number; username: string; role: Role },
  ) {
    const previous = getCookie(c, sessionCookieName(c));
    if (previous) deleteSession(db, hashToken(previous));
    const { token } = await dispatcher.dispatch<{ token: string }>({
      verb: "auth.login",
      target: user.username,
      params: { username: user.username },
      actor: { username: user.username, role: user.role, ip: c.get("clientIp"), userId: user.id },
      requestId: c.get("requestId"),
    });
    setCookie(c, sessionCookieName(c), token, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: isSecureRequest(c),
      maxAge: Math.floor(config.sessionAbsoluteMs / 1000),
    });
  }

  /** Checks a sign-in (throttled, audited when refused); the user, or throws the refusal. */
  async function verifyLogin(c: Context<AppEnv>, username: string, password: string) {
    const ip = c.get("clientIp");

    /** Audits the failed attempt; its handler answers 401, or 429 with `retry_after`. */
    const refuse = async (params: { retry_after?: number; busy?: boolean } = {}) => {
      await dispatcher.dispatch({
        verb: "auth.login_failed",
        target: username,
        params: { username, ...params },
        actor: { username, role: "anonymous", ip },
        requestId: c.get("requestId"),
      });
      throw new HttpError(401, INVALID_CREDENTIALS); // not reached: the handler throws
    };

    // Reserved before any await, so parallel attempts are all counted.
    const attempt = throttle.reserve(username, ip);
    if (!attempt.allowed) return await refuse({ retry_after: attempt.retryAfter });

    const user = findUserForLogin(db, username);
    let valid: boolean;
    try {
      // An unknown user is checked against a dummy hash so both failures take the same time.
      valid = await verifyPassword(password, user?.password_hash ?? await dummyHash());
    } catch (error) {
      attempt.cancel(); // nothing was verified
      if (error instanceof HashingBusyError) {
        return await refuse({ retry_after: error.retryAfterSeconds, busy: true });
      }
      throw error;
    }
    if (!user || !valid) return await refuse();
    attempt.succeeded();
    return user;
  }

  /** Creates the first admin with the setup token (throttled); the user, or throws. */
  async function setUp(c: Context<AppEnv>, body: Record<string, unknown>) {
    if (countUsers(db) > 0 || !deps.setup.token) {
      throw new HttpError(409, "This panel is already set up. Sign in instead.");
    }
    const ip = c.get("clientIp");
    const token = stringField(body, "token", { max: 256 });
    const expected = deps.setup.token;
    // Checked again after the await above: another setup may have finished meanwhile.
    if (countUsers(db) > 0 || !expected) {
      throw new HttpError(409, "This panel is already set up. Sign in instead.");
    }
    const attempt = throttle.reserve(SETUP_ACCOUNT, ip);
    if (!attempt.allowed) throw new RateLimitedError(attempt.retryAfter);
    const given = new TextEncoder().encode(token);
    const wanted = new TextEncoder().encode(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw new HttpError(
        403,
        "The setup token is not correct. It is printed in the panel's log at startup.",
        "token",
      );
    }
    attempt.succeeded();
    // Validated before the token is spent, so a typo does not use it up.
    validateUsername(body.username);
    validateNewPassword(body.password);
    // Spent before the first await: a concurrent setup now finds no token and gets a 409.
    deps.setup.token = undefined;
    let user: { id: number; username: string; role: "admin" };
    try {
      user = await dispatcher.dispatch({
        verb: "user.create",
        target: String(body.username),
        params: { username: body.username, password: body.password, role: "admin" },
        actor: { username: "setup", role: "system", ip },
        requestId: c.get("requestId"),
      });
    } catch (error) {
      // Nothing was created (the hashing queue was full, say): the token works again.
      if (countUsers(db) === 0) deps.setup.token = expected;
      throw error;
    }
    return user;
  }

  return { startSession, verifyLogin, setUp };
}

/** The JSON API: /api/auth/login, setup, logout, me, password. */
export function authApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, dispatcher, config } = deps;
  const { startSession, verifyLogin, setUp } = authActions(deps);
  // Streams end with their session's expiry too, not only when a request finds it expired.
  const timeouts = { idleMs: config.sessionIdleMs, absoluteMs: config.sessionAbsoluteMs };
  deps.streams.watchExpiry((tokenHash) => sessionIsLive(db, tokenHash, timeouts), deps.shutdown);

  /** Signs a verified user in with a brand-new token (the old session, if any, ends). */
  async function signIn(c: Context<AppEnv>, user: { id: number; username: string; role: Role }) {
    await startSession(c, user);
    return c.json({ user: { id: user.id, username: user.username, role: user.role } });
  }

  app.post("/login", async (c) => {
    const body = await readJsonObject(c);
    const username = stringField(body, "username", { max: 128 });
    const password = stringField(body, "password", { max: 1024 });
    return await signIn(c, await verifyLogin(c, username, password));
  });

  app.post("/setup", async (c) => {
    return await signIn(c, await setUp(c, await readJsonObject(c)));
  });

  app.post("/logout", async (c) => {
    await dispatchAs(c, dispatcher, "auth.logout", c.get("actor").username);
    deleteCookie(c, sessionCookieName(c), { path: "/", secure: isSecureRequest(c) });
    return c.json({ ok: true });
  });

  app.get("/me", (c) => {
    const session = c.get("session");
    return c.json({ user: { id: session.userId, username: session.username, role: session.role } });
  });

  app.post("/password", async (c) => {
    const body = await readJsonObject(c);
    const user = await dispatchUserUpdate(c, deps, String(c.get("actor").userId), {
      password: body.new_password,
      current_password: body.current_password,
    });
    return c.json({ user });
  });

  return app;
}

/**
 * POST /login and POST /setup: the sign-in and setup forms posted by the browser itself
 * (before or without the page's scripts), form-encoded. A 303 with the session cookie, or
 * the page again with the error in words (never a JSON page).
 */
export function authFormRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { startSession, verifyLogin, setUp } = authActions(deps);

  /** The form's fields (strings only), or a refusal in words for another kind of body. */
  async function formFields(c: Context<AppEnv>, names: string[]) {
    if (!isFormPost(c)) {
      throw new HttpError(415, "This form is sent form-encoded; the JSON API is /api/auth");
    }
    const form = await c.req.parseBody();
    const fields: Record<string, string> = {};
    for (const name of names) if (typeof form[name] === "string") fields[name] = form[name];
    return fields;
  }

  /** The refusal shown on the form itself, with the status it would have as JSON. */
  function formError(c: Context<AppEnv>, error: unknown, render: (message: string) => string) {
    if (!(error instanceof HttpError)) throw error;
    if (error instanceof RateLimitedError) {
      c.header("Retry-After", String(error.retryAfterSeconds));
    }
    c.header("Cache-Control", "no-store");
    return c.html(render(error.message), error.status as 400);
  }

  app.post("/login", async (c) => {
    let next: string | undefined;
    let username = "";
    try {
      const form = await formFields(c, ["username", "password", "next"]);
      next = safeNextPath(form.next) ?? undefined;
      username = form.username ?? "";
      const user = await verifyLogin(
        c,
        stringField(form, "username", { max: 128 }),
        stringField(form, "password", { max: 1024 }),
      );
      await startSession(c, user);
      return c.redirect(next ?? "/containers", 303);
    } catch (error) {
      return formError(c, error, (message) => loginPage({ next, username, error: message }));
    }
  });

  app.post("/setup", async (c) => {
    let username: string | undefined;
    try {
      const form = await formFields(c, ["token", "username", "password", "confirm"]);
      username = form.username;
      if (form.password !== form.confirm) {
        throw new HttpError(400, "The two passwords do not match", "confirm");
      }
      await startSession(c, await setUp(c, form));
      return c.redirect("/containers", 303);
    } catch (error) {
      return formError(c, error, (message) => setupPage({ username, error: message }));
    }
  });

  return app;
}
