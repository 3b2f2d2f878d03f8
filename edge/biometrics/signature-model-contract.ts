// What the signature model expects and returns; shared by the extractor (edge) and the script
// that builds the model (models/), so the two cannot drift apart.

/** Side of the square, rotation- and scale-normalised palm region fed to the model, in pixels. */
export const ROI_SIZE = 128;

export const MODEL_INPUT_VISIBLE = "visible";
export const MODEL_INPUT_NIR = "nir";
/** Per channel, the competitive-code filter responses on the template grid: [batch, orientations, grid, grid]. */
export const MODEL_OUTPUT_SURFACE_CODE = "surface_code";
export const MODEL_OUTPUT_VEINS_CODE = "veins_code";

export const DEFAULT_MODEL_PATH = new URL("../../models/palm-signature.onnx", import.meta.url);
