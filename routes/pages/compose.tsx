export function ComposePage() {
  return (
    <section>
      <div class="section-head">
        <h1>Compose</h1>
      </div>
      <div class="empty">
        <p class="empty-title">Compose stacks are not available in this build yet.</p>
        <p class="muted">
          Deploying a docker-compose.yml from the panel is planned; nothing here changes your
          stacks.
        </p>
      </div>
    </section>
  );
}
