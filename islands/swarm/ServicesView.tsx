/**
 * Swarm services: name, mode, replicas running/desired, image, published ports and update
 * status. Admins create, scale, update the image (a rolling update by the service's own
 * update settings), roll back and remove. A click on a name opens its tasks and logs.
 */
import { useState } from "preact/hooks";
import { api, apiWithProgress } from "../api.ts";
import { ConfirmDialog } from "../shared/ConfirmDialog.tsx";
import { PromptDialog } from "./PromptDialog.tsx";
import { ServiceDrawer } from "./ServiceDrawer.tsx";
import { CreateServiceDialog } from "./CreateServiceDialog.tsx";
import { portText, replicasShort, replicasText, shortImage } from "./format.ts";
import type { SwarmService } from "./types.ts";

type Action = "scale" | "image" | "rollback" | "remove";

export function ServicesView(
  { services, isAdmin, onChanged }: {
    services: SwarmService[];
    isAdmin: boolean;
    onChanged: (text: string, ok: boolean) => Promise<void>;
  },
) {
  const [open, setOpen] = useState<SwarmService | null>(null);
  const [acting, setActing] = useState<{ action: Action; service: SwarmService } | null>(null);
  const [creating, setCreating] = useState(false);
  /** The swarm's latest word on a rolling update or rollback under way. */
  const [progress, setProgress] = useState("");
  const path = (s: SwarmService, tail = "") =>
    `/api/swarm/services/${encodeURIComponent(s.id)}${tail}`;

  /** Runs one mutation for a dialog: an error message stays in the dialog. */
  async function run(call: () => Promise<unknown>, done: string): Promise<string | null> {
    setProgress("");
    try {
      await call();
    } catch (e) {
      return (e as Error).message;
    }
    setActing(null);
    await onChanged(done, true);
    return null;
  }

  /** A rolling update or rollback: answers when the swarm says it completed. */
  const following = (s: SwarmService, tail: string, body: unknown) =>
    apiWithProgress("POST", path(s, tail), body, (event) => {
      const { state, message } = event as { state?: string; message?: string };
      setProgress([state?.replaceAll("_", " "), message].filter(Boolean).join(": "));
    });
  const progressLine = progress && <p class="sw-progress im-small" role="status">{progress}</p>;

  return (
    <>
      {isAdmin && (
        <div class="sw-toolbar">
          <button type="button" class="btn primary" onClick={() => setCreating(true)}>
            Create service
          </button>
        </div>
      )}
      {services.length === 0
        ? (
          <div class="im-empty-small sw-empty">
            <p class="empty-title">No services.</p>
            <p class="muted">
              {isAdmin
                ? "Create one here, or deploy a compose file as a swarm stack."
                : "An admin can create services here."}
            </p>
          </div>
        )
        : (
          <div class="sw-table-wrap">
            <table class="table sw-table sw-services">
              <thead>
                <tr>
                  <th class="sw-col-name">Name</th>
                  <th class="sw-col-mode">Mode</th>
                  <th class="sw-col-replicas">Replicas</th>
                  <th>Image</th>
                  <th class="sw-col-ports">Ports</th>
                  <th class="sw-col-update">Update</th>
                  {isAdmin && (
                    <th class="sw-col-svc-actions">
                      <span class="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {services.map((service) => (
                  <tr key={service.id} data-service={service.name}>
                    <td class="sw-col-name">
                      <button
                        type="button"
                        class="sw-link truncate"
                        title={`Tasks and logs of ${service.name}`}
                        onClick={() => setOpen(service)}
                      >
                        {service.name}
                      </button>
                      {service.stack && <span class="sw-note">stack {service.stack}</span>}
                    </td>
                    <td class="sw-col-mode">{service.mode}</td>
                    <td class="sw-col-replicas" data-label="Replicas">
                      <span
                        class={`sw-replicas${replicasShort(service) ? " is-short" : " is-full"}`}
                        data-replicas={replicasText(service)}
                      >
                        {replicasText(service)}
                      </span>
                    </td>
                    <td class="mono truncate sw-col-image" data-label="Image" title={service.image}>
                      {shortImage(service.image)}
                    </td>
                    <td class="sw-col-ports mono" data-label="Ports">
                      {service.ports.length ? service.ports.map(portText).join(", ") : "—"}
                    </td>
                    <td class="sw-col-update" data-label="Update">
                      {service.update_status
                        ? (
                          <span
                            class={`sw-update is-${service.update_status.state}`}
                            title={service.update_status.message}
                          >
                            {service.update_status.state.replaceAll("_", " ")}
                          </span>
                        )
                        : <span class="muted">—</span>}
                    </td>
                    {isAdmin && (
                      <td class="sw-col-svc-actions">
                        <span class="inline-form">
                          {service.mode === "replicated" && (
                            <button
                              type="button"
                              class="btn small"
                              onClick={() => setActing({ action: "scale", service })}
                            >
                              Scale
                            </button>
                          )}
                          <button
                            type="button"
                            class="btn small"
                            onClick={() => setActing({ action: "image", service })}
                          >
                            Update image
                          </button>
                          <button
                            type="button"
                            class="btn small"
                            onClick={() => setActing({ action: "rollback", service })}
                          >
                            Roll back
                          </button>
                          <button
                            type="button"
                            class="btn small danger-outline"
                            onClick={() => setActing({ action: "remove", service })}
                          >
                            Remove
                          </button>
                        </span>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {open && <ServiceDrawer service={open} onClose={() => setOpen(null)} />}
      {creating && (
        <CreateServiceDialog
          onClose={() => setCreating(false)}
          onCreated={async (name) => {
            setCreating(false);
            await onChanged(`Created service ${name}.`, true);
          }}
        />
      )}
      {acting?.action === "scale" && (
        <PromptDialog
          id="sw-scale"
          title={`Scale ${acting.service.name}`}
          label="Replicas"
          inputMode="numeric"
          initial={String(acting.service.replicas_desired)}
          action="Scale"
          busyText="Scaling…"
          onClose={() => setActing(null)}
          onSubmit={(value) => {
            if (!/^\d+$/.test(value) || Number(value) > 1000) {
              return Promise.resolve("Replicas is a whole number from 0 to 1000");
            }
            return run(
              () => api("POST", path(acting.service, "/scale"), { replicas: Number(value) }),
              `Scaled ${acting.service.name} to ${value}.`,
            );
          }}
        />
      )}
      {acting?.action === "image" && (
        <PromptDialog
          id="sw-image"
          title={`Update the image of ${acting.service.name}`}
          label="New image"
          initial={shortImage(acting.service.image)}
          action="Start rolling update"
          busyText="Updating…"
          onClose={() => setActing(null)}
          onSubmit={(value) =>
            value
              ? run(
                () => following(acting.service, "/image", { image: value }),
                `${acting.service.name} now runs ${value}.`,
              )
              : Promise.resolve("Enter an image")}
        >
          <p class="muted im-small">
            Tasks are replaced as the service's update settings say (parallelism, delay, failure
            action); Roll back returns to the previous image.
          </p>
          {progressLine}
        </PromptDialog>
      )}
      {acting?.action === "rollback" && (
        <ConfirmDialog
          id="sw-rollback"
          title="Roll back service"
          action="Roll back"
          busyText="Rolling back…"
          onClose={() => setActing(null)}
          onConfirm={() =>
            run(
              () => following(acting.service, "/rollback", {}),
              `${acting.service.name} is back on its previous settings.`,
            )}
        >
          <p class="im-confirm-what">
            <strong class="im-break">{acting.service.name}</strong>
          </p>
          <p class="im-small">
            The service goes back to its previous specification (image, replicas, settings).
          </p>
          {progressLine}
        </ConfirmDialog>
      )}
      {acting?.action === "remove" && (
        <ConfirmDialog
          id="sw-remove"
          title="Remove service"
          action="Remove service"
          busyText="Removing…"
          onClose={() => setActing(null)}
          onConfirm={() =>
            run(
              () => api("DELETE", path(acting.service)),
              `Removed service ${acting.service.name}.`,
            )}
        >
          <p class="im-confirm-what">
            <strong class="im-break">{acting.service.name}</strong>
            <span class="mono muted im-small im-break">{shortImage(acting.service.image)}</span>
          </p>
          <p class="im-small">
            Every task of the service stops and is removed on all nodes. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
