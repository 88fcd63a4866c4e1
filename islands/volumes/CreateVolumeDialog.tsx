/** Create a volume: name, driver, driver options and labels (one "key=value" per line). */
import { useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import { parseKeyValues } from "./kv.ts";
import type { VolumeView } from "./types.ts";

export function CreateVolumeDialog(
  { onClose, onCreated }: { onClose: () => void; onCreated: (volume: VolumeView) => void },
) {
  const [name, setName] = useState("");
  const [driver, setDriver] = useState("local");
  const [options, setOptions] = useState("");
  const [labels, setLabels] = useState("");
  const [error, setError] = useState<{ text: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const driverOptions = parseKeyValues(options, "Driver options");
    const labelMap = parseKeyValues(labels, "Labels");
    if ("error" in driverOptions) {
      return setError({ text: driverOptions.error, field: "driver_options" });
    }
    if ("error" in labelMap) return setError({ text: labelMap.error, field: "labels" });
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ volume: VolumeView }>("POST", "/api/containers/volumes", {
        name: name.trim(),
        driver: driver.trim(),
        driver_options: driverOptions.map,
        labels: labelMap.map,
      });
      onCreated(answer.volume);
    } catch (e) {
      setError({ text: (e as Error).message, field: e instanceof ApiError ? e.field : undefined });
      setBusy(false);
    }
  }

  const invalid = (field: string) => error?.field === field ? "true" : undefined;
  return (
    <TitledModal
      id="vn-volume-create"
      title="Create volume"
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button
            type="submit"
            form="vn-volume-form"
            class="btn primary"
            disabled={busy || !name.trim()}
          >
            {busy ? "Creating…" : "Create"}
          </button>
        </div>
      }
    >
      <form id="vn-volume-form" class="im-form" onSubmit={submit}>
        <label>
          Name
          <input
            name="name"
            class="mono"
            data-autofocus
            required
            value={name}
            aria-invalid={invalid("name")}
            placeholder="e.g. pgdata"
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Driver
          <input
            name="driver"
            class="mono"
            value={driver}
            aria-invalid={invalid("driver")}
            onInput={(e) => setDriver((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Driver options <span class="muted im-small">one key=value per line, e.g. type=tmpfs</span>
          <textarea
            name="driver_options"
            class="mono vn-kv"
            rows={2}
            value={options}
            aria-invalid={invalid("driver_options")}
            onInput={(e) => setOptions((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <label>
          Labels <span class="muted im-small">one key=value per line</span>
          <textarea
            name="labels"
            class="mono vn-kv"
            rows={2}
            value={labels}
            aria-invalid={invalid("labels")}
            onInput={(e) => setLabels((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        {error && <div class="notice error im-inline-error" role="alert">{error.text}</div>}
      </form>
    </TitledModal>
  );
}
