/** One plot of a report: a vega-lite spec and the file it is rendered to (plots.ts, plots-dmp.ts). */
import type { TopLevelSpec } from 'vega-lite';

export interface Plot {
  /** File name in the report folder. */
  file: string;
  title: string;
  spec: TopLevelSpec;
}
