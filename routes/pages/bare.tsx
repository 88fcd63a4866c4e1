/** The sign-in and setup pages, also rendered by the form-post fallbacks in routes/api/auth.ts. */
import { BareLayout } from "../_components/Layout.tsx";
import { Island } from "../_components/Island.tsx";
import { renderDocument } from "../_components/render.ts";
import type { LoginFormProps } from "../../islands/LoginForm.tsx";
import type { SetupFormProps } from "../../islands/SetupForm.tsx";

export function loginPage(props: LoginFormProps): string {
  return renderDocument(
    <BareLayout title="Sign in">
      <Island name="LoginForm" props={props} />
    </BareLayout>,
  );
}

export function setupPage(props: SetupFormProps): string {
  return renderDocument(
    <BareLayout title="Set up">
      <Island name="SetupForm" props={props} />
    </BareLayout>,
  );
}
