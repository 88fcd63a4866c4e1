/** Words for swarm objects and the parsing of the Create service form. Pure functions. */
import type { ServicePort, SwarmService } from "./types.ts";

/** Image references carry a digest once deployed: show the readable part. */
export function shortImage(image: string): string {
  return image.replace(/@sha256:[0-9a-f]{64}$/, "");
}

export function replicasText(service: SwarmService): string {
  return `${service.replicas_running} / ${service.replicas_desired}`;
}

/** Whether the service runs fewer tasks than it wants (a warning colour). */
export function replicasShort(service: SwarmService): boolean {
  return service.replicas_running < service.replicas_desired;
}

export function portText(port: ServicePort): string {
  const target = `${port.target}/${port.protocol}`;
  return port.published ? `${port.published}→${target}` : target;
}

export function labelsText(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => (v ? `${k}=${v}` : k));
}

/** "8080:80", "8080:80/udp", "80" → a port; anything else → an error message. */
export function parsePort(text: string): ServicePort | string {
  const match = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(text.trim());
  if (!match) return `"${text.trim()}" is not a port: use 8080:80 or 8080:80/udp`;
  const published = match[1] ? Number(match[1]) : undefined;
  const target = Number(match[2]);
  if (target < 1 || target > 65535 || (published !== undefined && published > 65535)) {
    return `"${text.trim()}" is out of range (1-65535)`;
  }
  return { ...(published ? { published } : {}), target, protocol: match[3] ?? "tcp" };
}

/** One item per non-empty line or comma: the form's list fields. */
export function listOf(text: string): string[] {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

/** "KEY=value" lines → an object; a line without "=" is an error. */
export function keyValues(text: string, what: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const line of text.split("\n").map((s) => s.trim()).filter(Boolean)) {
    const at = line.indexOf("=");
    if (at <= 0) return `${what} "${line}" needs the form KEY=value`;
    out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

export interface ServiceForm {
  name: string;
  image: string;
  mode: "replicated" | "global";
  replicas: string;
  command: string;
  ports: string;
  env: string;
  constraints: string;
  cpus: string;
  memory: string;
  /** Secret names, comma or line separated; each is mounted at /run/secrets/<name>. */
  secrets: string;
  update_parallelism: string;
  update_delay: string;
  update_failure_action: "" | "pause" | "continue" | "rollback";
  update_order: "" | "stop-first" | "start-first";
  restart_condition: "" | "any" | "on-failure" | "none";
  restart_max_attempts: string;
}

export const EMPTY_SERVICE: ServiceForm = {
  name: "",
  image: "",
  mode: "replicated",
  replicas: "1",
  command: "",
  ports: "",
  env: "",
  constraints: "",
  cpus: "",
  memory: "",
  secrets: "",
  update_parallelism: "",
  update_delay: "",
  update_failure_action: "",
  update_order: "",
  restart_condition: "",
  restart_max_attempts: "",
};

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** The form field a server error names ("update.delay" → update_delay), if any. */
export function serviceFieldOf(field: string | undefined): keyof ServiceForm | undefined {
  if (!field) return undefined;
  const name = field.replace(/\[\d+\].*$/, "").replace(".", "_");
  if (name in EMPTY_SERVICE) return name as keyof ServiceForm;
  const head = field.split(/[.[]/)[0];
  if (head === "limits") return field.includes("memory") ? "memory" : "cpus";
  return head in EMPTY_SERVICE ? head as keyof ServiceForm : undefined;
}

/** The POST /api/swarm/services body, or the field to fix and why. */
export function serviceBody(
  form: ServiceForm,
): { body: Record<string, unknown> } | { field: keyof ServiceForm; text: string } {
  const name = form.name.trim();
  if (!name) return { field: "name", text: "Enter a service name" };
  const image = form.image.trim();
  if (!image) return { field: "image", text: "Enter an image, e.g. nginx:1.27" };
  const body: Record<string, unknown> = { name, image, mode: form.mode };
  if (form.mode === "replicated") {
    const replicas = Number(form.replicas);
    if (!/^\d+$/.test(form.replicas.trim()) || replicas > 1000) {
      return { field: "replicas", text: "Replicas is a whole number from 0 to 1000" };
    }
    body.replicas = replicas;
  }
  if (form.command.trim()) body.command = form.command.trim();
  const ports = [];
  for (const text of listOf(form.ports)) {
    const port = parsePort(text);
    if (typeof port === "string") return { field: "ports", text: port };
    ports.push(port);
  }
  if (ports.length) body.ports = ports;
  const env = keyValues(form.env, "Variable");
  if (typeof env === "string") return { field: "env", text: env };
  if (Object.keys(env).length) body.env = env;
  const constraints = form.constraints.split("\n").map((s) => s.trim()).filter(Boolean);
  for (const c of constraints) {
    if (!/^[\w.-]+(\.[\w.-]+)*\s*(==|!=)\s*\S+$/.test(c)) {
      return { field: "constraints", text: `"${c}" is not a constraint: use node.role==worker` };
    }
  }
  if (constraints.length) body.constraints = constraints;
  const limits: Record<string, number | string> = {};
  if (form.cpus.trim()) {
    const cpus = Number(form.cpus);
    if (!(cpus > 0) || cpus > 1024) return { field: "cpus", text: "CPUs is a number such as 0.5" };
    limits.cpus = cpus;
  }
  if (form.memory.trim()) {
    if (!/^\d+(\.\d+)?\s*[kmgKMG]?[bB]?$/.test(form.memory.trim())) {
      return { field: "memory", text: "Memory is a size such as 256m or 1g" };
    }
    limits.memory = form.memory.trim();
  }
  if (Object.keys(limits).length) body.limits = limits;
  const secrets = listOf(form.secrets);
  const badSecret = secrets.find((s) => !/^[\w.-]+$/.test(s));
  if (badSecret) return { field: "secrets", text: `"${badSecret}" is not a secret name` };
  if (secrets.length) body.secrets = secrets.map((source) => ({ source }));
  const update: Record<string, unknown> = {};
  if (form.update_parallelism.trim()) {
    if (!/^\d+$/.test(form.update_parallelism.trim())) {
      return {
        field: "update_parallelism",
        text: "Parallelism is a whole number (0: all at once)",
      };
    }
    update.parallelism = Number(form.update_parallelism);
  }
  if (form.update_delay.trim()) {
    if (!DURATION.test(form.update_delay.trim())) {
      return { field: "update_delay", text: "Delay is a duration such as 10s or 1m30s" };
    }
    update.delay = form.update_delay.trim();
  }
  if (form.update_failure_action) update.failure_action = form.update_failure_action;
  if (form.update_order) update.order = form.update_order;
  if (Object.keys(update).length) body.update = update;
  const restart: Record<string, unknown> = {};
  if (form.restart_condition) restart.condition = form.restart_condition;
  if (form.restart_max_attempts.trim()) {
    if (!/^\d+$/.test(form.restart_max_attempts.trim())) {
      return { field: "restart_max_attempts", text: "Attempts is a whole number" };
    }
    restart.max_attempts = Number(form.restart_max_attempts);
  }
  if (Object.keys(restart).length) body.restart = restart;
  return { body };
}

/** Relative age for a timestamp: "3 min ago". */
export function since(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return "—";
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
