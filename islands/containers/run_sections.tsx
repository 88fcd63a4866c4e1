/**
 * The Run dialog's collapsible sections: process, network, resources, security, logging,
 * health and labels. Each renders its inputs from the form and reports changes through the
 * dialog's controls, so validation and server errors work as for the dialog's own fields.
 */
import type { ComponentChildren } from "preact";
import { Field, RemoveButton, Row, Rows, value } from "./run_fields.tsx";
import {
  type AnyRow,
  CAPABILITIES,
  type HealthForm,
  type KeyValueRow,
  type ListKind,
  LOG_DRIVERS,
  type RowPart,
  type RunForm,
} from "./run_form.ts";

export interface FormControls {
  form: RunForm;
  /** Changes the form; `keys` are the error keys the change is about (touched, server error cleared). */
  update: (patch: Partial<RunForm>, ...keys: string[]) => void;
  setRow: (kind: ListKind, i: number, patch: Partial<AnyRow>) => void;
  addRow: (kind: ListKind) => void;
  removeRow: (kind: ListKind, i: number) => void;
  errorOf: (key: string) => string | undefined;
  /** Whether input `part` of row `key` is the one to outline (`first`: when the server said so). */
  invalid: (key: string, part: RowPart, first: boolean) => boolean;
  /** The Engine's networks one can join; null while loading or when listing failed. */
  networkNames: string[] | null;
  networksError: string | null;
}

export function ProcessFields({ c }: { c: FormControls }) {
  const { form, update, errorOf } = c;
  return (
    <div class="ct-run-grid ct-run-grid-3">
      <Field
        label="Entrypoint"
        optional
        error={errorOf("entrypoint")}
        hint="Replaces the image's entrypoint; split like the command. Empty: the image's."
      >
        <input
          name="entrypoint"
          class="mono"
          autocomplete="off"
          spellcheck={false}
          placeholder="image default"
          value={form.entrypoint}
          aria-invalid={!!errorOf("entrypoint")}
          onInput={(e) => update({ entrypoint: value(e) }, "entrypoint")}
        />
      </Field>
      <Field
        label="Working directory"
        optional
        error={errorOf("working_dir")}
        hint="An absolute path in the container."
      >
        <input
          name="working_dir"
          class="mono"
          autocomplete="off"
          spellcheck={false}
          placeholder="/srv/app"
          value={form.workingDir}
          aria-invalid={!!errorOf("working_dir")}
          onInput={(e) => update({ workingDir: value(e) }, "working_dir")}
        />
      </Field>
      <Field
        label="User"
        optional
        error={errorOf("user")}
        hint="Name or uid, optionally :group. Empty: the image's."
      >
        <input
          name="user"
          class="mono"
          autocomplete="off"
          spellcheck={false}
          placeholder="1000:1000"
          value={form.user}
          aria-invalid={!!errorOf("user")}
          onInput={(e) => update({ user: value(e) }, "user")}
        />
      </Field>
    </div>
  );
}

export function NetworkFields({ c }: { c: FormControls }) {
  const { form, update, setRow, errorOf, invalid } = c;
  return (
    <>
      <Rows
        kind="networks"
        title="Networks"
        addLabel="Add network"
        empty="None chosen: the default bridge network."
        error={errorOf("networks")}
        onAdd={() => c.addRow("networks")}
        head={
          <>
            <span>Network (the first is the primary)</span>
            <span>
              Aliases <span class="muted">(optional, comma-separated)</span>
            </span>
            <span />
          </>
        }
      >
        {form.networks.map((row, i) => (
          <Row key={row.uid} error={errorOf(`networks[${i}]`)} kind="networks">
            <NetworkPicker
              label={`Network ${i + 1}`}
              value={row.name}
              names={c.networkNames}
              failed={c.networksError}
              invalid={invalid(`networks[${i}]`, "name", true)}
              onChange={(name) =>
                setRow("networks", i, { name })}
            />
            <input
              aria-label={`Aliases on network ${i + 1}`}
              spellcheck={false}
              autocomplete="off"
              placeholder="aliases: api, api.internal"
              value={row.aliases}
              aria-invalid={invalid(`networks[${i}]`, "aliases", false)}
              onInput={(e) =>
                setRow("networks", i, { aliases: value(e) })}
            />
            <RemoveButton
              label={`Remove network ${i + 1}`}
              onClick={() =>
                c.removeRow("networks", i)}
            />
          </Row>
        ))}
      </Rows>
      {c.networksError && (
        <p class="ct-field-hint muted ct-run-note">
          Could not list the Engine's networks ({c.networksError}): type a network's name.
        </p>
      )}
      <div class="ct-run-grid">
        <Field
          label="Host name"
          optional
          error={errorOf("hostname")}
          hint="Empty: the container's short id."
        >
          <input
            name="hostname"
            autocomplete="off"
            spellcheck={false}
            placeholder="web-1"
            value={form.hostname}
            aria-invalid={!!errorOf("hostname")}
            onInput={(e) => update({ hostname: value(e) }, "hostname")}
          />
        </Field>
      </div>
    </>
  );
}

