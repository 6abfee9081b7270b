export interface LoadSummary {
  casedrop: SystemSummary;
  postfix: SystemSummary;
  ratios: { acceptedSpeed: number | null; drainSpeed: number | null; cpu: number | null; memory: number | null; latencyP99: number | null };
  targets: { drainAtLeastPostfix: boolean | null; peakRssUnder150MiB?: boolean | null };
}
export interface SystemSummary {
  runs: number;
  failed: number;
  acceptedMsgsPerSec: number | null;
  acceptedMiBPerSec: number | null;
  drainSeconds: number | null;
  drainMsgsPerSec: number | null;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  cpuSeconds: number | null;
  redisCpuSeconds: number | null;
  peakPssSumMiB: number | null;
  peakRssMiB: Record<string, number>;
}
export function buildSummary(runs: object[], loads: string[]): Record<string, LoadSummary>;
export function renderTable(summary: Record<string, LoadSummary>): string;
