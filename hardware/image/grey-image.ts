// An 8-bit single-channel image, what palm images reduce to; colour is converted with Rec. 601
// luma weights on the stored (gamma-encoded) values.
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

export const luma = (r: number, g: number, b: number): number => Math.round(0.299 * r + 0.587 * g + 0.114 * b);
