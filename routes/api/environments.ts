/**
 * GET/POST /api/environments, PATCH/DELETE /api/environments/{id}. Reads answer from the
 * monitor's last check (never waiting on an Engine); writes are the environment.* verbs.
 * The PEM texts go to the handler as the dispatch's attachment: they are never audited,
 * logged or answered (the certificates' subjects and fingerprints may be).
 */
import { type Context, Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { HttpError, ValidationError } from "../../lib/errors.ts";
import { readJsonObject } from "./body.ts";
import type { EnvironmentRegistry } from "../../lib/environments/registry.ts";
import { ENVIRONMENT_ID, LOCAL_ID, type TlsMaterial } from "../../lib/environments/address.ts";
import { type EnvironmentAttachment, tlsSummary } from "../../lib/environments/handlers.ts";

const FIELDS = new Set(["name", "url", "tls"]);

function tlsInput(value: unknown, partial: boolean): Partial<TlsMaterial> | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) {
    if (!partial) return undefined;
    return null;
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError("tls must be an object with ca, cert and key", "tls");
  }
  const tls: Partial<TlsMaterial> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    if (key !== "ca" && key !== "cert" && key !== "key") {
      throw new ValidationError(`tls has no field "${key.slice(0, 32)}"`, "tls");
    }
    if (field === undefined || field === null || field === "") continue;
    if (typeof field !== "string") {
      throw new ValidationError(`tls.${key} must be a PEM text`, `tls.${key}`);
    }
    tls[key] = field;
  }
  return tls;
}

function parseBody(body: Record<string, unknown>, partial: boolean) {
  for (const key of Object.keys(body)) {
    if (!FIELDS.has(key)) {
      throw new ValidationError(`Unknown field "${key.slice(0, 32)}"`, key.slice(0, 32));
    }
  }
  for (const field of ["name", "url"] as const) {
    if (body[field] !== undefined && typeof body[field] !== "string") {
      throw new ValidationError(`${field} must be a string`, field);
    }
  }
  const tls = tlsInput(body.tls, partial);
  const params: Record<string, unknown> = {};
  if (body.name !== undefined) params.name = body.name;
  if (body.url !== undefined) params.url = body.url;
  if (tls !== undefined) params.tls = tlsSummary(tls);
  const attachment: EnvironmentAttachment = tls === undefined ? {} : { tls };
  return { params, attachment };
}

function idParam(c: Context<AppEnv>): string {
  const id = c.req.param("id") ?? "";
  if (id === LOCAL_ID) {
    throw new HttpError(
      400,
      "The local environment is the panel's own Engine; it cannot be changed",
    );
  }
  if (!ENVIRONMENT_ID.test(id)) throw new HttpError(404, `No environment ${id.slice(0, 64)}`);
  return id;
}

export function environmentApiRoutes(
  deps: AppDeps,
  environments: EnvironmentRegistry,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const dispatch = (
    c: Context<AppEnv>,
    verb: string,
    target: string,
    params: Record<string, unknown>,
    attachment?: EnvironmentAttachment,
  ) =>
    deps.dispatcher.dispatch<Record<string, unknown>>({
      verb,
      target,
      params,
      attachment,
      actor: c.get("actor"),
      requestId: c.get("requestId"),
    });

  app.get(
    "/",
    (c) => c.json({ environments: environments.list() }, 200, { "Cache-Control": "no-store" }),
  );

  app.get("/:id", (c) => {
    const id = c.req.param("id");
    const view = environments.view(id);
    if (!view) throw new HttpError(404, `No environment ${id.slice(0, 64)}`);
    return c.json(view, 200, { "Cache-Control": "no-store" });
  });

  app.post("/", async (c) => {
    const { params, attachment } = parseBody(await readJsonObject(c), false);
    const target = typeof params.name === "string" ? params.name.slice(0, 64) : "";
    const result = await dispatch(c, "environment.add", target, params, attachment);
    environments.changed(String(result.id));
    return c.json({ ...environments.view(String(result.id)), ...result }, 201);
  });

  app.patch("/:id", async (c) => {
    const id = idParam(c);
    const { params, attachment } = parseBody(await readJsonObject(c), true);
    const result = await dispatch(c, "environment.update", id, params, attachment);
    // Only a new address or certificate reconnects (the handler tested it: engine_version).
    environments.changed(id, { connection: "engine_version" in result });
    return c.json({ ...environments.view(id), ...result });
  });

  app.delete("/:id", async (c) => {
    const id = idParam(c);
    await dispatch(c, "environment.remove", id, {});
    // Its hubs and streams close; its stacks folder stays on disk.
    environments.changed(id);
    return c.json({ id, removed: true });
  });

  return app;
}
