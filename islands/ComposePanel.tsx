/**
 * The Compose tab: the stacks on the host (start, stop, restart, down; the panel's own open
 * in the editor), an editor for a compose file and its .env with a live preview of what a
 * deploy would do (debounced as you type), warnings that jump to their line, and "Deploy
 * stack" with per-service progress. Viewers can preview and see the stacks but get no
 * control that changes anything.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Notice, type NoticeValue } from "./shared/Notice.tsx";
import { api, ApiError } from "./api.ts";
import { enginePath } from "./env.ts";
import { TitledModal } from "./shared/TitledModal.tsx";
import { DeployBox } from "./compose/DeployBox.tsx";
import { applyDeployLines, type DeployState, initialDeploy } from "./compose/deploy.ts";
import { Editor, type EditorApi, type LoadedFile } from "./compose/Editor.tsx";
import { Files } from "./compose/Files.tsx";
import { PreviewView } from "./compose/Preview.tsx";
import { Stacks } from "./compose/Stacks.tsx";
import { SwarmStacks } from "./compose/SwarmStacks.tsx";
import { lineCount, lineOfMessage, nameFromYaml, PROJECT_NAME } from "./compose/text.ts";
import { readNdjson } from "./ndjson.ts";
import { useLive } from "./shared/live.ts";
import { previewBody as bodyOf, previewKey as keyOf } from "./compose/request.ts";
import type {
  ComposeSource,
  DeployLine,
  ProjectPreview,
  Role,
  StackSummary,
  WarningKind,
} from "./compose/types.ts";

export interface ComposePanelProps {
  /** The signed-in user's role; null makes the island ask /api/auth/me. */
  role: Role | null;
  /** The stacks as the server read them; null to load them in the browser. */
  stacks: StackSummary[] | null;
}

interface PreviewError {
  key: string;
  message: string;
  field?: string;
  line: number | null;
}

const PREVIEW_DELAY_MS = 600;
const BASE = "/api/containers/compose";

const SEVERITY: Record<WarningKind | "error", number> = {
  error: 5,
  risk: 4,
  interpolation: 3,
  unsupported: 2,
  unknown: 2,
  host: 2,
  obsolete: 1,
};

