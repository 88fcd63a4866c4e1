/** The page a browser gets when the panel cannot show what it asked for. */
import { BareLayout } from "./Layout.tsx";
import { renderDocument } from "./render.ts";

export function renderErrorPage(status: number, message: string): string {
  return renderDocument(<ErrorPage status={status} message={message} />);
}

export function ErrorPage(
  { status, message }: { status: number; message: string },
) {
  const title = status === 404 ? "Not found" : status === 403 ? "Not allowed" : "Something failed";
  const toEnvironments = /environment/i.test(message);
  return (
    <BareLayout title={title}>
      <section class="card error-page" aria-labelledby="error-title">
        <h1 id="error-title">{title}</h1>
        <p>{message}</p>
        <p>
          <a href="/containers">Back to the containers</a>
          {toEnvironments && (
            <>
              {" · "}
              <a href="/environments">See the environments</a>
            </>
          )}
        </p>
      </section>
    </BareLayout>
  );
}
