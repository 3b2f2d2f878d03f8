// The live status of `palmline store`, `gate` and `kiosk`: on a terminal one line per device,
// redrawn in place; in a pipe one line per decision; with --json nothing but the summary.
import { expect, test } from "vitest";
import { boardFrame, decisionLine, statusLine, StatusBoard, type Decision } from "../../cli/simulated-site.ts";

/** A terminal just capable enough for the board: "cursor up n" and "clear line". */
class Screen {
  readonly rows: string[] = [];
  #row = 0;
  readonly isTTY = true;

  write(text: string): void {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: parses the board's ANSI escapes
    for (const part of text.split(/(\x1b\[\d*[AK]|\n)/).filter((p) => p !== "")) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: parses the board's ANSI escapes
      const up = /^\x1b\[(\d+)A$/.exec(part);
      if (up !== null) this.#row = Math.max(0, this.#row - Number(up[1]));
      else if (part === "\x1b[2K") this.rows[this.#row] = "";
      else if (part === "\n") this.#row++;
      else this.rows[this.#row] = (this.rows[this.#row] ?? "") + part;
    }
  }
}

class Pipe {
  readonly written: string[] = [];
  readonly isTTY = false;
  write(text: string): void {
    this.written.push(text);
  }
}

const decision = (right: boolean): Decision => ({
  device: "lane-2",
  who: "person 3",
  expected: "approved",
  result: { kind: right ? "approved" : "declined", text: right ? "Approved 12.99 EUR VISA ****4242" : "Declined: card_declined", latencyMs: 87.4 },
  right,
});

test("a device's status line shows its mode, its link, its counter and its display", () => {
  expect(statusLine({ name: "lane-1", mode: "checkout", link: "online (3 ms)", detail: "2 served", display: "Approved 1.00 EUR" })).toBe(
    "  lane-1     | checkout | online (3 ms) | 2 served | Approved 1.00 EUR",
  );
  expect(statusLine({ name: "kiosk-1", mode: undefined, link: "offline", display: "Ready" })).toBe("  kiosk-1    | any flow | offline | Ready");
});

test("a redraw backs up over the lines drawn before and clears each one", () => {
  expect(boardFrame(["a", "b"], 0)).toBe("\x1b[2Ka\n\x1b[2Kb\n");
  expect(boardFrame(["a", "b"], 2)).toBe("\x1b[2A\x1b[2Ka\n\x1b[2Kb\n");
});

test("on a terminal the board keeps one line per device, updated in place", () => {
  const screen = new Screen();
  const board = new StatusBoard(true, screen);
  const display = { current: "Ready" };
  let served = 0;
  board.track("lane-1", { mode: "checkout", status: () => "online" }, display, () => `${served} served`);
  board.track("gate-1", { mode: "gate", status: () => "offline" }, { current: "Ready" });
  board.draw();
  display.current = "Approved 5.00 EUR";
  served = 1;
  board.decision(decision(true)); // a decision redraws rather than scrolling
  board.stop();
  expect(screen.rows).toEqual(["  lane-1     | checkout | online | 1 served | Approved 5.00 EUR", "  gate-1     | gate | offline | Ready"]);
});

test("in a pipe every decision is one plain line, and the board draws nothing", () => {
  const pipe = new Pipe();
  const board = new StatusBoard(true, pipe);
  board.track("lane-2", { mode: "checkout", status: () => "online" }, { current: "Ready" });
  board.start();
  board.decision(decision(true));
  board.decision(decision(false));
  board.stop();
  expect(pipe.written).toEqual([`${decisionLine(decision(true))}\n`, `${decisionLine(decision(false))}\n`]);
  expect(pipe.written.join("")).not.toContain("\x1b");
});

test("a decision line says right or wrong, where, who, how fast and what was shown", () => {
  expect(decisionLine(decision(true))).toBe("  ok   | lane-2     person 3        87 ms  Approved 12.99 EUR VISA ****4242");
  expect(decisionLine(decision(false))).toBe("  WRONG | lane-2     person 3        87 ms  Declined: card_declined  (expected approved)");
});

test("with --json the board writes nothing at all, terminal or not", () => {
  const screen = new Screen();
  const board = new StatusBoard(false, screen);
  board.track("lane-1", { mode: "checkout", status: () => "online" }, { current: "Ready" });
  board.start();
  board.decision(decision(true));
  board.stop();
  expect(screen.rows).toEqual([]);
});
