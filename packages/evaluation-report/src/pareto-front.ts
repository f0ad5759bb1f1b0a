/** A point to minimise in both coordinates (here: bits per element and a quality loss). */
export interface ParetoPoint {
  readonly x: number;
  readonly y: number;
}

/** True when `a` is at least as good as `b` in both coordinates and strictly better in one. */
export function dominates(a: ParetoPoint, b: ParetoPoint): boolean {
  return a.x <= b.x && a.y <= b.y && (a.x < b.x || a.y < b.y);
}

/**
 * The items no other item dominates (minimising x and y), sorted by x then y. Items with a non-finite coordinate
 * are left out: they cannot be placed. Equal points are all kept (neither dominates the other).
 * Sort then sweep: O(n log n).
 */
export function paretoFront<T>(items: readonly T[], coordinates: (item: T) => ParetoPoint): T[] {
  const placed = items
    .map((item) => ({ item, point: coordinates(item) }))
    .filter(({ point }) => Number.isFinite(point.x) && Number.isFinite(point.y))
    .sort((a, b) => a.point.x - b.point.x || a.point.y - b.point.y);
  const front: { item: T; point: ParetoPoint }[] = [];
  let bestY = Number.POSITIVE_INFINITY;
  for (const entry of placed) {
    const last = front[front.length - 1];
    const equalToLast = last !== undefined && last.point.x === entry.point.x && last.point.y === entry.point.y;
    // Everything sorted earlier has a smaller x, or the same x and a y no larger: the entry is undominated exactly
    // when its y is below all of theirs, or it is a copy of an undominated point (copies sort next to each other).
    if (entry.point.y < bestY || equalToLast) {
      front.push(entry);
      bestY = Math.min(bestY, entry.point.y);
    }
  }
  return front.map(({ item }) => item);
}