/** A select of the Engine's networks; a text input when they could not be listed. */
function NetworkPicker(
  { label, value: current, names, failed, invalid, onChange }: {
    label: string;
    value: string;
    names: string[] | null;
    failed: string | null;
    invalid: boolean;
    onChange: (name: string) => void;
  },
) {
  if (failed) {
    return (
      <input
        aria-label={label}
        spellcheck={false}
        autocomplete="off"
        placeholder="network name"
        value={current}
        aria-invalid={invalid}
        onInput={(e) => onChange(value(e))}
      />
    );
  }
  const known = names ?? [];
  return (
    <select
      aria-label={label}
      value={current}
      aria-invalid={invalid}
      onChange={(e) => onChange(value(e))}
    >
      <option value="">{names === null ? "Loading networks…" : "Choose a network…"}</option>
      {current && !known.includes(current) && (
        <option value={current}>{names === null ? current : `${current} (not found)`}</option>
      )}
      {known.map((name) => <option key={name} value={name}>{name}</option>)}
    </select>
  );
}

export function ResourceFields({ c }: { c: FormControls }) {
  const { form, update, errorOf } = c;
  return (
    <div class="ct-run-grid">
      <Field
        label="Memory limit"
        optional
        error={errorOf("memory")}
        hint="A size: 256m, 1g (at least 6m). Empty: no limit."
      >
        <input
          name="memory"
          autocomplete="off"
          spellcheck={false}
          placeholder="no limit"
          value={form.memory}
          aria-invalid={!!errorOf("memory")}
          onInput={(e) => update({ memory: value(e) }, "memory")}
        />
      </Field>
      <Field
        label="CPUs"
        optional
        error={errorOf("cpus")}
        hint="0.5 is half a core, 2 two cores. Empty: no limit."
      >
        <input
          name="cpus"
          inputMode="decimal"
          autocomplete="off"
          placeholder="no limit"
          value={form.cpus}
          aria-invalid={!!errorOf("cpus")}
          onInput={(e) => update({ cpus: value(e) }, "cpus")}
        />
      </Field>
    </div>
  );
}

