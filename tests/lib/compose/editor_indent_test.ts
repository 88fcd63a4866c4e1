import assert from "node:assert/strict";
import { applyEdit, indentEdit, newlineEdit } from "../../../islands/compose/text.ts";

/** Types Enter then Tab at the end of `text`, as the editor applies them. */
function enterThenTab(text: string): string {
  const enter = newlineEdit(text, text.length, text.length);
  const afterEnter = applyEdit(enter);
  assert.equal(enter.selStart, afterEnter.length, "the caret ends the new line");
  const tab = indentEdit(afterEnter, enter.selStart, enter.selEnd, false)!;
  return applyEdit(tab);
}

const lastLine = (text: string) => text.slice(text.lastIndexOf("\n") + 1);

Deno.test("compose editor: Tab after smart indent adds one level (4 → 6 spaces, not 10)", () => {
  assert.equal(lastLine(enterThenTab("services:\n  web:")), " ".repeat(6));
  assert.equal(lastLine(enterThenTab("services:\n  web:\n    image: x")), " ".repeat(6));
  assert.equal(lastLine(enterThenTab("a: 1  # note")), "  ");
});

Deno.test("compose editor: Enter then Tab in the middle keeps the text after the caret", () => {
  const text = "services:\n  web:\n    image: x\n";
  const at = text.indexOf("web:") + 4;
  const enter = newlineEdit(text, at, at);
  const afterEnter = applyEdit(enter);
  assert.equal(afterEnter, "services:\n  web:\n    \n    image: x\n");
  const afterTab = applyEdit(indentEdit(afterEnter, enter.selStart, enter.selEnd, false)!);
  assert.equal(afterTab, "services:\n  web:\n      \n    image: x\n");
  // Shift+Tab takes the level back off.
  const caret = enter.selStart + 2;
  const out = indentEdit(afterTab, caret, caret, true)!;
  assert.equal(applyEdit(out), afterEnter);
  assert.equal(out.selStart, enter.selStart);
});
