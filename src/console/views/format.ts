/** A number of seconds as an operator reads it: "30 days", "7 days", "1 hour", "90 s". */
export function duration(seconds: number): string {
  if (seconds === 0) return "0 (none)";
  const units: [number, string][] = [
    [86_400, "day"],
    [3_600, "hour"],
    [60, "minute"],
  ];
  for (const [size, unit] of units) {
    if (seconds % size === 0) {
      const count = seconds / size;
      return `${count} ${unit}${count === 1 ? "" : "s"}`;
    }
  }
  return `${seconds} s`;
}

export const yesNo = (value: boolean): string => (value ? "yes" : "no");