export function ComposePanel({ role: initialRole, stacks: initialStacks }: ComposePanelProps) {
  const [role, setRole] = useState<Role>(initialRole ?? "viewer");
  const isAdmin = role === "admin";

  // The editor.
  const [yaml, setYaml] = useState("");
  const [env, setEnv] = useState("");
  const [envOpen, setEnvOpen] = useState(false);
  /** The env_file texts of the stack opened from the list, sent back with its file. */
  const [envFiles, setEnvFiles] = useState<Record<string, string> | null>(null);
  const [profiles, setProfiles] = useState<string[]>([]);
  const [projectInput, setProjectInput] = useState("");
  const [projectTouched, setProjectTouched] = useState(false);
  /** The stack the editor holds (opened, or deployed from here). */
  const [current, setCurrent] = useState<string | null>(null);
  const [baseline, setBaseline] = useState({ yaml: "", env: "" });
  const [editorNotice, setEditorNotice] = useState<NoticeValue | null>(null);
  const [replacing, setReplacing] = useState<
    { kind: "open"; name: string } | { kind: "new" } | null
  >(
    null,
  );
  const editorApi = useRef<EditorApi | null>(null);

  // The preview.
  const [preview, setPreview] = useState<{ key: string; data: ProjectPreview } | null>(null);
  const [previewError, setPreviewError] = useState<PreviewError | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const previewSeq = useRef(0);

  // The deploy.
  const [acknowledged, setAcknowledged] = useState(false);
  const [riskRefused, setRiskRefused] = useState(false);
  const [removeOrphans, setRemoveOrphans] = useState(false);
  const [deploy, setDeploy] = useState<DeployState | null>(null);
  const [deploying, setDeploying] = useState(false);

  // The stacks.
  const [stacks, setStacks] = useState<StackSummary[]>(initialStacks ?? []);
  const [stacksNotice, setStacksNotice] = useState<NoticeValue | null>(null);
  const [refreshing, setRefreshing] = useState(false);

  const mounted = useRef(true);
  const nameInFile = useMemo(() => nameFromYaml(yaml), [yaml]);
  const projectValue = projectTouched ? projectInput : (nameInFile ?? "");
  const project = projectValue.trim() || nameInFile || "";
  const projectInvalid = project !== "" && !PROJECT_NAME.test(project);
  const source: ComposeSource = { yaml, env, project, envFiles, profiles, removeOrphans };
  const key = keyOf(source);
  const latest = useRef({ source, key });
  latest.current = { source, key };

  const fresh = preview !== null && preview.key === key;
  const currentError = previewError !== null && previewError.key === key ? previewError : null;
  const dirty = yaml !== baseline.yaml || env !== baseline.env;

  async function loadStacks() {
    const answer = await api<{ stacks: StackSummary[] }>("GET", `${BASE}/stacks`);
    if (mounted.current) setStacks(answer.stacks);
  }

  async function refreshStacks() {
    setRefreshing(true);
    try {
      await loadStacks();
    } catch (error) {
      setStacksNotice({
        kind: "error",
        text: `Could not read the stacks: ${(error as Error).message}`,
      });
    } finally {
      if (mounted.current) setRefreshing(false);
    }
  }

  // A stack's state is its containers': any start, stop, die, create or destroy (from the
  // panel or `docker compose` on the host) reloads the list.
  useLive(
    (event) => event.kind === "container",
    () => void loadStacks().catch(() => {}),
  );

  useEffect(() => {
    mounted.current = true;
    if (initialRole === null) {
      api<{ user: { role: Role } }>("GET", "/api/auth/me")
        .then((answer) => setRole(answer.user.role))
        .catch(() => setRole("viewer"));
    }
    if (initialStacks === null) refreshStacks();
    const onVisible = () => {
      if (document.visibilityState === "visible") loadStacks().catch(() => {});
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      mounted.current = false;
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, []);

  /** Resolves to the field the server's error names, if it failed. */
  async function runPreview(from = latest.current, attempt = 0): Promise<string | undefined> {
    const id = ++previewSeq.current;
    setPreviewing(true);
    try {
      const data = await api<ProjectPreview>("POST", `${BASE}/preview`, bodyOf(from.source));
      if (id !== previewSeq.current || !mounted.current) return;
      setPreview({ key: from.key, data });
      setPreviewError(null);
    } catch (error) {
      if (id !== previewSeq.current || !mounted.current) return;
      // One preview at a time per user (and a few in all): an earlier one still running
      // answers 429. Try again shortly, unless the text changed meanwhile.
      if (error instanceof ApiError && error.status === 429 && attempt < 3) {
        await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
        if (id === previewSeq.current && mounted.current) return runPreview(from, attempt + 1);
        return;
      }
      const message = (error as Error).message;
      const field = error instanceof ApiError ? error.field : undefined;
      setPreviewError({ key: from.key, message, field, line: lineOfMessage(message) });
      return field ?? "";
    } finally {
      if (id === previewSeq.current && mounted.current) setPreviewing(false);
    }
  }

  // Auto-preview once typing stops.
  useEffect(() => {
    if (!yaml.trim()) {
      previewSeq.current++;
      setPreview(null);
      setPreviewError(null);
      setPreviewing(false);
      return;
    }
    if (projectInvalid) return;
    const timer = setTimeout(() => runPreview(), PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [key]);

  const risks = fresh ? preview.data.risks : [];
  const riskKey = risks.map((risk) => `${risk.line}:${risk.message}`).join("|");
  useEffect(() => {
    setAcknowledged(false);
    setRiskRefused(false);
  }, [riskKey]);
  useEffect(() => setRemoveOrphans(false), [project]);

  async function previewNow() {
    if (!yaml.trim()) {
      setEditorNotice({
        kind: "error",
        text: "The editor is empty: paste or drop a compose file.",
      });
      return;
    }
    if (projectInvalid) {
      document.getElementById("cp-project")?.focus();
      return;
    }
    // Asked for (not while typing): a missing project name takes the focus to its field.
    if (await runPreview() === "project") document.getElementById("cp-project")?.focus();
  }

  function jump(line: number) {
    editorApi.current?.selectLine(line);
  }

  function reset(
    loaded?: {
      yaml: string;
      env: string;
      project: string | null;
      envFiles?: Record<string, string> | null;
      profiles?: string[];
    },
  ) {
    setYaml(loaded?.yaml ?? "");
    setEnvFiles(loaded?.envFiles && Object.keys(loaded.envFiles).length ? loaded.envFiles : null);
    setProfiles(loaded?.profiles ?? []);
    setEnv(loaded?.env ?? "");
    setEnvOpen(Boolean(loaded?.env));
    setProjectInput(loaded?.project ?? "");
    setProjectTouched(Boolean(loaded?.project));
    setCurrent(loaded?.project ?? null);
    setBaseline({ yaml: loaded?.yaml ?? "", env: loaded?.env ?? "" });
    setPreview(null);
    setPreviewError(null);
    setDeploy(null);
    setAcknowledged(false);
    setRemoveOrphans(false);
    setEditorNotice(null);
  }

  async function openStack(name: string, force = false) {
    if (deploying) return;
    if (dirty && !force && (yaml.trim() || env.trim())) {
      setReplacing({ kind: "open", name });
      return;
    }
    setStacksNotice(null);
    try {
      const files = await api<{
        project: string;
        yaml: string;
        env: string | null;
        env_files?: Record<string, string>;
        profiles?: string[];
      }>(
        "GET",
        `${BASE}/stacks/${encodeURIComponent(name)}`,
      );
      reset({
        yaml: files.yaml,
        env: files.env ?? "",
        project: files.project,
        envFiles: files.env_files,
        profiles: files.profiles,
      });
      const stored = Object.keys(files.env_files ?? {});
      setEditorNotice({
        kind: "ok",
        text: `Opened ${files.project}: edit the file and deploy it again to apply the changes.${
          stored.length
            ? ` Its env_file${stored.length === 1 ? "" : "s"} (${
              stored.join(", ")
            }) stored with the stack will be sent again.`
            : ""
        }`,
      });
      requestAnimationFrame(() => {
        document.getElementById("cp-editor-card")?.scrollIntoView({ block: "start" });
        editorApi.current?.focus();
      });
    } catch (error) {
      setStacksNotice({ kind: "error", text: `Open ${name}: ${(error as Error).message}` });
    }
  }

  function newStack(force = false) {
    if (deploying) return;
    if (dirty && !force && (yaml.trim() || env.trim())) {
      setReplacing({ kind: "new" });
      return;
    }
    reset();
    editorApi.current?.focus();
  }

  function onFiles(files: LoadedFile[]) {
    const loaded: string[] = [];
    for (const file of files) {
      if (file.kind === "env") {
        setEnv(file.text);
        setEnvOpen(true);
      } else {
        setYaml(file.text);
        setEnvFiles(null);
        // A new file: its own name: (or the field) names the project, not the open stack.
        setProjectInput("");
        setProjectTouched(false);
        setCurrent(null);
        setDeploy(null);
      }
      loaded.push(
        `${file.name} (${lineCount(file.text)} ${lineCount(file.text) === 1 ? "line" : "lines"})`,
      );
    }
    if (loaded.length) setEditorNotice({ kind: "ok", text: `Loaded ${loaded.join(" and ")}.` });
  }

  async function startDeploy() {
    if (!fresh || deploying) return;
    const from = latest.current;
    const plan = preview.data;
    setDeploying(true);
    setRiskRefused(false);
    let state = initialDeploy(plan.project, plan.services.map((service) => service.name));
    const show = (next: DeployState) => {
      state = next;
      if (mounted.current) setDeploy(next);
    };
    show(state);
    const reveal = () =>
      requestAnimationFrame(() =>
        document.getElementById("cp-deploy")?.scrollIntoView({ block: "nearest" })
      );
    reveal();
    try {
      const response = await fetch(enginePath(`${BASE}/deploy`), {
        method: "POST",
        headers: {
          Accept: "application/x-ndjson, application/json",
          "Content-Type": "application/json",
        },
        credentials: "same-origin",
        body: JSON.stringify({
          ...bodyOf(from.source),
          acknowledge_risks: plan.risks.length > 0 && acknowledged,
          remove_orphans: removeOrphans,
        }),
      });
      const type = response.headers.get("content-type") ?? "";
      if (!response.ok || !type.includes("ndjson") || !response.body) {
        let error = `The deploy was refused (${response.status})`;
        let field: string | undefined;
        try {
          const data = await response.json();
          if (typeof data?.error === "string") error = data.error;
          field = data?.field;
        } catch {
          // not JSON
        }
        if (response.status === 401) {
          location.href = `/login?${new URLSearchParams({ next: location.pathname })}`;
        }
        if (field === "acknowledge_risks") setRiskRefused(true);
        show(applyDeployLines(state, [{ done: false, error }]));
        return;
      }
      await readNdjson<DeployLine>(
        response.body,
        (lines) => show(applyDeployLines(state, lines)),
        (text) => ({ message: text }),
      );
      if (state.outcome === "connecting" || state.outcome === "deploying") {
        show(applyDeployLines(state, [{
          done: false,
          error:
            "The connection closed before the deploy finished. The server carries on by itself: refresh the stacks in a moment.",
        }]));
      }
      if (state.outcome === "done" && mounted.current) {
        setBaseline({ yaml: from.source.yaml, env: from.source.env });
        setCurrent(state.project);
        setRemoveOrphans(false);
      }
    } catch (error) {
      show(applyDeployLines(state, [{
        done: false,
        error: `Lost the connection to the panel: ${
          (error as Error).message
        }. The server may still finish the deploy: refresh the stacks in a moment.`,
      }]));
    } finally {
      if (mounted.current) {
        setDeploying(false);
        reveal();
        refreshStacks();
        // The preview now shows the containers as they are (create → unchanged).
        if (latest.current.source.yaml.trim()) runPreview();
      }
    }
  }

  // Gutter marks: the file's error and the warnings of a preview of this very text.
  const markers = useMemo(() => {
    const marks = new Map<number, WarningKind | "error">();
    const mark = (line: number | null, kind: WarningKind | "error") => {
      if (line === null) return;
      const had = marks.get(line);
      if (!had || SEVERITY[kind] > SEVERITY[had]) marks.set(line, kind);
    };
    if (fresh) { for (const warning of preview.data.warnings) mark(warning.line, warning.kind); }
    if (currentError) mark(currentError.line, "error");
    return marks;
  }, [fresh, preview, currentError]);

  const blocked = !yaml.trim()
    ? "Write, drop or open a compose file first."
    : projectInvalid
    ? "Fix the project name first."
    : currentError
    ? currentError.field === "project"
      ? "Give the stack a project name first."
      : "Fix the error in the file first."
    : !fresh
    ? "Checking the file…"
    : preview.data.services.length === 0
    ? "The file has no service to deploy."
    : preview.data.risks.length > 0 && !acknowledged
    ? "Acknowledge the risks above to deploy."
    : null;

  const summary = fresh ? planSummary(preview.data) : null;
  const previewState = !yaml.trim()
    ? "empty"
    : currentError
    ? "error"
    : fresh
    ? "fresh"
    : "pending";

  const goToErrorLine = currentError?.line != null && (
    <button
      type="button"
      class="btn small cp-goto"
      onClick={() => jump(currentError.line!)}
    >
      Go to line {currentError.line}
    </button>
  );
  return (
    <div class="cp-panel">
      <Stacks
        stacks={stacks}
        isAdmin={isAdmin}
        current={current}
        refreshing={refreshing}
        notice={stacksNotice}
        onDismissNotice={() => setStacksNotice(null)}
        onRefresh={refreshStacks}
        onOpen={(name) => openStack(name)}
        onDone={(text) => {
          setStacksNotice({ kind: "ok", text });
          loadStacks().catch(() => {});
          if (latest.current.source.yaml.trim()) runPreview();
        }}
        onError={(text) => {
          setStacksNotice({ kind: "error", text });
          loadStacks().catch(() => {});
        }}
      />

      <SwarmStacks yaml={yaml} env={env} project={project} isAdmin={isAdmin} onJump={jump} />

      <div class={`cp-workspace${isAdmin ? "" : " is-viewer"}`}>
        <section class="card cp-editor-card" id="cp-editor-card" aria-labelledby="cp-editor-title">
          <div class="cp-card-title">
            <h2 id="cp-editor-title" class="truncate">
              {current
                ? (
                  <>
                    Stack <span class="mono">{current}</span>
                  </>
                )
                : "Compose file"}
            </h2>
            {current && dirty && (
              <span class="cp-badge badge-dirty" title="Changes not deployed yet">edited</span>
            )}
            <div class="cp-card-action">
              <button
                type="button"
                class="btn small"
                onClick={() => editorApi.current?.openPicker()}
              >
                Open file…
              </button>
              <button
                type="button"
                class="btn small"
                disabled={deploying || (!yaml && !env && !current)}
                onClick={() => newStack()}
              >
                New
              </button>
            </div>
          </div>

          <ProjectField
            value={projectValue}
            nameInFile={nameInFile}
            touched={projectTouched}
            invalid={projectInvalid}
            empty={yaml.trim() === ""}
            serverError={currentError?.field === "project" ? currentError.message : null}
            onInput={(value) => {
              setProjectInput(value);
              setProjectTouched(true);
            }}
          />

          <Editor
            yaml={yaml}
            onYaml={(text) => {
              setYaml(text);
              if (editorNotice?.kind === "error") setEditorNotice(null);
            }}
            env={env}
            onEnv={setEnv}
            envOpen={envOpen}
            onEnvOpen={setEnvOpen}
            markers={markers}
            onFiles={onFiles}
            onFileError={(text) => setEditorNotice({ kind: "error", text })}
            onSubmit={previewNow}
            apiRef={editorApi}
          />

          {editorNotice && (
            <Notice
              notice={editorNotice}
              class="cp-notice"
              onDismiss={() => setEditorNotice(null)}
            />
          )}

          <div class="cp-editor-actions">
            <button
              type="button"
              class="btn"
              disabled={!yaml.trim() || previewing}
              onClick={previewNow}
            >
              {previewing ? "Previewing…" : "Preview"}
            </button>
            <span class="muted cp-small" aria-live="polite">
              {previewing
                ? "Checking the file…"
                : previewState === "fresh"
                ? "The preview matches the editor."
                : previewState === "pending"
                ? "The preview follows as you type."
                : ""}
            </span>
          </div>

          <Files
            project={project}
            isAdmin={isAdmin}
            onChanged={() => {
              if (latest.current.source.yaml.trim()) runPreview();
            }}
          />
        </section>

        {isAdmin && (
          <DeployBox
            project={project}
            risks={risks}
            acknowledged={acknowledged}
            onAcknowledge={setAcknowledged}
            riskRefused={riskRefused}
            blocked={blocked}
            deploying={deploying}
            deploy={deploy}
            summary={summary}
            onDeploy={startDeploy}
            onDismiss={() => setDeploy(null)}
            onJump={jump}
          />
        )}

        <section
          class="card cp-preview"
          aria-labelledby="cp-preview-title"
          data-state={previewState}
        >
          <div class="cp-card-title">
            <h2 id="cp-preview-title">Preview</h2>
            <span class={`cp-preview-state state-${previewing ? "busy" : previewState}`}>
              {previewing
                ? "Updating…"
                : previewState === "fresh"
                ? "Up to date"
                : previewState === "pending"
                ? preview ? "Out of date" : ""
                : previewState === "error"
                ? "Error"
                : ""}
            </span>
          </div>
          {currentError && currentError.field !== "project" && (
            <div class="notice error cp-preview-error" role="alert">
              <strong>The file cannot be deployed.</strong>{" "}
              <span class="cp-error-text">{currentError.message}</span>
              {goToErrorLine}
            </div>
          )}
          {currentError && currentError.field === "project" && (
            <div class="notice im-warn cp-preview-error" role="status">
              <p class="cp-error-text">{currentError.message}</p>
              {goToErrorLine}
            </div>
          )}
          {preview
            ? (
              <PreviewView
                preview={preview.data}
                stale={!fresh}
                isAdmin={isAdmin}
                removeOrphans={removeOrphans}
                onRemoveOrphans={setRemoveOrphans}
                selectedProfiles={profiles}
                onProfiles={setProfiles}
                onJump={jump}
              />
            )
            : !currentError && (
              <div class="cp-empty-small cp-preview-empty">
                <p class="cp-empty-title">
                  {yaml.trim() ? "Reading the file…" : "Nothing to preview yet."}
                </p>
                <p class="muted cp-small">
                  {yaml.trim()
                    ? "The services appear here in the order they deploy."
                    : isAdmin
                    ? "Paste a compose file into the editor, drop one on it, or open one of your stacks. The preview follows as you type."
                    : "Paste a compose file into the editor or drop one on it to see what it would deploy."}
                </p>
              </div>
            )}
        </section>
      </div>

      {replacing && (
        <TitledModal
          id="cp-replace"
          class="im-confirm"
          title="Discard the changes?"
          onClose={() => setReplacing(null)}
          footer={
            <div class="im-modal-actions">
              <button type="button" class="btn ghost-dark" onClick={() => setReplacing(null)}>
                Keep editing
              </button>
              <button
                type="button"
                class="btn danger"
                data-autofocus
                onClick={() => {
                  const what = replacing;
                  setReplacing(null);
                  if (what.kind === "open") openStack(what.name, true);
                  else newStack(true);
                }}
              >
                {replacing.kind === "open" ? `Discard and open ${replacing.name}` : "Discard"}
              </button>
            </div>
          }
        >
          <p>
            The editor holds changes that are not deployed. {replacing.kind === "open"
              ? "Opening another stack replaces them."
              : "Starting a new file clears them."}
          </p>
        </TitledModal>
      )}
    </div>
  );
}

function ProjectField(
  { value, nameInFile, touched, invalid, empty, serverError, onInput }: {
    value: string;
    nameInFile: string | null;
    touched: boolean;
    invalid: boolean;
    empty: boolean;
    serverError: string | null;
    onInput: (value: string) => void;
  },
) {
  const missing = !empty && !value.trim() && !nameInFile;
  const error = invalid
    ? "Up to 64 letters, digits, - and _, starting with a letter or digit."
    : serverError;
  const hint = error ??
    (missing
      ? "Required: the file has no name:, so the stack needs one here."
      : nameInFile && !touched
      ? "From name: in the file."
      : nameInFile && value.trim() && value.trim() !== nameInFile
      ? `Overrides name: ${nameInFile} in the file.`
      : "Names the containers, networks and volumes: <project>-<service>-1.");
  return (
    <div class={`cp-project-field${missing || error ? " needs-attention" : ""}`}>
      <label for="cp-project">Project name</label>
      <input
        id="cp-project"
        name="project"
        class="mono"
        autocomplete="off"
        spellcheck={false}
        autocapitalize="off"
        placeholder={nameInFile ?? "my-stack"}
        value={value}
        required={!nameInFile}
        aria-invalid={error ? "true" : undefined}
        aria-describedby="cp-project-hint"
        onInput={(e) => onInput((e.target as HTMLInputElement).value)}
      />
      <p
        id="cp-project-hint"
        class={error ? "cp-field-error" : missing ? "cp-field-required" : "muted cp-small"}
      >
        {hint}
      </p>
    </div>
  );
}

function planSummary(plan: ProjectPreview): string {
  const count = { create: 0, recreate: 0, unchanged: 0, start: 0, restart: 0, remove: 0 };
  for (const service of plan.services) count[service.action]++;
  const parts: string[] = [];
  if (count.create) parts.push(`creates ${count.create}`);
  if (count.recreate) parts.push(`recreates ${count.recreate}`);
  if (count.start) parts.push(`starts ${count.start}`);
  if (count.restart) parts.push(`restarts ${count.restart}`);
  if (count.remove) parts.push(`scales down ${count.remove}`);
  if (count.unchanged) parts.push(`${count.unchanged} unchanged`);
  const networks = plan.networks.filter((n) => !n.external && !n.exists).length;
  const volumes = plan.volumes.filter((v) => !v.external && !v.exists).length;
  if (networks) parts.push(`${networks} new ${networks === 1 ? "network" : "networks"}`);
  if (volumes) parts.push(`${volumes} new ${volumes === 1 ? "volume" : "volumes"}`);
  const pulls = plan.services.filter((s) => !s.image_local).length;
  if (pulls) parts.push(`${pulls} ${pulls === 1 ? "image" : "images"} to pull`);
  return `${plan.project}: ${parts.join(", ")}`;
}
