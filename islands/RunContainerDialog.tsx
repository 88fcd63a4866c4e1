/**
 * The header's "Run container" button and its modal (admins only; the server renders no
 * button for viewers). It validates while you type, shows the server's `field` errors next
 * to the right row, shows the pull's progress when the image is not on the node yet, and on
 * success closes: the Containers table gets the new row from the Engine's events, so
 * nothing reloads.
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, apiWithProgress } from "./api.ts";
import { formatBytes } from "./images/format.ts";
import { applyPullLines, initialPull, type PullState, pullTotals } from "./images/pull.ts";
import type { PullLine } from "./images/types.ts";
import { Modal } from "./shared/Modal.tsx";
import {
  type AnyRow,
  emptyForm,
  emptyRow,
  type EnvRow,
  fieldMessage,
  formField,
  formFromInspect,
  formRisks,
  LIST_PROP,
  type ListKind,
  parseEnvLines,
  type PortRow,
  type Proto,
  type RestartName,
  type RowPart,
  type RunForm,
  type SectionId,
  sectionOf,
  sectionSummaries,
  toBody,
  uid,
  validate,
  type VolumeRow,
} from "./containers/run_form.ts";
import { Field, RemoveButton, Row, Rows, Section, value } from "./containers/run_fields.tsx";
import {
  type FormControls,
  HealthFields,
  LabelFields,
  LoggingFields,
  NetworkFields,
  ProcessFields,
  ResourceFields,
  SecurityFields,
} from "./containers/run_sections.tsx";
import { CONTAINER_RUN, type InspectView, OPEN_RUN_DIALOG } from "./containers/types.ts";
import type { Risk } from "../lib/risks.ts";
import { localPagePath, pagePath } from "./env.ts";

// deno-lint-ignore ban-types
export type RunContainerDialogProps = {};

const CMD_HINT =
  `Split on spaces like a shell (no expansion); quote an argument that has spaces: sh -c "echo hi; sleep 60". Empty: the image's default.`;

interface RunResult {
  id: string;
  name: string;
  state: string;
  warnings: string[];
}

export function RunContainerDialog(_props: RunContainerDialogProps) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState<RunForm>(emptyForm);
  const [result, setResult] = useState<RunResult | null>(null);
  /** A run that failed after its dialog was closed (a long pull): said here, not lost. */
  const [lateError, setLateError] = useState<string | null>(null);

  useEffect(() => {
    // detail.image: the Images tab's Run; detail.fromContainer: Duplicate / edit.
    const onOpen = (event: Event) => {
      const detail = (event as CustomEvent<{ image?: string; fromContainer?: string } | null>)
        .detail;
      if (detail?.image) setForm({ ...emptyForm(), image: detail.image });
      if (detail?.fromContainer) {
        api<{ container: InspectView }>(
          "GET",
          `/api/containers/${encodeURIComponent(detail.fromContainer)}`,
        ).then((answer) => setForm(formFromInspect(answer.container)))
          .catch((e) => setLateError(`Could not read the container: ${(e as Error).message}`));
      }
      setOpen(true);
    };
    addEventListener(OPEN_RUN_DIALOG, onOpen);
    return () => removeEventListener(OPEN_RUN_DIALOG, onOpen);
  }, []);

  useEffect(() => {
    if (!result || result.warnings.length) return;
    const timer = setTimeout(() => setResult(null), 6000);
    return () => clearTimeout(timer);
  }, [result]);

  return (
    <>
      <button
        type="button"
        class="btn primary"
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
      >
        Run container
      </button>
      {open && (
        <RunModal
          form={form}
          setForm={setForm}
          onClose={() => setOpen(false)}
          onFailedAfterClose={setLateError}
          onDone={(answer) => {
            setOpen(false);
            setForm(emptyForm());
            setLateError(null);
            setResult(answer);
            dispatchEvent(new CustomEvent(CONTAINER_RUN, { detail: answer }));
          }}
        />
      )}
      {result && (
        <div class="ct-toast" role="status">
          <div>
            <strong>{result.name}</strong> is{" "}
            {result.state === "running" ? "running" : result.state}.
            {!localPagePath(location.pathname).startsWith("/containers") && (
              <>
                {" "}
                <a href={pagePath("/containers")}>Open Containers</a>
              </>
            )}
            {result.warnings.length > 0 && (
              <ul class="ct-toast-warnings">
                {result.warnings.map((warning) => <li key={warning}>{warning}</li>)}
              </ul>
            )}
          </div>
          <button
            type="button"
            class="ct-close"
            aria-label="Dismiss"
            onClick={() => setResult(null)}
          >
            ×
          </button>
        </div>
      )}
      {lateError && (
        <div class="ct-toast ct-toast-error" role="alert">
          <div>
            <strong>The container did not start.</strong> {lateError}
          </div>
          <button
            type="button"
            class="ct-close"
            aria-label="Dismiss"
            onClick={() => setLateError(null)}
          >
            ×
          </button>
        </div>
      )}
    </>
  );
}

