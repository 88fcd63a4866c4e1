/**
 * "Deploy stack": the risk acknowledgement the server requires when the file has risky
 * settings, the button (with why it is disabled), and the live progress of a deploy: one
 * row per service with a spinner, check or cross, a bar while its image is pulled, and
 * the result or the error naming the service.
 */
import { type DeployState, pullFraction, rowText, type ServiceRow } from "./deploy.ts";
import { warningText } from "./Preview.tsx";
import type { ComposeWarning } from "./types.ts";
import { pagePath } from "../env.ts";

export interface DeployBoxProps {
  project: string;
  risks: ComposeWarning[];
  acknowledged: boolean;
  onAcknowledge: (value: boolean) => void;
  /** Highlights the acknowledgement (the server refused without it). */
  riskRefused: boolean;
  /** Why the button is disabled, or null when it is enabled. */
  blocked: string | null;
  deploying: boolean;
  deploy: DeployState | null;
  summary: string | null;
  onDeploy: () => void;
  onDismiss: () => void;
  onJump: (line: number) => void;
}

export function DeployBox(props: DeployBoxProps) {
  const { risks, acknowledged, deploying, deploy, blocked } = props;
  return (
    <section class="card cp-deploy" id="cp-deploy" aria-labelledby="cp-deploy-title">
      <div class="cp-card-title">
        <h2 id="cp-deploy-title">Deploy</h2>
        {props.summary && <span class="muted cp-small truncate">{props.summary}</span>}
      </div>
      {risks.length > 0 && (
        <div class={`cp-risks${props.riskRefused && !acknowledged ? " is-refused" : ""}`}>
          <p class="cp-risks-title">
            This file asks for {risks.length === 1 ? "a risky setting" : "risky settings"}:
          </p>
          <ul>
            {risks.map((risk, i) => (
              <li key={i}>
                {risk.line !== null
                  ? (
                    <button
                      type="button"
                      class="cp-linkbtn mono"
                      onClick={() => props.onJump(risk.line!)}
                    >
                      line {risk.line}
                    </button>
                  )
                  : <span class="mono">file</span>}
                {risk.service && <strong>{risk.service}:</strong>} {warningText(risk)}
              </li>
            ))}
          </ul>
          <label class="cp-check">
            <input
              type="checkbox"
              name="acknowledge_risks"
              checked={acknowledged}
              disabled={deploying}
              onChange={(e) =>
                props.onAcknowledge((e.target as HTMLInputElement).checked)}
            />
            I understand these risks and want to deploy anyway
          </label>
        </div>
      )}
      <div class="cp-deploy-row">
        <button
          type="button"
          class="btn primary cp-deploy-btn"
          disabled={blocked !== null || deploying}
          onClick={props.onDeploy}
        >
          {deploying ? "Deploying…" : "Deploy stack"}
        </button>
        <span class="muted cp-small" aria-live="polite">
          {deploying ? `Deploying ${deploy?.project ?? props.project}…` : blocked ?? ""}
        </span>
      </div>
      {deploy && <DeployProgress deploy={deploy} busy={deploying} onDismiss={props.onDismiss} />}
    </section>
  );
}

function DeployProgress(
  { deploy, busy, onDismiss }: { deploy: DeployState; busy: boolean; onDismiss: () => void },
) {
  const finished = deploy.rows.filter((row) => row.phase === "done").length;
  return (
    <div
      class={`progress-box cp-progress is-${deploy.outcome}`}
      data-outcome={deploy.outcome}
      aria-live="polite"
      aria-busy={busy ? "true" : "false"}
    >
      <div class="progress-head">
        <span class="mono progress-subject truncate" title={deploy.project}>
          {deploy.project}
        </span>
        <span class="progress-status">
          {deploy.outcome === "connecting"
            ? "Checking the file…"
            : deploy.outcome === "deploying"
            ? `${finished}/${deploy.rows.length} services up`
            : deploy.outcome === "done"
            ? "Deployed"
            : "Failed"}
        </span>
        {!busy && (
          <button type="button" class="btn small ghost-dark" onClick={onDismiss}>
            Dismiss
          </button>
        )}
      </div>
      {deploy.steps.length > 0 && (
        <ul class="cp-steps muted">
          {deploy.steps.map((step, i) => <li key={i} class="truncate" title={step}>{step}</li>)}
        </ul>
      )}
      {deploy.rows.length > 0 && (
        <ul class="cp-rows" aria-label="Services">
          {deploy.rows.map((row) => <Row key={row.service} row={row} deploy={deploy} />)}
        </ul>
      )}
      {deploy.outcome === "done" && deploy.result && (
        <div class="notice ok cp-result" role="status">
          <strong>Stack {deploy.result.project} is deployed.</strong> {resultText(deploy)}{" "}
          <a href={pagePath("/containers")}>See its containers</a>
        </div>
      )}
      {deploy.outcome === "failed" && deploy.error && (
        <div class="notice error cp-result" role="alert">
          <strong>
            {deploy.failedService
              ? `The deploy failed at ${deploy.failedService}.`
              : "The deploy failed."}
          </strong>{" "}
          <span class="cp-error-text">{deploy.error}</span>
        </div>
      )}
    </div>
  );
}

function resultText(deploy: DeployState): string {
  const result = deploy.result!;
  const count: Record<string, number> = {};
  for (const service of result.services) count[service.action] = (count[service.action] ?? 0) + 1;
  const parts = (["created", "recreated", "started", "restarted", "removed", "unchanged"] as const)
    .filter((action) => count[action])
    .map((action) => `${count[action]} ${action}`);
  let text = parts.length ? `${parts.join(", ")}.` : "";
  if (result.removed_orphans.length) {
    text += ` Removed ${result.removed_orphans.length} orphan${
      result.removed_orphans.length === 1 ? "" : "s"
    }.`;
  } else if (result.orphans.length) {
    text += ` ${result.orphans.length} orphan${
      result.orphans.length === 1 ? "" : "s"
    } left running: ${result.orphans.join(", ")}.`;
  }
  return text;
}

function Row({ row, deploy }: { row: ServiceRow; deploy: DeployState }) {
  const fraction = row.status === "pulling" && row.phase === "active" ? pullFraction(row) : null;
  const text = rowText(row, deploy.result);
  const container = deploy.result?.services.find((s) => s.service === row.service)?.container;
  return (
    <li
      class={`cp-row phase-${row.phase} status-${row.status}`}
      data-service={row.service}
      data-phase={row.phase}
    >
      <span class={`cp-icon icon-${row.phase}`} aria-hidden="true">
        {row.phase === "done" ? "✓" : row.phase === "failed" ? "✕" : ""}
      </span>
      <span class="cp-row-name truncate" title={container ?? row.service}>{row.service}</span>
      <span class="cp-row-status truncate" title={text}>
        <span class="sr-only">{row.phase}:</span>
        {text}
      </span>
      {row.status === "pulling" && row.phase === "active"
        ? (
          <span class="cp-row-bar">
            <progress
              class="im-bar"
              max={1}
              value={fraction ?? undefined}
              aria-label={`Pulling the image of ${row.service}`}
            />
            <span class="mono muted cp-row-detail truncate" title={row.detail}>
              {row.detail}
            </span>
          </span>
        )
        : <span class="mono muted cp-row-detail truncate">{container ?? ""}</span>}
    </li>
  );
}
