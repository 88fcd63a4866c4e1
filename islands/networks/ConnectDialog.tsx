/** Connect a container to a network, with aliases and an optional fixed IPv4 address. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import type { NetworkView } from "../../lib/docker/networks.ts";

export function ConnectDialog(
  { network, onClose, onConnected }: {
    network: NetworkView;
    onClose: () => void;
    onConnected: (container: string) => void;
  },
) {
  const [containers, setContainers] = useState<{ name: string; state: string }[]>([]);
  const [container, setContainer] = useState("");
  const [aliases, setAliases] = useState("");
  const [ipv4, setIpv4] = useState("");
  const [error, setError] = useState<{ text: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const attached = new Set(network.containers.map((c) => c.name));

  useEffect(() => {
    api<{ containers: { name: string; state: string }[] }>("GET", "/api/containers")
      .then((answer) => {
        const free = answer.containers.filter((c) => !attached.has(c.name))
          .sort((a, b) => a.name < b.name ? -1 : 1);
        setContainers(free);
        if (free.length) setContainer(free[0].name);
      })
      .catch((e) => setError({ text: `Could not list the containers: ${(e as Error).message}` }));
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("POST", `/api/containers/networks/${encodeURIComponent(network.id)}/connect`, {
        container,
        aliases: aliases.split(/[\s,]+/).filter(Boolean),
        ...(ipv4.trim() ? { ipv4: ipv4.trim() } : {}),
      });
      onConnected(container);
    } catch (e) {
      setError({ text: (e as Error).message, field: e instanceof ApiError ? e.field : undefined });
      setBusy(false);
    }
  }

  const subnet = network.subnets.find((s) => s.subnet && !s.subnet.includes(":"))?.subnet;
  return (
    <TitledModal
      id="vn-connect"
      title={`Connect a container to ${network.name}`}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button
            type="submit"
            form="vn-connect-form"
            class="btn primary"
            disabled={busy || !container}
          >
            {busy ? "Connecting…" : "Connect"}
          </button>
        </div>
      }
    >
      <form id="vn-connect-form" class="im-form" onSubmit={submit}>
        <label>
          Container
          <select
            name="container"
            value={container}
            data-autofocus
            onChange={(e) => setContainer((e.target as HTMLSelectElement).value)}
          >
            {containers.length === 0 && <option value="">No container to connect</option>}
            {containers.map((c) => <option key={c.name} value={c.name}>{c.name} ({c.state})
            </option>)}
          </select>
        </label>
        <label>
          <span>
            Aliases <span class="muted im-small">separated by spaces or commas</span>
          </span>
          <input
            name="aliases"
            class="mono"
            value={aliases}
            aria-invalid={error?.field === "aliases" ? "true" : undefined}
            onInput={(e) => setAliases((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          <span>
            Fixed IPv4 address{" "}
            <span class="muted im-small">
              {subnet && !network.built_in
                ? `optional, inside ${subnet}`
                : "only on networks created with a subnet"}
            </span>
          </span>
          <input
            name="ipv4"
            class="mono"
            value={ipv4}
            disabled={!subnet || network.built_in}
            aria-invalid={error?.field === "ipv4" ? "true" : undefined}
            onInput={(e) => setIpv4((e.target as HTMLInputElement).value)}
          />
        </label>
        {error && <div class="notice error im-inline-error" role="alert">{error.text}</div>}
      </form>
    </TitledModal>
  );
}