const SECTIONS: {
  id: SectionId;
  title: string;
  Fields: (props: { c: FormControls }) => JSX.Element;
}[] = [
  { id: "process", title: "Process", Fields: ProcessFields },
  { id: "network", title: "Network", Fields: NetworkFields },
  { id: "resources", title: "Resources", Fields: ResourceFields },
  { id: "security", title: "Security", Fields: SecurityFields },
  { id: "logging", title: "Logging", Fields: LoggingFields },
  { id: "health", title: "Health", Fields: HealthFields },
  { id: "labels", title: "Labels", Fields: LabelFields },
];

/** The Engine's networks a container can be put on (host and none stand alone). */
function useNetworkNames(): { names: string[] | null; error: string | null } {
  const [state, setState] = useState<{ names: string[] | null; error: string | null }>({
    names: null,
    error: null,
  });
  useEffect(() => {
    let live = true;
    api<{ networks: { name: string }[] }>("GET", "/api/containers/networks")
      .then((answer) => {
        const names = answer.networks.map((network) => network.name)
          .filter((name) => name !== "host" && name !== "none")
          .sort((a, b) => a.localeCompare(b));
        if (live) setState({ names, error: null });
      })
      .catch((error) => live && setState({ names: null, error: (error as Error).message }));
    return () => void (live = false);
  }, []);
  return state;
}

