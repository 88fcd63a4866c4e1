/** The parts of the Engine API's JSON that the panel reads. Field names are the Engine's. */

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: "tcp" | "udp" | "sctp";
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Ports: PortSummary[];
  Labels: Record<string, string> | null;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    ExitCode: number;
    StartedAt: string;
    FinishedAt: string;
    Health?: { Status: string; FailingStreak: number; Log?: unknown[] };
  };
  RestartCount?: number;
  Config: {
    Image: string;
    Env: string[] | null;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    Labels: Record<string, string> | null;
    Tty: boolean;
    WorkingDir?: string;
    User?: string;
    Hostname?: string;
    Healthcheck?: {
      Test?: string[];
      Interval?: number;
      Timeout?: number;
      Retries?: number;
      StartPeriod?: number;
    };
    [key: string]: unknown;
  };
  HostConfig: {
    RestartPolicy?: { Name: string; MaximumRetryCount: number };
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
    Binds?: string[] | null;
    Memory?: number;
    MemorySwap?: number;
    MemoryReservation?: number;
    NanoCpus?: number;
    PidsLimit?: number | null;
    Privileged?: boolean;
    CapAdd?: string[] | null;
    CapDrop?: string[] | null;
    Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] | null;
    LogConfig?: { Type: string; Config: Record<string, string> | null };
    NetworkMode?: string;
    Mounts?: unknown[] | null;
    AutoRemove?: boolean;
    [key: string]: unknown;
  };
  Mounts: {
    Type: string;
    Name?: string;
    Source: string;
    Destination: string;
    RW: boolean;
    Mode?: string;
  }[];
  NetworkSettings: {
    Networks: Record<string, {
      IPAddress: string;
      Aliases?: string[] | null;
      NetworkID: string;
      IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
      Links?: string[] | null;
      DriverOpts?: Record<string, string> | null;
    }>;
    Ports?: Record<string, { HostIp: string; HostPort: string }[] | null>;
  };
}

/** The body of `POST /containers/create`. */
export interface ContainerCreateBody {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  NetworkingConfig?: { EndpointsConfig: Record<string, unknown> };
  HostConfig?: {
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]>;
    Binds?: string[];
    Mounts?: unknown[];
    RestartPolicy?: { Name: string; MaximumRetryCount?: number };
    AutoRemove?: boolean;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string;
  Size: number;
  Config: { Cmd: string[] | null; Env: string[] | null; Entrypoint: string[] | null } | null;
}
