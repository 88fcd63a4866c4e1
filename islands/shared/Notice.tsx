/** A dismissible result line: green for what worked, red (and announced) for what failed. */
export type NoticeValue = { kind: "ok" | "error"; text: string };

export function Notice(
  { notice, class: className, onDismiss }: {
    notice: NoticeValue;
    class: string;
    onDismiss: () => void;
  },
) {
  return (
    <div
      class={`notice ${notice.kind} ${className}`}
      role={notice.kind === "error" ? "alert" : "status"}
    >
      <span>{notice.text}</span>
      <button type="button" class="im-close small" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}
