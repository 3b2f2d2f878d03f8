// The palm sensor as the edge agent sees it: something that captures what is in front of it.
// Frames carry two aligned 8-bit channels when the sensor has near-infrared illumination.

export interface PalmFrame {
  readonly width: number;
  readonly height: number;
  /** 8-bit grey, row-major, width * height bytes. */
  readonly visible: Uint8Array;
  /** Near-infrared channel aligned with `visible`, when the sensor has one. */
  readonly nir?: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  readonly capturedAt: number;
}

export interface PalmSensor {
  capture(): Promise<PalmFrame>;
}
