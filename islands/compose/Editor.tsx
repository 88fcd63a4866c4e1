/**
 * The compose file editor: a plain textarea with a line-number gutter kept in step with its
 * scrolling (no editor library), Tab/Shift+Tab indenting by two spaces, Enter keeping the
 * indentation, a dropzone and file picker for the compose file and an optional .env, and a
 * collapsible .env textarea. Esc, then Tab, leaves the editor (Tab is otherwise captured).
 */
import type { RefObject } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  applyEdit,
  countEnvVars,
  type Edit,
  indentEdit,
  isEnvFile,
  lineCount,
  lineRange,
  MAX_FILE_BYTES,
  newlineEdit,
} from "./text.ts";
import type { WarningKind } from "./types.ts";

export interface EditorApi {
  /** Selects a 1-based line, scrolls it into view and focuses the editor. */
  selectLine(line: number): void;
  focus(): void;
  /** Opens the file picker. */
  openPicker(): void;
}

export interface LoadedFile {
  kind: "yaml" | "env";
  name: string;
  text: string;
}

export interface EditorProps {
  yaml: string;
  onYaml: (text: string) => void;
  env: string;
  onEnv: (text: string) => void;
  envOpen: boolean;
  onEnvOpen: (open: boolean) => void;
  /** Lines to mark in the gutter, by the most serious warning on them. */
  markers: Map<number, WarningKind | "error">;
  onFiles: (files: LoadedFile[]) => void;
  onFileError: (message: string) => void;
  /** Ctrl/Cmd+Enter. */
  onSubmit: () => void;
  apiRef: RefObject<EditorApi | null>;
}

const LINE_HEIGHT = 20;

const PLACEHOLDER = `services:
  web:
    image: nginx:1.25
    ports:
      - "8080:80"
    restart: unless-stopped`;

const ENV_PLACEHOLDER = "# KEY=value, one per line\nTAG=1.25";

