import type { VNode } from "preact";
import { render } from "preact-render-to-string";

/** Renders a full page (a <Layout> tree) to an HTML document string. */
export function renderDocument(tree: VNode): string {
  return `<!DOCTYPE html>${render(tree)}`;
}
