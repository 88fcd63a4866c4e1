/** Sign-in, sign-out, first-run setup and the current user. */
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "node:crypto";
import { dummyHash, prepareDummyHash, verifyPassword } from "../../lib/auth/passwords.ts";
import { deleteSession, hashToken } from "../../lib/auth/sessions.ts";
import { countUsers, findUserForLogin, type Role } from "../../lib/auth/users.ts";
import { INVALID_CREDENTIALS } from "../../lib/sysctl/handlers/auth.ts";
import { HttpError, RateLimitedError } from "../../lib/errors.ts";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { isSecureRequest, sessionCookieName } from "../middleware/auth.ts";
import { readJsonObject, stringField } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";

export function authApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, dispatcher, throttle, config } = deps;
  // Without blocking startup: ready long before the first login that needs it.
  prepareDummyHash();

  /** Signs a verified user in with a brand-new token (the old session, if any, ends). */
  async function signIn(c: Context<AppEnv>, user: { id: number; username: string; role: Role }) {
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
    return c.json({ user: { id: user.id, username: user.username, role: user.role } });
  }

  app.post("/login", async (c) => {
    const body = await readJsonObject(c);
    const username = stringField(body, "username", { max: 128 });
    const password = stringField(body, "password", { max: 1024 });
    const ip = c.get("clientIp");
    const keys = [`user:${username.toLowerCase()}`, `ip:${ip}`];
    const anonymous = { username, role: "anonymous" as const, ip };

    const wait = throttle.retryAfter(keys);
    if (wait > 0) {
      // Audited; the handler answers 429 with Retry-After.
      await dispatcher.dispatch({
        verb: "auth.login_failed",
        target: username,
        params: { username, retry_after: wait },
        actor: anonymous,
        requestId: c.get("requestId"),
      });
      throw new RateLimitedError(wait);
    }

    const user = findUserForLogin(db, username);
    // An unknown user is checked against a dummy hash so both failures take the same time.
    const valid = await verifyPassword(password, user?.password_hash ?? await dummyHash());
    if (!user || !valid) {
      throttle.fail(keys);
      // Audited as auth.login_failed; its handler answers 401 with INVALID_CREDENTIALS.
      await dispatcher.dispatch({
        verb: "auth.login_failed",
        target: username,
        params: { username },
        actor: anonymous,
        requestId: c.get("requestId"),
      });
      throw new HttpError(401, INVALID_CREDENTIALS);
    }
    throttle.reset(keys[0]);
    return await signIn(c, user);
  });

  app.post("/setup", async (c) => {
    if (countUsers(db) > 0 || !deps.setup.token) {
      throw new HttpError(409, "This panel is already set up. Sign in instead.");
    }
    const body = await readJsonObject(c);
    const ip = c.get("clientIp");
    const wait = throttle.retryAfter([`setup:${ip}`]);
    if (wait > 0) throw new RateLimitedError(wait);
    const token = stringField(body, "token", { max: 256 });
    const expected = new TextEncoder().encode(deps.setup.token);
    const given = new TextEncoder().encode(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throttle.fail([`setup:${ip}`]);
      throw new HttpError(
        403,
        "The setup token is not correct. It is printed in the panel's log at startup.",
        "token",
      );
    }
    const user = await dispatcher.dispatch<{ id: number; username: string; role: "admin" }>({
      verb: "user.create",
      target: String(body.username ?? ""),
      params: { username: body.username, password: body.password, role: "admin" },
      actor: { username: "setup", role: "system", ip },
      requestId: c.get("requestId"),
    });
    deps.setup.token = undefined;
    return await signIn(c, user);
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
    const user = await dispatchAs(c, dispatcher, "user.update", String(c.get("actor").userId), {
      password: body.new_password,
      current_password: body.current_password,
    });
    return c.json({ user });
  });

  return app;
}
