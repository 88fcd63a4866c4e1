export function EngineDown({ endpoint }: { endpoint: string }) {
  return (
    <div class="notice error" role="alert">
      <strong>Docker Engine unreachable at {endpoint}.</strong>{" "}
      The panel keeps running and checks again by itself; this page shows the Engine's data once it
      answers.
    </div>
  );
}
