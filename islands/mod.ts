/**
 * The island registry: name → component. The server renders islands from here; the
 * browser entry (client.ts) mirrors the names with lazy imports so each island is its own
 * chunk. `IslandName`/`IslandProps` type the server's <Island> marker.
 */
import type { ComponentProps } from "preact";
import { EngineStatus } from "./EngineStatus.tsx";
import { LoginForm } from "./LoginForm.tsx";
import { SetupForm } from "./SetupForm.tsx";
import { UserMenu } from "./UserMenu.tsx";
import { UsersPanel } from "./UsersPanel.tsx";
import { AuditLog } from "./AuditLog.tsx";
import { ImagesPanel } from "./ImagesPanel.tsx";
import { ContainersTable } from "./ContainersTable.tsx";
import { RunContainerDialog } from "./RunContainerDialog.tsx";
import { ComposePanel } from "./ComposePanel.tsx";
import { VolumesPanel } from "./VolumesPanel.tsx";
import { NetworksPanel } from "./NetworksPanel.tsx";
import { EnvironmentSwitcher } from "./EnvironmentSwitcher.tsx";
import { EnvironmentsPanel } from "./EnvironmentsPanel.tsx";
import { SwarmPanel } from "./SwarmPanel.tsx";

export const ISLANDS = {
  EngineStatus,
  LoginForm,
  SetupForm,
  UserMenu,
  UsersPanel,
  AuditLog,
  ImagesPanel,
  ContainersTable,
  RunContainerDialog,
  ComposePanel,
  VolumesPanel,
  NetworksPanel,
  EnvironmentSwitcher,
  EnvironmentsPanel,
  SwarmPanel,
} as const;

export type IslandName = keyof typeof ISLANDS;
export type IslandProps<N extends IslandName> = ComponentProps<(typeof ISLANDS)[N]>;
