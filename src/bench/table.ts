/** A table of a report: the experiment's results carry them, report-tables.ts makes them. */
export interface Table {
  head: string[];
  rows: string[][];
  /** Columns aligned right (numbers). */
  numeric: boolean[];
}