function RunModal(
  { form, setForm, onClose, onDone, onFailedAfterClose }: {
    form: RunForm;
    setForm: (form: RunForm) => void;
    onClose: () => void;
    onDone: (result: RunResult) => void;
    onFailedAfterClose: (message: string) => void;
  },
) {
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);
  const [submitted, setSubmitted] = useState(false);
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  /** For a server error on a row: the input it is about, when the field says (aliases). */
  const [serverParts, setServerParts] = useState<Record<string, RowPart>>({});
  const [general, setGeneral] = useState("");
  const [openSections, setOpenSections] = useState<Set<SectionId>>(new Set());
  /** The pull of an absent image, while the server reports it. */
  const [pull, setPull] = useState<PullState | null>(null);
  const body = useRef<HTMLDivElement>(null);
  const networks = useNetworkNames();

  const { errors: problems, parts } = validate(form);
  // Escape-shaped settings need the same explicit acknowledgement as a compose deploy.
  const risks = formRisks(form);
  const riskKey = risks.map((risk) => risk.message).join("|");
  const [acknowledged, setAcknowledged] = useState(false);
  const [riskRefused, setRiskRefused] = useState(false);
  useEffect(() => {
    setAcknowledged(false);
    setRiskRefused(false);
  }, [riskKey]);
  const errorOf = (key: string) =>
    serverErrors[key] ?? ((submitted || touched.has(key)) ? problems[key] : undefined);
  /** Whether one input of a row is the one at fault (the first one when the server said so). */
  const invalid = (key: string, part: RowPart, first: boolean) =>
    !!errorOf(key) &&
    (serverErrors[key]
      ? (serverParts[key] ? serverParts[key] === part : first)
      : parts[key] === part);
  const shownErrors = [...new Set([...Object.keys(problems), ...Object.keys(serverErrors)])]
    .filter((key) => errorOf(key));

  const touch = (key: string) => {
    if (!touched.has(key)) setTouched(new Set(touched).add(key));
  };
  const update = (patch: Partial<RunForm>, ...keys: string[]) => {
    setForm({ ...form, ...patch });
    const fresh = keys.filter((key) => !touched.has(key));
    if (fresh.length) setTouched(new Set([...touched, ...fresh]));
    if (keys.some((key) => serverErrors[key])) {
      setServerErrors(
        Object.fromEntries(Object.entries(serverErrors).filter(([key]) => !keys.includes(key))),
      );
    }
  };
  const setRow = (kind: ListKind, i: number, patch: Partial<AnyRow>) => {
    const prop = LIST_PROP[kind];
    const rows = (form[prop] as AnyRow[]).map((row, j) => j === i ? { ...row, ...patch } : row);
    update({ [prop]: rows } as Partial<RunForm>, `${kind}[${i}]`, kind);
  };
  const addRow = (kind: ListKind) => {
    const prop = LIST_PROP[kind];
    update({ [prop]: [...form[prop], emptyRow(kind)] } as Partial<RunForm>);
    requestAnimationFrame(() =>
      body.current?.querySelector<HTMLElement>(
        `[data-section="${kind}"] .ct-run-item:last-of-type :is(input, select)`,
      )?.focus()
    );
  };
  const removeRow = (kind: ListKind, i: number) => {
    // Row errors are keyed by position: drop the server's, the rest are recomputed.
    setServerErrors({});
    const prop = LIST_PROP[kind];
    setForm({ ...form, [prop]: (form[prop] as AnyRow[]).filter((_, j) => j !== i) });
  };
  const controls: FormControls = {
    form,
    update,
    setRow,
    addRow,
    removeRow,
    errorOf,
    invalid,
    networkNames: networks.names,
    networksError: networks.error,
  };
  const summaries = sectionSummaries(form);
  /** Opens the sections holding `keys`, then focuses the first input marked invalid. */
  const reveal = (keys: string[], selector = '[aria-invalid="true"]') => {
    const sections = keys.map(sectionOf).filter((id): id is SectionId => id !== null);
    if (sections.some((id) => !openSections.has(id))) {
      setOpenSections(new Set([...openSections, ...sections]));
    }
    requestAnimationFrame(() => body.current?.querySelector<HTMLElement>(selector)?.focus());
  };

  async function submit(e: Event) {
    e.preventDefault();
    setSubmitted(true);
    setGeneral("");
    if (Object.keys(problems).length) {
      reveal(Object.keys(problems));
      return;
    }
    if (risks.length && !acknowledged) {
      setRiskRefused(true);
      reveal([], 'input[name="acknowledge_risks"]');
      return;
    }
    const { body: request, rows } = toBody(form);
    if (risks.length) request.acknowledge_risks = true;
    setBusy(true);
    setPull(null);
    let pulling: PullState | null = null;
    try {
      const answer = await apiWithProgress<RunResult>(
        "POST",
        "/api/containers/run",
        request,
        (event) => {
          pulling = applyPullLines(pulling ?? initialPull(request.image), [event as PullLine]);
          setPull(pulling);
        },
      );
      onDone({ ...answer, warnings: answer.warnings ?? [] });
    } catch (error) {
      const message = (error as Error).message;
      if (!mounted.current) {
        onFailedAfterClose(message);
        return;
      }
      let at = error instanceof ApiError ? formField(error.field, rows) : null;
      if (!at && error instanceof ApiError) {
        if (error.status === 409 && request.name) at = { key: "name" };
        else if (error.status === 404 && /image/i.test(message)) at = { key: "image" };
      }
      if (error instanceof ApiError && error.field === "acknowledge_risks") setRiskRefused(true);
      if (at) {
        setServerErrors({ [at.key]: fieldMessage(message) });
        setServerParts(at.part ? { [at.key]: at.part } : {});
        reveal([at.key]);
      } else setGeneral(message);
      setPull(null);
    } finally {
      setBusy(false);
    }
  }

  // Rows
  const setEnv = (i: number, patch: Partial<EnvRow>) => setRow("env", i, patch);
  const setPort = (i: number, patch: Partial<PortRow>) => setRow("ports", i, patch);
  const setVolume = (i: number, patch: Partial<VolumeRow>) => setRow("volumes", i, patch);

  return (
    <Modal class="ct-modal ct-run" labelledBy="ct-run-title" onClose={onClose}>
      <form class="ct-modal-inner" onSubmit={submit} noValidate>
        <header class="ct-modal-head">
          <h2 id="ct-run-title">Run a container</h2>
          <button
            type="button"
            class="ct-close"
            aria-label="Close"
            title="Close (Esc)"
            onClick={onClose}
          >
            ×
          </button>
        </header>
        <div class="ct-run-body" ref={body}>
          <div class="ct-run-grid">
            <Field
              label="Image"
              error={errorOf("image")}
              hint="Pulled first if it is not on this node (saved registry logins are used)."
            >
              <input
                name="image"
                data-autofocus
                required
                autocomplete="off"
                spellcheck={false}
                placeholder="nginx:1.27, ghcr.io/org/app:v2"
                value={form.image}
                aria-invalid={!!errorOf("image")}
                onInput={(e) => update({ image: value(e) }, "image")}
                onBlur={() => touch("image")}
              />
            </Field>
            <Field label="Name" optional error={errorOf("name")} hint="Empty: Docker picks one.">
              <input
                name="name"
                autocomplete="off"
                spellcheck={false}
                placeholder="web"
                value={form.name}
                aria-invalid={!!errorOf("name")}
                onInput={(e) => update({ name: value(e) }, "name")}
              />
            </Field>
          </div>

          <Rows
            kind="ports"
            title="Ports"
            addLabel="Add port"
            empty="No published ports."
            onAdd={() => addRow("ports")}
            head={
              <>
                <span>
                  Host IP <span class="muted">(optional)</span>
                </span>
                <span>Host port</span>
                <span />
                <span>Container port</span>
                <span>Protocol</span>
                <span />
              </>
            }
          >
            {form.ports.map((row, i) => (
              <Row key={row.uid} error={errorOf(`ports[${i}]`)} kind="ports">
                <input
                  aria-label={`Host IP of port ${i + 1}`}
                  placeholder="all addresses"
                  value={row.ip}
                  aria-invalid={invalid(`ports[${i}]`, "ip", false)}
                  onInput={(e) =>
                    setPort(i, { ip: value(e) })}
                />
                <input
                  aria-label={`Host port of port ${i + 1}`}
                  inputMode="numeric"
                  placeholder="random"
                  value={row.host}
                  aria-invalid={invalid(`ports[${i}]`, "host", true)}
                  onInput={(e) =>
                    setPort(i, { host: value(e) })}
                />
                <span class="ct-run-arrow" aria-hidden="true">→</span>
                <input
                  aria-label={`Container port of port ${i + 1}`}
                  inputMode="numeric"
                  placeholder="80"
                  value={row.container}
                  aria-invalid={invalid(`ports[${i}]`, "container", false)}
                  onInput={(e) =>
                    setPort(i, { container: value(e) })}
                />
                <select
                  aria-label={`Protocol of port ${i + 1}`}
                  value={row.proto}
                  onChange={(e) => setPort(i, { proto: value(e) as Proto })}
                >
                  <option value="tcp">tcp</option>
                  <option value="udp">udp</option>
                  <option value="sctp">sctp</option>
                </select>
                <RemoveButton
                  label={`Remove port ${i + 1}`}
                  onClick={() => removeRow("ports", i)}
                />
              </Row>
            ))}
          </Rows>

          <Rows
            kind="volumes"
            title="Volumes"
            addLabel="Add volume"
            empty="No volumes or bind mounts."
            onAdd={() => addRow("volumes")}
            head={
              <>
                <span>Volume name or host path</span>
                <span />
                <span>Container path</span>
                <span />
                <span />
              </>
            }
          >
            {form.volumes.map((row, i) => (
              <Row key={row.uid} error={errorOf(`volumes[${i}]`)} kind="volumes">
                <input
                  aria-label={`Source of volume ${i + 1}`}
                  placeholder="data or /srv/data"
                  spellcheck={false}
                  value={row.source}
                  aria-invalid={invalid(`volumes[${i}]`, "source", true)}
                  onInput={(e) =>
                    setVolume(i, { source: value(e) })}
                />
                <span class="ct-run-arrow" aria-hidden="true">→</span>
                <input
                  aria-label={`Container path of volume ${i + 1}`}
                  placeholder="/var/lib/data"
                  spellcheck={false}
                  value={row.target}
                  aria-invalid={invalid(`volumes[${i}]`, "target", false)}
                  onInput={(e) =>
                    setVolume(i, { target: value(e) })}
                />
                <label class="ct-check">
                  <input
                    type="checkbox"
                    checked={row.readOnly}
                    onChange={(e) =>
                      setVolume(i, { readOnly: (e.target as HTMLInputElement).checked })}
                  />
                  read-only
                </label>
                <RemoveButton
                  label={`Remove volume ${i + 1}`}
                  onClick={() =>
                    removeRow("volumes", i)}
                />
              </Row>
            ))}
          </Rows>

          <Rows
            kind="env"
            title="Environment"
            addLabel="Add variable"
            empty="No variables. Tip: paste KEY=VALUE lines into a name field to add several."
            onAdd={() => addRow("env")}
            head={
              <>
                <span>Name</span>
                <span />
                <span>Value</span>
                <span />
              </>
            }
          >
            {form.env.map((row, i) => (
              <Row key={row.uid} error={errorOf(`env[${i}]`)} kind="env">
                <input
                  aria-label={`Name of variable ${i + 1}`}
                  class="mono"
                  placeholder="KEY"
                  spellcheck={false}
                  value={row.key}
                  aria-invalid={invalid(`env[${i}]`, "key", true)}
                  onInput={(e) => {
                    const text = value(e);
                    const at = text.indexOf("=");
                    // "KEY=VALUE" typed into the name field: split it.
                    if (at > 0 && !row.value) {
                      setEnv(i, { key: text.slice(0, at), value: text.slice(at + 1) });
                    } else setEnv(i, { key: text });
                  }}
                  onPaste={(e) => {
                    const rows = parseEnvLines(e.clipboardData?.getData("text") ?? "");
                    if (!rows || rows.length < 2) return;
                    e.preventDefault();
                    const added = rows.map((r) => ({ ...r, uid: uid() }));
                    const env = [...form.env];
                    env.splice(i, 1, ...added);
                    update({ env });
                  }}
                />
                <span class="ct-run-arrow" aria-hidden="true">=</span>
                <input
                  aria-label={`Value of variable ${i + 1}`}
                  class="mono"
                  placeholder="value"
                  spellcheck={false}
                  autocomplete="off"
                  value={row.value}
                  onInput={(e) => setEnv(i, { value: value(e) })}
                />
                <RemoveButton
                  label={`Remove variable ${i + 1}`}
                  onClick={() => removeRow("env", i)}
                />
              </Row>
            ))}
          </Rows>

          <div class="ct-run-grid">
            <Field label="Restart policy" group error={errorOf("restart_policy")}>
              <div class="ct-run-inline">
                <select
                  name="restart_policy"
                  aria-label="Restart policy"
                  value={form.restart}
                  aria-invalid={!!errorOf("restart_policy")}
                  onChange={(e) => update({ restart: value(e) as RestartName }, "restart_policy")}
                >
                  <option value="no">no</option>
                  <option value="always">always</option>
                  <option value="unless-stopped">unless-stopped</option>
                  <option value="on-failure">on-failure</option>
                </select>
                {form.restart === "on-failure" && (
                  <span class="ct-run-retries-label">
                    max retries
                    <input
                      aria-label="Max retries"
                      class="ct-run-retries"
                      inputMode="numeric"
                      placeholder="no limit"
                      value={form.retries}
                      onInput={(e) => update({ retries: value(e) }, "restart_policy")}
                    />
                  </span>
                )}
              </div>
            </Field>
            <Field
              label="Command"
              optional
              error={errorOf("cmd")}
              hint={CMD_HINT}
            >
              <input
                name="cmd"
                class="mono"
                autocomplete="off"
                spellcheck={false}
                placeholder="image default"
                value={form.cmd}
                aria-invalid={!!errorOf("cmd")}
                onInput={(e) => update({ cmd: value(e) }, "cmd")}
              />
            </Field>
          </div>

          {SECTIONS.map(({ id, title, Fields }) => (
            <Section
              key={id}
              id={id}
              title={title}
              summary={summaries[id]}
              open={openSections.has(id)}
              invalid={shownErrors.some((key) => sectionOf(key) === id)}
              onToggle={(open) => {
                const next = new Set(openSections);
                if (open) next.add(id);
                else next.delete(id);
                setOpenSections(next);
              }}
            >
              <Fields c={controls} />
            </Section>
          ))}

          {risks.length > 0 && (
            <RiskBox
              risks={risks}
              acknowledged={acknowledged}
              refused={riskRefused}
              onAcknowledge={(checked) => {
                setAcknowledged(checked);
                setRiskRefused(false);
              }}
            />
          )}
        </div>
        <footer class="ct-modal-foot">
          {pull && <PullProgressLine pull={pull} />}
          {general && <p class="form-error ct-run-general" role="alert">{general}</p>}
          {submitted && !general && Object.keys(problems).length > 0 && (
            <p class="form-error ct-run-general">Fix the fields marked in red.</p>
          )}
          <div class="ct-modal-actions">
            <button
              type="button"
              class="btn"
              disabled={busy}
              onClick={() => {
                setForm(emptyForm());
                setSubmitted(false);
                setTouched(new Set());
                setServerErrors({});
                setGeneral("");
              }}
            >
              Reset
            </button>
            <button
              type="button"
              class="btn"
              onClick={onClose}
              title={busy
                ? "The panel finishes the pull and starts the container; the result shows in a toast."
                : undefined}
            >
              {busy ? "Continue in background" : "Cancel"}
            </button>
            <button type="submit" class="btn primary" disabled={busy}>
              {busy ? (pull ? "Pulling…" : "Starting…") : "Run"}
            </button>
          </div>
        </footer>
      </form>
    </Modal>
  );
}

