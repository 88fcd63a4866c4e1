/** user.* verbs. Admins manage everyone; every user may change their own password. */
import type { Db } from "../../db/db.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import { verifyPassword } from "../../auth/passwords.ts";
import { deleteUserSessions } from "../../auth/sessions.ts";
import type { SessionStreams } from "../../auth/streams.ts";
import {
  createUser,
  deleteUser,
  getPasswordHash,
  getUser,
  setPassword,
  setRole,
  validateNewPassword,
  validateRole,
} from "../../auth/users.ts";
import type { HandlerContext, Handlers } from "../dispatch.ts";

function userId(target: string): number {
  const id = Number(target);
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new ValidationError(`Invalid user id "${target}"`, "id");
  }
  return id;
}

export function userHandlers(db: Db, streams: SessionStreams): Handlers {
  return {
    "user.create": ({ params }) =>
      createUser(db, params as { username: unknown; password: unknown; role: unknown }),

    "user.delete": ({ target, actor }) => {
      const id = userId(target);
      if (id === actor.userId) throw new HttpError(409, "You cannot delete your own account");
      const user = deleteUser(db, id);
      streams.closeUser(id);
      return Promise.resolve({ deleted: user.username });
    },

    "user.update": async (context: HandlerContext) => {
      const { target, params, actor } = context;
      const id = userId(target);
      const self = id === actor.userId;
      const isAdmin = actor.role === "admin" || actor.role === "system";
      if (!self && !isAdmin) throw new HttpError(403, "You may only change your own password");
      if (!getUser(db, id)) throw new HttpError(404, `No user with id ${id}`);
      const { role, password } = params;
      if (role === undefined && password === undefined) {
        throw new ValidationError("Nothing to change: give a role or a password", "role");
      }
      if (role !== undefined) {
        if (!isAdmin) throw new HttpError(403, "Only an admin may change roles");
        if (self && role !== "admin") {
          throw new HttpError(409, "You cannot remove your own admin role");
        }
        setRole(db, id, validateRole(role));
        streams.closeUser(id);
      }
      if (password !== undefined) {
        const newPassword = validateNewPassword(password);
        if (self) {
          const current = params.current_password;
          const hash = getPasswordHash(db, id)!;
          if (typeof current !== "string" || !(await verifyPassword(current, hash))) {
            throw new ValidationError("The current password is not correct", "current_password");
          }
        }
        await setPassword(db, id, newPassword);
        // Other sessions of this user end; the one making the change (if theirs) stays.
        deleteUserSessions(db, id, self ? actor.sessionHash : "");
        if (!self) streams.closeUser(id);
      }
      return getUser(db, id);
    },
  };
}
