/**
 * environment.add | update | remove. The PEM texts travel in the dispatch's attachment
 * (never audited); params carry only what may be shown: name, url, certificate subjects
 * and fingerprints. Adding or changing where an environment connects tests the
 * connection first, and nothing is saved unless it passes.
 */
import type { Db } from "../db/db.ts";
import { HttpError, ValidationError } from "../errors.ts";
import type { Handlers } from "../sysctl/dispatch.ts";
import {
  certificateInfo,
  engineHostOf,
  formatAddress,
  idForName,
  LOCAL_ID,
  parseAddress,
  type TlsMaterial,
  validateName,
  validateTls,
} from "./address.ts";
import {
  deleteEnvironment,
  getEnvironment,
  insertEnvironment,
  nameTaken,
  tlsMaterialOf,
  updateEnvironment,
} from "./store.ts";
import { testConnection } from "./connect.ts";

/** What the route hands over besides the audited params. */
export interface EnvironmentAttachment {
  /** Add: the whole material. Update: the fields given (merged with the stored ones); null drops TLS. */
  tls?: Partial<TlsMaterial> | null;
}

/** The audit-safe summary of TLS material: subjects, fingerprints, expiry; never a PEM. */
export function tlsSummary(tls: Partial<TlsMaterial> | null | undefined): unknown {
  if (tls === null) return null;
  if (!tls) return undefined;
  const info = (pem: string | undefined) => {
    if (typeof pem !== "string") return undefined;
    try {
      const { subject, fingerprint, notAfter } = certificateInfo(pem);
      return { subject, fingerprint, not_after: notAfter };
    } catch {
      return "unreadable";
    }
  };
  return {
    ca: info(tls.ca),
    cert: info(tls.cert),
    key: typeof tls.key === "string" ? "given" : undefined,
  };
}

function attachmentOf(value: unknown): EnvironmentAttachment {
  return (value && typeof value === "object" ? value : {}) as EnvironmentAttachment;
}

export function environmentHandlers(db: Db, secretKey: CryptoKey): Handlers {
  return {
    "environment.add": async ({ params, attachment }) => {
      const name = validateName(params.name);
      const address = parseAddress(params.url);
      const given = attachmentOf(attachment).tls;
      const tls = given === undefined || given === null ? undefined : validateTls(given);
      const { host, warning } = engineHostOf(address, tls);
      if (nameTaken(db, name)) {
        throw new HttpError(409, `An environment named "${name}" already exists`, "name");
      }
      const engine = await testConnection(host);
      const id = idForName(name, (candidate) => !!getEnvironment(db, candidate));
      const stored = await insertEnvironment(db, secretKey, {
        id,
        name,
        url: formatAddress(address),
        tls,
      });
      return {
        id: stored.id,
        name: stored.name,
        url: stored.url,
        tls: !!stored.tls,
        ...(warning ? { warning } : {}),
        engine_version: engine.engine_version,
      };
    },

    "environment.update": async ({ target, params, attachment }) => {
      if (target === LOCAL_ID) {
        throw new HttpError(
          400,
          "The local environment is the panel's own Engine; it cannot be changed",
        );
      }
      const current = getEnvironment(db, target);
      if (!current) throw new HttpError(404, `No environment ${target}`);
      const name = params.name === undefined ? current.name : validateName(params.name);
      const address = parseAddress(params.url === undefined ? current.url : params.url);
      const given = attachmentOf(attachment).tls;
      let tls: TlsMaterial | undefined;
      if (given === null) tls = undefined;
      else {
        const stored = await tlsMaterialOf(db, secretKey, target);
        if (given === undefined) tls = address.kind === "tcp" ? stored : undefined;
        else {
          if (!stored && (!given.ca || !given.cert || !given.key)) {
            throw new ValidationError(
              "Give the CA certificate, client certificate and key to switch to TLS",
              "tls",
            );
          }
          tls = validateTls({ ...stored, ...given });
        }
      }
      const { host, warning } = engineHostOf(address, tls);
      if (name !== current.name && nameTaken(db, name, target)) {
        throw new HttpError(409, `An environment named "${name}" already exists`, "name");
      }
      const url = formatAddress(address);
      const moved = url !== current.url || given !== undefined;
      const engine = moved ? await testConnection(host) : undefined;
      const stored = await updateEnvironment(db, secretKey, { id: target, name, url, tls });
      return {
        id: stored.id,
        name: stored.name,
        url: stored.url,
        tls: !!stored.tls,
        ...(warning ? { warning } : {}),
        ...(engine ? { engine_version: engine.engine_version } : {}),
      };
    },

    "environment.remove": ({ target }) => {
      if (target === LOCAL_ID) {
        throw new HttpError(
          400,
          "The local environment is the panel's own Engine; it cannot be removed",
        );
      }
      if (!deleteEnvironment(db, target)) throw new HttpError(404, `No environment ${target}`);
      return Promise.resolve({ id: target });
    },
  };
}
