/** An age or an RPO for people, rounded to one unit: "45s", "90m", "25h", "3d" (negative: "-5m"). */
export function formatAge(seconds: number): string {
  const s = Math.abs(seconds);
  const text = s < 120 ? `${Math.round(s)}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
  return seconds < 0 ? `-${text}` : text;
}
