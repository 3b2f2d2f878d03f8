// Scanline fill of convex polygons (already in pixel coordinates) into a coverage mask.

export interface PixelPoint {
  readonly x: number;
  readonly y: number;
}

/** Marks the pixels whose centres lie inside the convex polygon with `value`. */
export const fillConvex = (mask: Uint8Array, width: number, height: number, polygon: readonly PixelPoint[], value: number): void => {
  let minY = Infinity,
    maxY = -Infinity;
  for (const p of polygon) {
    if (p.y < minY) minY = p.y;
    if (p.y > maxY) maxY = p.y;
  }
  const y0 = Math.max(0, Math.ceil(minY - 0.5)),
    y1 = Math.min(height - 1, Math.floor(maxY - 0.5));
  for (let y = y0; y <= y1; y++) {
    const cy = y + 0.5;
    let left = Infinity,
      right = -Infinity;
    for (let i = 0; i < polygon.length; i++) {
      const a = polygon[i]!,
        b = polygon[(i + 1) % polygon.length]!;
      if ((a.y <= cy && b.y > cy) || (b.y <= cy && a.y > cy)) {
        const x = a.x + ((cy - a.y) / (b.y - a.y)) * (b.x - a.x);
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
    const xa = Math.max(0, Math.ceil(left - 0.5)),
      xb = Math.min(width - 1, Math.floor(right - 0.5));
    if (xb >= xa) mask.fill(value, y * width + xa, y * width + xb + 1);
  }
};
