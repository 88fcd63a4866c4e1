/** Create a network: bridge or macvlan, IPv4 subnet/gateway/range, internal, attachable, IPv6, labels. */
import { useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import { parseKeyValues } from "../volumes/kv.ts";
import type { NetworkView } from "../../lib/docker/networks.ts";

type Fields = Record<
  "name" | "subnet" | "gateway" | "ip_range" | "ipv6_subnet" | "ipv6_gateway" | "parent" | "labels",
  string
>;

export function CreateNetworkDialog(
  { onClose, onCreated }: { onClose: () => void; onCreated: (network: NetworkView) => void },
) {
  const [fields, setFields] = useState<Fields>({
    name: "",
    subnet: "",
    gateway: "",
    ip_range: "",
    ipv6_subnet: "",
    ipv6_gateway: "",
    parent: "",
    labels: "",
  });
  const [driver, setDriver] = useState<"bridge" | "macvlan">("bridge");
  const [internal, setInternal] = useState(false);
  const [attachable, setAttachable] = useState(false);
  const [ipv6, setIpv6] = useState(false);
  const [error, setError] = useState<{ text: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (key: keyof Fields) => (e: Event) =>
    setFields({ ...fields, [key]: (e.target as HTMLInputElement).value });

  async function submit(event: Event) {
    event.preventDefault();
    const labels = parseKeyValues(fields.labels, "Labels");
    if ("error" in labels) return setError({ text: labels.error, field: "labels" });
    const body: Record<string, unknown> = {
      name: fields.name.trim(),
      driver,
      internal,
      attachable,
      labels: labels.map,
    };
    for (const key of ["subnet", "gateway", "ip_range"] as const) {
      if (fields[key].trim()) body[key] = fields[key].trim();
    }
    if (driver === "macvlan" && fields.parent.trim()) body.parent = fields.parent.trim();
    if (ipv6) {
      body.ipv6 = true;
      if (fields.ipv6_subnet.trim()) body.ipv6_subnet = fields.ipv6_subnet.trim();
      if (fields.ipv6_gateway.trim()) body.ipv6_gateway = fields.ipv6_gateway.trim();
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ network: NetworkView }>("POST", "/api/containers/networks", body);
      onCreated(answer.network);
    } catch (e) {
      setError({ text: (e as Error).message, field: e instanceof ApiError ? e.field : undefined });
      setBusy(false);
    }
  }

  const input = (key: keyof Fields, label: string, placeholder: string, hint?: string) => (
    <label>
      <span>
        {label} {hint && <span class="muted im-small">{hint}</span>}
      </span>
      <input
        name={key}
        class="mono"
        value={fields[key]}
        placeholder={placeholder}
        aria-invalid={error?.field === key ? "true" : undefined}
        onInput={set(key)}
      />
      {error?.field === key && <span class="im-field-error" role="alert">{error.text}</span>}
    </label>
  );

  const generalError = error &&
    !["name", "subnet", "gateway", "ip_range", "ipv6_subnet", "ipv6_gateway", "parent"].includes(
      error.field ?? "",
    );
  return (
    <TitledModal
      id="vn-network-create"
      class="vn-wide"
      title="Create network"
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button
            type="submit"
            form="vn-network-form"
            class="btn primary"
            disabled={busy || !fields.name.trim()}
          >
            {busy ? "Creating…" : "Create"}
          </button>
        </div>
      }
    >
      <form id="vn-network-form" class="im-form" onSubmit={submit}>
        <div class="vn-grid">
          {input("name", "Name", "e.g. backend")}
          <label>
            Driver
            <select
              name="driver"
              value={driver}
              onChange={(e) =>
                setDriver((e.target as HTMLSelectElement).value as "bridge" | "macvlan")}
            >
              <option value="bridge">bridge</option>
              <option value="macvlan">macvlan</option>
            </select>
          </label>
          {input("subnet", "Subnet", "172.31.0.0/24", "optional")}
          {input("gateway", "Gateway", "172.31.0.1", "optional")}
          {input("ip_range", "IP range", "172.31.0.128/25", "optional")}
          {driver === "macvlan" && input("parent", "Parent interface", "eth0")}
        </div>
        <div class="vn-checks">
          <label class="im-check">
            <input
              type="checkbox"
              name="internal"
              checked={internal}
              onChange={(e) => setInternal((e.target as HTMLInputElement).checked)}
            />
            Internal (no outside access)
          </label>
          <label class="im-check">
            <input
              type="checkbox"
              name="attachable"
              checked={attachable}
              onChange={(e) => setAttachable((e.target as HTMLInputElement).checked)}
            />
            Attachable
          </label>
          <label class="im-check">
            <input
              type="checkbox"
              name="ipv6"
              checked={ipv6}
              onChange={(e) => setIpv6((e.target as HTMLInputElement).checked)}
            />
            IPv6
          </label>
        </div>
        {ipv6 && (
          <div class="vn-grid">
            {input("ipv6_subnet", "IPv6 subnet", "fd00:1::/64")}
            {input("ipv6_gateway", "IPv6 gateway", "fd00:1::1", "optional")}
          </div>
        )}
        <label>
          Labels <span class="muted im-small">one key=value per line</span>
          <textarea
            name="labels"
            class="mono vn-kv"
            rows={2}
            value={fields.labels}
            aria-invalid={error?.field === "labels" ? "true" : undefined}
            onInput={set("labels")}
          />
        </label>
        {generalError && <div class="notice error im-inline-error" role="alert">{error.text}</div>}
      </form>
    </TitledModal>
  );
}
