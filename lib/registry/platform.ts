/**
 * Which entry of a manifest list (OCI index / Docker manifest list v2) is the one the Engine
 * would pull: the same os and architecture, and the variant when the Engine has one
 * (arm64's is v8 when unsaid, as the Engine treats it). Attestation entries
 * (`unknown/unknown`) are never picked.
 */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface IndexEntry {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** The Engine's platform from /version (Os, Arch) and, for arm, /info's Architecture. */
export function enginePlatform(
  version: { Os?: string; Arch?: string },
  info?: { Architecture?: string },
): Platform {
  const os = (version.Os ?? "linux").toLowerCase();
  const architecture = normaliseArch(version.Arch ?? info?.Architecture ?? "amd64");
  return { os, architecture, variant: variantOf(architecture, info?.Architecture) };
}

function normaliseArch(arch: string): string {
  const lower = arch.toLowerCase();
  if (lower === "x86_64" || lower === "x86-64") return "amd64";
  if (lower === "aarch64") return "arm64";
  if (lower === "i386" || lower === "i686") return "386";
  if (lower.startsWith("armv")) return "arm";
  return lower;
}

/** The variant the Engine implies: arm64 → v8; arm → v6/v7 from the kernel's machine name. */
function variantOf(architecture: string, machine: string | undefined): string | undefined {
  if (architecture === "arm64") return "v8";
  if (architecture === "arm") {
    const match = machine?.toLowerCase().match(/^armv(\d)/);
    return match ? `v${match[1]}` : "v7";
  }
  return undefined;
}

function defaultVariant(architecture: string, variant: string | undefined): string | undefined {
  if (variant) return variant.toLowerCase();
  if (architecture === "arm64") return "v8";
  if (architecture === "arm") return "v7";
  return undefined;
}

/** The index entry for this platform, or undefined when the index has none. */
export function selectPlatform(
  entries: readonly IndexEntry[],
  platform: Platform,
): IndexEntry | undefined {
  const wantedVariant = defaultVariant(platform.architecture, platform.variant);
  const candidates = entries.filter((entry) =>
    entry.platform?.os?.toLowerCase() === platform.os &&
    normaliseArch(entry.platform?.architecture ?? "") === platform.architecture
  );
  const exact = candidates.find((entry) =>
    defaultVariant(platform.architecture, entry.platform?.variant) === wantedVariant
  );
  if (exact) return exact;
  // arm/v7 can run arm/v6 (and v5) images: the highest variant not above the Engine's.
  if (platform.architecture === "arm" && wantedVariant) {
    const wanted = Number(wantedVariant.slice(1));
    return candidates
      .map((entry) => ({ entry, n: Number(entry.platform?.variant?.slice(1) ?? NaN) }))
      .filter(({ n }) => n <= wanted)
      .sort((a, b) => b.n - a.n)[0]?.entry;
  }
  return undefined;
}