export function SecurityFields({ c }: { c: FormControls }) {
  const { form, update, setRow, errorOf, invalid } = c;
  const capRows = (kind: "cap_add" | "cap_drop") => {
    const rows = kind === "cap_add" ? form.capAdd : form.capDrop;
    const what = kind === "cap_add" ? "Added" : "Dropped";
    return (
      <Rows
        kind={kind}
        title={kind === "cap_add" ? "Add capabilities" : "Drop capabilities"}
        addLabel={kind === "cap_add" ? "Add capability" : "Drop capability"}
        empty={kind === "cap_add" ? "None beyond Docker's defaults." : "None dropped."}
        error={errorOf(kind)}
        onAdd={() => c.addRow(kind)}
        head={
          <>
            <span>Capability</span>
            <span />
          </>
        }
      >
        {rows.map((row, i) => (
          <Row key={row.uid} error={errorOf(`${kind}[${i}]`)} kind={kind}>
            <input
              aria-label={`${what} capability ${i + 1}`}
              class="mono"
              list="ct-run-capabilities"
              autocomplete="off"
              spellcheck={false}
              autocapitalize="characters"
              placeholder={kind === "cap_add" ? "NET_ADMIN" : "NET_RAW"}
              value={row.name}
              aria-invalid={invalid(`${kind}[${i}]`, "name", true)}
              onInput={(e) => setRow(kind, i, { name: value(e).toUpperCase() })}
            />
            <RemoveButton
              label={`Remove ${what.toLowerCase()} capability ${i + 1}`}
              onClick={() => c.removeRow(kind, i)}
            />
          </Row>
        ))}
      </Rows>
    );
  };
  return (
    <>
      <label class={`ct-check ct-run-privileged${errorOf("privileged") ? " invalid" : ""}`}>
        <input
          type="checkbox"
          name="privileged"
          checked={form.privileged}
          onChange={(e) =>
            update({ privileged: (e.target as HTMLInputElement).checked }, "privileged")}
        />
        Privileged <span class="muted">(every capability and every host device)</span>
      </label>
      {errorOf("privileged") && <p class="ct-field-error" role="alert">{errorOf("privileged")}</p>}
      <div class="ct-run-grid ct-run-caps">
        {capRows("cap_add")}
        {capRows("cap_drop")}
      </div>
      <datalist id="ct-run-capabilities">
        {CAPABILITIES.map((name) => <option key={name} value={name} />)}
      </datalist>
      <Rows
        kind="devices"
        title="Devices"
        addLabel="Add device"
        empty="No host devices."
        error={errorOf("devices")}
        onAdd={() => c.addRow("devices")}
        head={
          <>
            <span>Host device</span>
            <span />
            <span>In the container</span>
            <span>Access</span>
            <span />
          </>
        }
      >
        {form.devices.map((row, i) => (
          <Row key={row.uid} error={errorOf(`devices[${i}]`)} kind="devices">
            <input
              aria-label={`Host path of device ${i + 1}`}
              class="mono"
              spellcheck={false}
              placeholder="/dev/fuse"
              value={row.host}
              aria-invalid={invalid(`devices[${i}]`, "host", true)}
              onInput={(e) =>
                setRow("devices", i, { host: value(e) })}
            />
            <span class="ct-run-arrow" aria-hidden="true">→</span>
            <input
              aria-label={`Container path of device ${i + 1}`}
              class="mono"
              spellcheck={false}
              placeholder="same path"
              value={row.container}
              aria-invalid={invalid(`devices[${i}]`, "container", false)}
              onInput={(e) =>
                setRow("devices", i, { container: value(e) })}
            />
            <input
              aria-label={`Access of device ${i + 1}`}
              class="mono"
              spellcheck={false}
              placeholder="rwm"
              value={row.permissions}
              aria-invalid={invalid(`devices[${i}]`, "permissions", false)}
              onInput={(e) =>
                setRow("devices", i, { permissions: value(e) })}
            />
            <RemoveButton
              label={`Remove device ${i + 1}`}
              onClick={() => c.removeRow("devices", i)}
            />
          </Row>
        ))}
      </Rows>
    </>
  );
}

export function LoggingFields({ c }: { c: FormControls }) {
  const { form, update, errorOf } = c;
  return (
    <>
      <div class="ct-run-grid">
        <Field
          label="Log driver"
          error={errorOf("log_driver")}
          hint="Logs in the panel need json-file, local or journald."
        >
          <select
            name="log_driver"
            value={form.logDriver}
            aria-invalid={!!errorOf("log_driver")}
            onChange={(e) => update({ logDriver: value(e) }, "log_driver", "log_options")}
          >
            <option value="">Engine default</option>
            {LOG_DRIVERS.map((driver) => <option key={driver} value={driver}>{driver}</option>)}
          </select>
        </Field>
      </div>
      <PairRows
        c={c}
        kind="log_options"
        rows={form.logOptions}
        title="Log options"
        what="option"
        addLabel="Add option"
        empty="No options (json-file: max-size 10m, max-file 3 keep logs small)."
        keyHint="max-size"
        valueHint="10m"
      />
    </>
  );
}

