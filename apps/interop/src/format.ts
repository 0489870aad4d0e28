/** Figures as the CLI prints them. MB is 10^6 bytes, as in the figures. */

export function mbps(bytes: number, ms: number): number {
  return ms > 0 ? bytes / 1e6 / (ms / 1000) : 0;
}

/** "104857600 bytes in 812 ms (129.1 MB/s)" */
export function transferFigures(bytes: number, ms: number): string {
  return `${bytes} bytes in ${Math.round(ms)} ms (${mbps(bytes, ms).toFixed(1)} MB/s)`;
}

export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