/** The form's risky settings and the acknowledgement a run with them needs. */
function RiskBox(
  { risks, acknowledged, refused, onAcknowledge }: {
    risks: Risk[];
    acknowledged: boolean;
    refused: boolean;
    onAcknowledge: (checked: boolean) => void;
  },
) {
  return (
    <div class="notice error ct-run-risks" role="group" aria-labelledby="ct-run-risks-title">
      <p id="ct-run-risks-title">
        <strong>
          This container asks for {risks.length === 1 ? "a risky setting" : "risky settings"}:
        </strong>
      </p>
      <ul>
        {risks.map((risk) => (
          <li key={risk.message}>
            {risk.setting === "volumes" && risk.index !== undefined && (
              <span class="muted">Volume {risk.index + 1}:</span>
            )} {risk.message}
          </li>
        ))}
      </ul>
      <label class="ct-check">
        <input
          type="checkbox"
          name="acknowledge_risks"
          checked={acknowledged}
          aria-invalid={refused && !acknowledged}
          onChange={(e) => onAcknowledge((e.target as HTMLInputElement).checked)}
        />
        I understand these risks and want to run it anyway
      </label>
      {refused && !acknowledged && (
        <p class="form-error" role="alert">Tick the box above to run with these settings.</p>
      )}
    </div>
  );
}

/** The image's pull, in one line: the overall bar and how far it is. */
function PullProgressLine({ pull }: { pull: PullState }) {
  const totals = pullTotals(pull);
  const detail = totals.layers > 0
    ? `${totals.finished}/${totals.layers} layers` +
      (totals.size > 0 ? ` · ${formatBytes(totals.downloaded)} of ${formatBytes(totals.size)}` : "")
    : pull.status;
  return (
    <div class="ct-run-pull" role="status" aria-live="polite">
      <span class="ct-run-pull-text truncate" title={`${pull.reference}: ${pull.status}`}>
        Pulling <span class="mono">{pull.reference}</span> · {detail}
      </span>
      <progress
        class="im-bar"
        aria-label="Pull progress"
        max={1}
        value={totals.fraction ?? undefined}
      />
    </div>
  );
}