export function HealthFields({ c }: { c: FormControls }) {
  const { form, update, errorOf } = c;
  const set = (patch: Partial<HealthForm>, key: string) =>
    update({ health: { ...form.health, ...patch } }, key);
  const duration = (
    label: string,
    key: "interval" | "timeout" | "startPeriod",
    field: string,
    placeholder: string,
  ) => (
    <Field label={label} error={errorOf(field)}>
      <input
        name={field}
        autocomplete="off"
        spellcheck={false}
        placeholder={placeholder}
        value={form.health[key]}
        aria-invalid={!!errorOf(field)}
        onInput={(e) => set({ [key]: value(e) }, field)}
      />
    </Field>
  );
  return (
    <>
      <div class="ct-run-grid ct-run-grid-1">
        <Field
          label="Test command"
          optional
          error={errorOf("healthcheck.test")}
          hint="Run by the container's shell; exit 0 is healthy. Empty: the image's healthcheck."
        >
          <input
            name="healthcheck.test"
            class="mono"
            autocomplete="off"
            spellcheck={false}
            placeholder="wget -qO- http://localhost/ || exit 1"
            value={form.health.test}
            aria-invalid={!!errorOf("healthcheck.test")}
            onInput={(e) => set({ test: value(e) }, "healthcheck.test")}
          />
        </Field>
      </div>
      <div class="ct-run-grid ct-run-grid-4">
        {duration("Interval", "interval", "healthcheck.interval", "30s")}
        {duration("Timeout", "timeout", "healthcheck.timeout", "30s")}
        <Field label="Retries" error={errorOf("healthcheck.retries")}>
          <input
            name="healthcheck.retries"
            inputMode="numeric"
            autocomplete="off"
            placeholder="3"
            value={form.health.retries}
            aria-invalid={!!errorOf("healthcheck.retries")}
            onInput={(e) => set({ retries: value(e) }, "healthcheck.retries")}
          />
        </Field>
        {duration("Start period", "startPeriod", "healthcheck.start_period", "0s")}
      </div>
    </>
  );
}

export function LabelFields({ c }: { c: FormControls }) {
  return (
    <PairRows
      c={c}
      kind="labels"
      rows={c.form.labels}
      title="Labels"
      bare
      what="label"
      addLabel="Add label"
      empty="No labels."
      keyHint="com.example.team"
      valueHint="ops"
    />
  );
}

/** Key/value rows: labels and log options. */
function PairRows(
  { c, kind, rows, title, bare, what, addLabel, empty, keyHint, valueHint }: {
    c: FormControls;
    kind: "labels" | "log_options";
    rows: KeyValueRow[];
    title: string;
    /** The section's only content: no box and no legend of its own. */
    bare?: boolean;
    what: string;
    addLabel: string;
    empty: string;
    keyHint: string;
    valueHint: string;
  },
): ComponentChildren {
  return (
    <Rows
      kind={kind}
      title={title}
      bare={bare}
      addLabel={addLabel}
      empty={empty}
      error={c.errorOf(kind)}
      onAdd={() => c.addRow(kind)}
      head={
        <>
          <span>Key</span>
          <span />
          <span>Value</span>
          <span />
        </>
      }
    >
      {rows.map((row, i) => (
        <Row key={row.uid} error={c.errorOf(`${kind}[${i}]`)} kind={kind}>
          <input
            aria-label={`Key of ${what} ${i + 1}`}
            class="mono"
            spellcheck={false}
            autocomplete="off"
            placeholder={keyHint}
            value={row.key}
            aria-invalid={c.invalid(`${kind}[${i}]`, "key", true)}
            onInput={(e) => c.setRow(kind, i, { key: value(e) })}
          />
          <span class="ct-run-arrow" aria-hidden="true">=</span>
          <input
            aria-label={`Value of ${what} ${i + 1}`}
            class="mono"
            spellcheck={false}
            autocomplete="off"
            placeholder={valueHint}
            value={row.value}
            aria-invalid={c.invalid(`${kind}[${i}]`, "value", false)}
            onInput={(e) => c.setRow(kind, i, { value: value(e) })}
          />
          <RemoveButton
            label={`Remove ${what} ${i + 1}`}
            onClick={() => c.removeRow(kind, i)}
          />
        </Row>
      ))}
    </Rows>
  );
}
