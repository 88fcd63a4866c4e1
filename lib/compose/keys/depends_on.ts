/** depends_on: of a service. */
import { shown } from "../errors.ts";
import type { DependsOnCondition, ServiceSpec } from "../types.ts";
import type { YNode } from "../yaml.ts";
import {
  asBool,
  asMap,
  asString,
  checkKeys,
  type Context,
  isNull,
  prefix,
  setOwn,
  stringList,
} from "../readers.ts";

export function dependsOn(ctx: Context, node: YNode, service: string): ServiceSpec["depends_on"] {
  const what = `${prefix(service)}depends_on`;
  const out: ServiceSpec["depends_on"] = {};
  if (node.kind === "seq") {
    for (const { value, line } of stringList(ctx, node, what)) {
      if (value === "") ctx.fail(`${what} has an empty service name`, line);
      setOwn(out, value, { condition: "service_started", required: true });
    }
    return out;
  }
  const map = asMap(ctx, node, what);
  for (const entry of map.entries.values()) {
    let condition: DependsOnCondition = "service_started";
    let required = true;
    let restart = false;
    if (!isNull(entry.value)) {
      const options = asMap(ctx, entry.value, `${what}.${entry.key}`);
      checkKeys(
        ctx,
        options,
        ["condition", "required", "restart"],
        service,
        `depends_on.${entry.key}`,
      );
      const conditionNode = options.entries.get("condition")?.value;
      if (!isNull(conditionNode)) {
        const value = asString(ctx, conditionNode!, `${what}.${entry.key}.condition`);
        if (
          value !== "service_started" && value !== "service_healthy" &&
          value !== "service_completed_successfully"
        ) {
          ctx.fail(
            `${what}.${entry.key}.condition must be service_started, service_healthy or service_completed_successfully, got ${
              shown(value)
            }`,
            conditionNode!.line,
          );
        }
        condition = value;
      }
      const requiredNode = options.entries.get("required")?.value;
      if (!isNull(requiredNode)) {
        required = asBool(ctx, requiredNode!, `${what}.${entry.key}.required`);
      }
      const restartNode = options.entries.get("restart")?.value;
      if (!isNull(restartNode)) {
        restart = asBool(ctx, restartNode!, `${what}.${entry.key}.restart`);
      }
    }
    // `restart` is kept only when true, so the config hash of existing services is unchanged.
    setOwn(out, entry.key, { condition, required, ...(restart ? { restart: true as const } : {}) });
  }
  return out;
}