export function Editor(
  {
    yaml,
    onYaml,
    env,
    onEnv,
    envOpen,
    onEnvOpen,
    markers,
    onFiles,
    onFileError,
    onSubmit,
    apiRef,
  }: EditorProps,
) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const escaped = useRef(false);
  const dragDepth = useRef(0);
  const [dragging, setDragging] = useState(false);
  const [target, setTarget] = useState<number | null>(null);
  const [caretLine, setCaretLine] = useState(1);
  const lines = useMemo(() => lineCount(yaml), [yaml]);

  function syncGutter() {
    if (gutter.current && textarea.current) gutter.current.scrollTop = textarea.current.scrollTop;
  }

  useEffect(syncGutter, [yaml]);

  function updateCaret() {
    const area = textarea.current;
    if (!area) return;
    const before = area.value.slice(0, area.selectionStart);
    setCaretLine(lineCount(before));
  }

  apiRef.current = {
    selectLine(line: number) {
      const area = textarea.current;
      if (!area) return;
      const [start, end] = lineRange(area.value, line);
      area.focus({ preventScroll: true });
      area.setSelectionRange(start, end);
      const top = (line - 1) * LINE_HEIGHT;
      area.scrollTop = Math.max(0, top - area.clientHeight / 3);
      syncGutter();
      setCaretLine(line);
      setTarget(line);
      area.closest(".cp-editor")?.scrollIntoView({ block: "nearest", behavior: "smooth" });
    },
    focus() {
      textarea.current?.focus();
    },
    openPicker() {
      picker.current?.click();
    },
  };

  // The jump highlight fades after a moment.
  useEffect(() => {
    if (target === null) return;
    const timer = setTimeout(() => setTarget(null), 1600);
    return () => clearTimeout(timer);
  }, [target]);

  function apply(edit: Edit) {
    const area = textarea.current!;
    area.setSelectionRange(edit.from, edit.to);
    // execCommand keeps the browser's undo history; setRangeText is the fallback.
    let done = false;
    try {
      done = document.execCommand("insertText", false, edit.insert);
    } catch {
      done = false;
    }
    // Compared whole: a browser whose insertText put in more or less than asked (an
    // indentation doubled after a newline) gets the expected text, not a second insertion.
    const expected = applyEdit(edit);
    if (!done || area.value !== expected) {
      area.value = expected;
      onYaml(expected);
    }
    area.setSelectionRange(edit.selStart, edit.selEnd);
    updateCaret();
  }

  function onKeyDown(event: KeyboardEvent) {
    const area = textarea.current!;
    if (event.key === "Escape") {
      escaped.current = true;
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onSubmit();
      return;
    }
    if (event.key === "Tab" && !event.ctrlKey && !event.altKey && !event.metaKey) {
      if (escaped.current) {
        escaped.current = false;
        return; // let focus move on
      }
      event.preventDefault();
      const edit = indentEdit(area.value, area.selectionStart, area.selectionEnd, event.shiftKey);
      if (edit) apply(edit);
      return;
    }
    escaped.current = false;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      apply(newlineEdit(area.value, area.selectionStart, area.selectionEnd));
    }
  }

  async function readFiles(list: FileList | File[]) {
    const files = [...list];
    if (files.length === 0) return;
    const loaded: LoadedFile[] = [];
    let composeFiles = 0;
    for (const file of files) {
      if (file.size > MAX_FILE_BYTES) {
        onFileError(
          `${file.name} is larger than 1 MiB; the panel takes compose files up to 1 MiB.`,
        );
        return;
      }
      const kind = isEnvFile(file.name) ? "env" : "yaml";
      if (kind === "yaml" && ++composeFiles > 1) {
        onFileError("Drop one compose file at a time (and optionally its .env).");
        return;
      }
      let text: string;
      try {
        text = await file.text();
      } catch (error) {
        onFileError(`Could not read ${file.name}: ${(error as Error).message}`);
        return;
      }
      if (text.includes("\u0000")) {
        onFileError(`${file.name} is not a text file.`);
        return;
      }
      loaded.push({ kind, name: file.name, text: text.replace(/\r\n?/g, "\n") });
    }
    onFiles(loaded);
  }

  const gutterLines = [];
  for (let n = 1; n <= lines; n++) {
    const mark = markers.get(n);
    const classes = [
      "cp-ln",
      mark ? `mark-${mark}` : "",
      n === target ? "is-target" : "",
      n === caretLine ? "is-caret" : "",
    ].filter(Boolean).join(" ");
    gutterLines.push(<div key={n} class={classes}>{n}</div>);
  }

  const envCount = countEnvVars(env);
  return (
    <div
      class={`cp-editor${dragging ? " is-dragging" : ""}`}
      onDragEnter={(e) => {
        if (!e.dataTransfer?.types.includes("Files")) return;
        e.preventDefault();
        dragDepth.current++;
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (!e.dataTransfer?.types.includes("Files")) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }}
      onDragLeave={() => {
        dragDepth.current = Math.max(0, dragDepth.current - 1);
        if (dragDepth.current === 0) setDragging(false);
      }}
      onDrop={(e) => {
        if (!e.dataTransfer?.files.length) return;
        e.preventDefault();
        dragDepth.current = 0;
        setDragging(false);
        readFiles(e.dataTransfer.files);
      }}
    >
      <div class="cp-code">
        <div class="cp-gutter mono" ref={gutter} aria-hidden="true">
          {gutterLines}
          <div class="cp-gutter-pad" />
        </div>
        <textarea
          ref={textarea}
          id="cp-yaml"
          name="yaml"
          class="cp-textarea mono"
          wrap="off"
          spellcheck={false}
          autocomplete="off"
          autocapitalize="off"
          aria-label="Compose file (YAML)"
          aria-describedby="cp-editor-hint"
          placeholder={PLACEHOLDER}
          value={yaml}
          onInput={(e) => {
            onYaml((e.target as HTMLTextAreaElement).value);
            updateCaret();
          }}
          onScroll={syncGutter}
          onKeyDown={onKeyDown}
          onKeyUp={updateCaret}
          onClick={updateCaret}
          onSelect={updateCaret}
        />
        {dragging && (
          <div class="cp-drop-overlay" aria-hidden="true">
            <span>Drop docker-compose.yml / compose.yaml and an optional .env</span>
          </div>
        )}
      </div>
      <div class="cp-editor-foot">
        <span id="cp-editor-hint" class="muted cp-hint">
          Drop a compose file or .env here, or{" "}
          <button type="button" class="cp-linkbtn" onClick={() => picker.current?.click()}>
            choose files
          </button>. Tab indents two spaces; Esc then Tab leaves the editor; Ctrl+Enter previews.
        </span>
        <span class="muted cp-pos mono">Ln {caretLine} · {lines} lines</span>
        <input
          ref={picker}
          type="file"
          class="cp-file-input"
          accept=".yml,.yaml,.env,text/yaml,application/yaml,text/plain"
          multiple
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            const input = e.target as HTMLInputElement;
            if (input.files) readFiles(input.files).finally(() => input.value = "");
          }}
        />
      </div>
      <details
        class="cp-env"
        open={envOpen}
        onToggle={(e) => onEnvOpen((e.target as HTMLDetailsElement).open)}
      >
        <summary>
          <span class="cp-env-title">.env</span>
          <span class="muted cp-small">
            {env.trim()
              ? `${envCount} ${envCount === 1 ? "variable" : "variables"}`
              : "optional: values for ${VAR} in the file"}
          </span>
        </summary>
        <textarea
          id="cp-env"
          name="env"
          class="cp-env-text mono"
          rows={5}
          wrap="off"
          spellcheck={false}
          autocomplete="off"
          aria-label=".env file"
          placeholder={ENV_PLACEHOLDER}
          value={env}
          onInput={(e) => onEnv((e.target as HTMLTextAreaElement).value)}
        />
      </details>
    </div>
  );
}
