/** Environment ids → names, read once from GET /api/environments (for filters and labels). */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { LOCAL_ENV } from "../env.ts";

export function useEnvironmentNames(): ReadonlyMap<string, string> {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(
    new Map([[LOCAL_ENV, LOCAL_ENV]]),
  );
  useEffect(() => {
    api<{ environments: { id: string; name: string }[] }>("GET", "/api/environments")
      .then(({ environments }) => setNames(new Map(environments.map((e) => [e.id, e.name]))))
      .catch(() => {}); // the ids stand in for the names
  }, []);
  return names;
}
