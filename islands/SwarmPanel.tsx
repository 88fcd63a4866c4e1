/**
 * The Swarm tab of a swarm manager: Nodes, Services, and Secrets & configs (the section is
 * kept in the URL's hash). The open section is read again every few seconds, so drains,
 * scaling and rolling updates show as they happen.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.ts";
import { Notice, type NoticeValue } from "./shared/Notice.tsx";
import { NodesView } from "./swarm/NodesView.tsx";
import { ServicesView } from "./swarm/ServicesView.tsx";
import { ObjectsView } from "./swarm/ObjectsView.tsx";
import type { Role, SwarmInfo, SwarmNode, SwarmService } from "./swarm/types.ts";

export interface SwarmPanelProps {
  role: Role;
}

type Section = "nodes" | "services" | "objects";
const SECTIONS: { id: Section; label: string }[] = [
  { id: "nodes", label: "Nodes" },
  { id: "services", label: "Services" },
  { id: "objects", label: "Secrets & configs" },
];
const REFRESH_MS = 4_000;

function sectionOfHash(): Section {
  if (typeof location === "undefined") return "nodes";
  const hash = location.hash.slice(1);
  return SECTIONS.some((s) => s.id === hash) ? hash as Section : "nodes";
}

export function SwarmPanel({ role }: SwarmPanelProps) {
  const isAdmin = role === "admin";
  const [section, setSection] = useState<Section>("nodes");
  const [info, setInfo] = useState<SwarmInfo | null>(null);
  const [nodes, setNodes] = useState<SwarmNode[] | null>(null);
  const [services, setServices] = useState<SwarmService[] | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState<NoticeValue | null>(null);

  async function load(which: Section) {
    try {
      if (which === "nodes") {
        setNodes((await api<{ nodes: SwarmNode[] }>("GET", "/api/swarm/nodes")).nodes);
      } else if (which === "services") {
        setServices(
          (await api<{ services: SwarmService[] }>("GET", "/api/swarm/services")).services,
        );
      }
      setError("");
    } catch (e) {
      setError((e as Error).message);
    }
  }

  useEffect(() => {
    setSection(sectionOfHash());
    const onHash = () => {
      setSection(sectionOfHash());
      setNotice(null);
    };
    addEventListener("hashchange", onHash);
    api<SwarmInfo>("GET", "/api/swarm").then(setInfo, (e) => setError((e as Error).message));
    return () => removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    if (info && !info.manager) return;
    void load(section);
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load(section);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [section, info?.manager]);

  async function onChanged(text: string, ok: boolean) {
    setNotice({ kind: ok ? "ok" : "error", text });
    await load(section);
  }

  /** Secrets and configs reload their own lists. */
  function noteOnly(text: string, ok: boolean) {
    setNotice({ kind: ok ? "ok" : "error", text });
    return Promise.resolve();
  }

  if (info && !info.manager) {
    return (
      <div class="notice error sw-not-manager" role="alert">
        {info.active
          ? "This Engine is a swarm worker: nodes and services are managed on a manager."
          : "This Engine is not in a swarm."}
      </div>
    );
  }

  return (
    <div class="sw-panel">
      {info?.cluster && (
        <p class="muted sw-cluster">
          {info.cluster.nodes} {info.cluster.nodes === 1 ? "node" : "nodes"},{" "}
          {info.cluster.managers} {info.cluster.managers === 1 ? "manager" : "managers"} · swarm
          {" "}
          <span class="mono" title={info.cluster.id}>{info.cluster.id.slice(0, 12)}</span>
        </p>
      )}
      <nav class="sw-sections" aria-label="Swarm sections">
        {SECTIONS.map((s) => (
          <a
            key={s.id}
            href={`#${s.id}`}
            class={`sw-section${section === s.id ? " active" : ""}`}
            aria-current={section === s.id ? "page" : undefined}
            onClick={() => setNotice(null)}
          >
            {s.label}
            {s.id === "nodes" && nodes && <span class="sw-count">{nodes.length}</span>}
            {s.id === "services" && services && <span class="sw-count">{services.length}</span>}
          </a>
        ))}
      </nav>
      {notice && <Notice notice={notice} class="sw-notice" onDismiss={() => setNotice(null)} />}
      {error && <div class="notice error sw-notice" role="alert">{error}</div>}
      {section === "nodes" && (
        nodes === null
          ? !error && <p class="muted">Loading nodes…</p>
          : <NodesView nodes={nodes} isAdmin={isAdmin} onChanged={onChanged} />
      )}
      {section === "services" && (
        services === null
          ? !error && <p class="muted">Loading services…</p>
          : <ServicesView services={services} isAdmin={isAdmin} onChanged={onChanged} />
      )}
      {section === "objects" && (
        <div class="sw-objects-grid">
          <ObjectsView kind="secrets" isAdmin={isAdmin} onChanged={noteOnly} />
          <ObjectsView kind="configs" isAdmin={isAdmin} onChanged={noteOnly} />
        </div>
      )}
    </div>
  );
}
