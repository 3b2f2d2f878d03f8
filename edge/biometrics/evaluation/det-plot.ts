// Draws a detection-error trade-off curve (FNMR against FMR, both on log scales from 1e-5 to 1)
// as a PNG, with decade grid lines and labels in a small built-in bitmap font.
import sharp from "sharp";

const W = 640,
  H = 520,
  LEFT = 70,
  RIGHT = 20,
  TOP = 30,
  BOTTOM = 60;
const DECADES = 5;

// 3x5 glyphs, rows top to bottom, bits left to right.
const GLYPHS: Record<string, readonly number[]> = {
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [7, 1, 7, 4, 7],
  "3": [7, 1, 7, 1, 7],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7],
  "6": [7, 4, 7, 5, 7],
  "7": [7, 1, 1, 1, 1],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 7],
  e: [0, 7, 7, 4, 7],
  "-": [0, 0, 7, 0, 0],
  ".": [0, 0, 0, 0, 2],
  F: [7, 4, 6, 4, 4],
  M: [5, 7, 7, 5, 5],
  N: [7, 5, 5, 5, 5],
  R: [6, 5, 6, 5, 5],
  E: [7, 4, 6, 4, 7],
  " ": [0, 0, 0, 0, 0],
  "=": [0, 7, 0, 7, 0],
  "%": [5, 1, 2, 4, 5],
};

export const drawDetCurve = async (curve: readonly { fmr: number; fnmr: number }[], eer: number): Promise<Uint8Array> => {
  const rgb = new Uint8Array(W * H * 3).fill(255);
  const set = (x: number, y: number, c: readonly [number, number, number]) => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const i = (Math.round(y) * W + Math.round(x)) * 3;
    rgb[i] = c[0];
    rgb[i + 1] = c[1];
    rgb[i + 2] = c[2];
  };
  const text = (s: string, x: number, y: number, scale = 2) => {
    [...s].forEach((ch, k) => {
      const g = GLYPHS[ch] ?? GLYPHS[" "]!;
      g.forEach((bits, row) => {
        for (let col = 0; col < 3; col++) {
          if ((bits >> (2 - col)) & 1) {
            for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) set(x + (k * 4 + col) * scale + dx, y + row * scale + dy, [0, 0, 0]);
          }
        }
      });
    });
  };
  const plotW = W - LEFT - RIGHT,
    plotH = H - TOP - BOTTOM;
  const px = (rate: number) => LEFT + ((Math.log10(Math.max(rate, 10 ** -DECADES)) + DECADES) / DECADES) * plotW;
  const py = (rate: number) => TOP + plotH - ((Math.log10(Math.max(rate, 10 ** -DECADES)) + DECADES) / DECADES) * plotH;
  for (let k = 0; k <= DECADES; k++) {
    const rate = 10 ** -k;
    for (let t = 0; t <= plotH; t++) set(px(rate), TOP + t, k === 0 || k === DECADES ? [0, 0, 0] : [200, 200, 200]);
    for (let t = 0; t <= plotW; t++) set(LEFT + t, py(rate), k === 0 || k === DECADES ? [0, 0, 0] : [200, 200, 200]);
    const label = k === 0 ? "1" : `1e-${k}`;
    text(label, px(rate) - label.length * 4, TOP + plotH + 8);
    text(label, LEFT - 10 - label.length * 8, py(rate) - 5);
  }
  text("FMR", LEFT + plotW / 2 - 12, H - 24);
  text("FNMR", 8, TOP - 20);
  text(`EER=${(eer * 100).toFixed(3)}%`, LEFT + plotW - 150, TOP + 10);
  // The EER line FMR = FNMR.
  for (let t = 0; t <= plotW; t++) set(LEFT + t, TOP + plotH - (t / plotW) * plotH, [230, 160, 160]);
  let prev: { x: number; y: number } | undefined;
  for (const p of curve) {
    if (p.fmr <= 0 && p.fnmr <= 0) continue;
    const cur = { x: px(p.fmr), y: py(p.fnmr) };
    if (prev !== undefined) {
      const steps = Math.max(1, Math.ceil(Math.hypot(cur.x - prev.x, cur.y - prev.y)));
      for (let s = 0; s <= steps; s++) {
        const x = prev.x + ((cur.x - prev.x) * s) / steps,
          y = prev.y + ((cur.y - prev.y) * s) / steps;
        set(x, y, [20, 60, 200]);
        set(x + 1, y, [20, 60, 200]);
        set(x, y + 1, [20, 60, 200]);
      }
    }
    prev = cur;
  }
  return sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
};
