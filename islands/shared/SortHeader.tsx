/** A table header that sorts by its column: the first click picks `firstDir`, the next flips. */
export interface SortState<K extends string> {
  key: K;
  dir: 1 | -1;
}

export function SortHeader<K extends string>(
  { column, label, class: className, sort, firstDir = 1, onSort }: {
    column: K;
    label: string;
    class: string;
    sort: SortState<K>;
    firstDir?: 1 | -1;
    onSort: (next: SortState<K>) => void;
  },
) {
  const active = sort.key === column;
  return (
    <th
      class={`${className} sortable`}
      aria-sort={active ? (sort.dir === 1 ? "ascending" : "descending") : undefined}
    >
      <button
        type="button"
        class={`sort-btn${active ? " active" : ""}`}
        title={`Sort by ${label.toLowerCase()}`}
        onClick={() =>
          onSort(
            active ? { key: column, dir: sort.dir === 1 ? -1 : 1 } : { key: column, dir: firstDir },
          )}
      >
        {label}
        <span class="sort-arrow" aria-hidden="true">
          {active ? (sort.dir === 1 ? "▲" : "▼") : "↕"}
        </span>
      </button>
    </th>
  );
}
