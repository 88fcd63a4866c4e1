/** Marks a server-rendered island: the browser entry hydrates it with the same props. */
import { h } from "preact";
import { type IslandName, type IslandProps, ISLANDS } from "../../islands/mod.ts";

export function Island<N extends IslandName>({ name, props }: { name: N; props: IslandProps<N> }) {
  // deno-lint-ignore no-explicit-any
  const Component = ISLANDS[name] as any;
  return (
    <div data-island={name} data-props={JSON.stringify(props)} class="island">
      {h(Component, props as Record<string, unknown>)}
    </div>
  );
}
