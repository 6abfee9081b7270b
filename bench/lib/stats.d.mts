export function percentile(values: number[], p: number): number | null;
export function median(values: Array<number | null | undefined>): number | null;
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null;
export function fmt(value: unknown, digits?: number): string;
export function table(header: string[], rows: unknown[][]): string;
