/**
 * user.* verbs. Admins manage everyone; every user may change their own password. Each
 * handler validates everything before it writes anything, and writes in one transaction.
 */
import type { Db } from "../../db/db.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import { hashPassword, verifyPassword } from "../../auth/passwords.ts";
import type { SessionStreams } from "../../auth/streams.ts";
import {
  changeUser,
  checkRoleChange,
  createUser,
  deleteUser,
  getPasswordHash,
  getUser,
  parseUserId,
  validateNewPassword,
  validateRole,
} from "../../auth/users.ts";
import type { HandlerContext, Handlers } from "../dispatch.ts";

export function userHandlers(db: Db, streams: SessionStreams): Handlers {
  return {
    "user.create": ({ params }) =>
      createUser(db, params as { username: unknown; password: unknown; role: unknown }),

    "user.delete": ({ target, actor }) => {
      const id = parseUserId(target);
      if (id === actor.userId) throw new HttpError(409, "You cannot delete your own account");
      const user = deleteUser(db, id);
      streams.closeUser(id);
      return Promise.resolve({ deleted: user.username });
    },

    "user.update": async (context: HandlerContext) => {
      const { target, params, actor } = context;
      const id = parseUserId(target);
      const self = id === actor.userId;
      const isAdmin = actor.role === "admin" || actor.role === "system";
      if (!self && !isAdmin) throw new HttpError(403, "You may only change your own password");
      const user = getUser(db, id);
      if (!user) throw new HttpError(404, `No user with id ${id}`);
      if (params.role === undefined && params.password === undefined) {
        throw new ValidationError("Nothing to change: give a role or a password", "role");
      }
      if (params.role !== undefined && !isAdmin) {
        throw new HttpError(403, "Only an admin may change roles");
      }
      const role = params.role === undefined ? undefined : validateRole(params.role);
      const password = params.password === undefined
        ? undefined
        : validateNewPassword(params.password);
      if (role !== undefined) {
        if (self && role !== "admin") {
          throw new HttpError(409, "You cannot remove your own admin role");
        }
        checkRoleChange(db, user, role);
      }
      if (password !== undefined && self) {
        const current = params.current_password;
        const hash = getPasswordHash(db, id)!;
        if (typeof current !== "string" || !(await verifyPassword(current, hash))) {
          throw new ValidationError("The current password is not correct", "current_password");
        }
      }
      const passwordHash = password === undefined ? undefined : await hashPassword(password);
      const updated = changeUser(db, id, {
        role,
        passwordHash,
        // Other sessions of this user end; the one making the change (if theirs) stays.
        endSessionsExcept: passwordHash === undefined
          ? undefined
          : (self ? actor.sessionHash ?? "" : ""),
      });
      // A new role or password ends every stream the user has open, the changing
      // session's too: they were opened under the old role or credentials.
      streams.closeUser(id);
      return updated;
    },
  };
}
