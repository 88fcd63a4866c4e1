/** The Run dialog's building blocks: a labelled field, a list of rows, a collapsible section. */
import type { ComponentChildren } from "preact";

export function value(e: Event): string {
  return (e.target as HTMLInputElement | HTMLSelectElement).value;
}

export function Field(
  { label, optional, error, hint, group, children }: {
    label: string;
    optional?: boolean;
    error?: string;
    hint?: string;
    /** Several controls: a labelled group instead of one <label>. */
    group?: boolean;
    children: ComponentChildren;
  },
) {
  const Tag = group ? "div" : "label";
  return (
    <Tag
      class={`ct-field${error ? " invalid" : ""}`}
      role={group ? "group" : undefined}
      aria-label={group ? label : undefined}
    >
      <span class="ct-field-label">
        {label}
        {optional && <span class="muted">(optional)</span>}
      </span>
      {children}
      {error
        ? <span class="ct-field-error" role="alert">{error}</span>
        : hint && <span class="ct-field-hint muted">{hint}</span>}
    </Tag>
  );
}

/** A list of rows (ports, networks, labels, ...) with its head, an add button and a list-wide error. */
export function Rows(
  { kind, title, bare, addLabel, empty, onAdd, head, error, children }: {
    kind: string;
    title: string;
    /** Alone in its section: no box, and the title only for screen readers. */
    bare?: boolean;
    addLabel: string;
    empty: string;
    onAdd: () => void;
    head: ComponentChildren;
    error?: string;
    children: ComponentChildren[];
  },
) {
  return (
    <fieldset
      class={`ct-run-rows ct-run-${kind}${bare ? " bare" : ""}${error ? " invalid" : ""}`}
      data-section={kind}
      aria-label={bare ? title : undefined}
    >
      {!bare && <legend>{title}</legend>}
      {children.length > 0
        ? (
          <>
            <div class="ct-run-row ct-run-row-head" aria-hidden="true">{head}</div>
            {children}
          </>
        )
        : <p class="muted ct-run-empty">{empty}</p>}
      {error && <p class="ct-field-error ct-run-rows-error" role="alert">{error}</p>}
      <button type="button" class="btn small ct-run-add" onClick={onAdd}>+ {addLabel}</button>
    </fieldset>
  );
}

export function Row(
  { error, kind, children }: { error?: string; kind: string; children: ComponentChildren },
) {
  return (
    <div class={`ct-run-item${error ? " invalid" : ""}`} data-kind={kind}>
      <div class="ct-run-row">{children}</div>
      {error && <p class="ct-field-error" role="alert">{error}</p>}
    </div>
  );
}

export function RemoveButton({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <button type="button" class="ct-row-remove" aria-label={label} title={label} onClick={onClick}>
      ×
    </button>
  );
}

/**
 * A collapsible group of settings. Closed, its summary says what is set in it, and that it
 * has a problem.
 */
export function Section(
  { id, title, summary, open, invalid, onToggle, children }: {
    id: string;
    title: string;
    summary: string;
    open: boolean;
    invalid: boolean;
    onToggle: (open: boolean) => void;
    children: ComponentChildren;
  },
) {
  return (
    <details
      class={`ct-run-section${invalid ? " invalid" : ""}`}
      data-run-section={id}
      open={open}
      onToggle={(e) => {
        const now = (e.currentTarget as HTMLDetailsElement).open;
        if (now !== open) onToggle(now);
      }}
    >
      <summary>
        <span class="ct-run-section-title">{title}</span>
        {invalid && <span class="ct-run-section-problem">needs a fix</span>}
        <span class="ct-run-section-summary muted truncate" title={summary || undefined}>
          {summary || "not set"}
        </span>
      </summary>
      <div class="ct-run-section-body">{children}</div>
    </details>
  );
}
