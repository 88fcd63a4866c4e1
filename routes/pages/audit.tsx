export function AuditPage() {
  return (
    <section>
      <div class="section-head">
        <h1>Audit</h1>
      </div>
      <div class="empty">
        <p class="empty-title">The audit trail is not available in this build yet.</p>
        <p class="muted">This build makes no changes to Docker, so there is nothing to record.</p>
      </div>
    </section>
  );
}
