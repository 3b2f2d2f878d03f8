// One router for every HTTP surface (the region node with its operator API, portal and metrics;
// the payment processor simulator; the inspector). find-my-way matches method and path; this file
// holds the conventions the surfaces share: answers written in one place, JSON request bodies read
// up to a limit with a typed failure when they cannot be read, and each surface's own mapping from
// a failure to an answer, so a surface keeps its wording while none re-implements the plumbing.
// It depends on nothing in the project, so cloud/ and inspector/ both build on it.
import { Data } from "effect";
import FindMyWay from "find-my-way";
import type { IncomingMessage, ServerResponse } from "node:http";

export class RequestBodyTooLarge extends Data.TaggedError("RequestBodyTooLarge")<{ readonly limitBytes: number }> {
  override get message() {
    return "request body too large";
  }
}

export class RequestBodyNotJson extends Data.TaggedError("RequestBodyNotJson")<{ readonly reason: string }> {
  override get message() {
    return this.reason;
  }
}

export class RequestBodyNotObject extends Data.TaggedError("RequestBodyNotObject")<{ readonly received: "array" | "null" | "string" | "number" | "boolean" }> {
  override get message() {
    return "body must be a JSON object";
  }
}

export type RequestBodyFailure = RequestBodyTooLarge | RequestBodyNotJson | RequestBodyNotObject;

export type JsonObject = Record<string, unknown>;
type Headers = Readonly<Record<string, string>>;

/** What a route answers: a status, a body already serialised, its content type, extra headers. */
export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Headers;
}

export const json = (status: number, body: unknown, headers?: Headers): Answer => ({
  status,
  contentType: "application/json",
  body: JSON.stringify(body),
  ...(headers !== undefined ? { headers } : {}),
});

export const text = (status: number, contentType: string, body: string): Answer => ({ status, contentType, body });

export interface RouteRequest {
  readonly req: IncomingMessage;
  /** For a route that writes its answer itself (a stream); it then returns undefined. */
  readonly res: ServerResponse;
  /** Path parameters, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The body as a JSON object ({} when empty), read up to the routes' limit. */
  body(): Promise<JsonObject>;
}

export type RouteHandler = (request: RouteRequest) => Answer | undefined | Promise<Answer | undefined>;

/** The request a failure came from, and the hosting server's log for failures that are its own fault. */
export interface FailedRequest {
  readonly method: string;
  readonly path: string;
  readonly log: (line: string) => void;
}

export interface HttpRoutesOptions {
  /** Headers on every answer of these routes (after content-type), e.g. cache-control. */
  readonly headers?: Headers;
  /** The largest request body a route reads. */
  readonly maxBodyBytes: number;
  /** Turns anything a route throws (a RequestBodyFailure included) into an answer. */
  readonly failure: (error: unknown, request: FailedRequest) => Answer;
}

type Method = "GET" | "POST" | "PUT" | "DELETE";
const ANY_METHOD: ("GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS")[] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
interface Route {
  readonly method: Method | "ALL";
  readonly path: string;
  readonly handler: RouteHandler;
}

/** A surface's routes and the conventions they share; mounted on an HttpRouter. */
export class HttpRoutes {
  readonly options: HttpRoutesOptions;
  readonly routes: Route[] = [];

  constructor(options: HttpRoutesOptions) {
    this.options = options;
  }

  on(method: Method | "ALL", path: string, handler: RouteHandler): this {
    this.routes.push({ method, path, handler });
    return this;
  }
  get(path: string, handler: RouteHandler): this {
    return this.on("GET", path, handler);
  }
  post(path: string, handler: RouteHandler): this {
    return this.on("POST", path, handler);
  }
  put(path: string, handler: RouteHandler): this {
    return this.on("PUT", path, handler);
  }
  delete(path: string, handler: RouteHandler): this {
    return this.on("DELETE", path, handler);
  }
}

/** A JSON body as an object: {} when empty, otherwise the typed failure of why it is not one. */
const parseJsonObject = (chunks: readonly Buffer[]): JsonObject => {
  if (chunks.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new RequestBodyNotJson({ reason: error instanceof Error ? error.message : String(error) });
  }
  if (parsed === null) throw new RequestBodyNotObject({ received: "null" });
  if (Array.isArray(parsed)) throw new RequestBodyNotObject({ received: "array" });
  if (typeof parsed !== "object") throw new RequestBodyNotObject({ received: typeof parsed as "string" | "number" | "boolean" });
  return parsed as JsonObject;
};

/**
 * Reads the whole body; past the limit it keeps draining without keeping the bytes, so the client
 * is still reading when the refusal comes. Events rather than the async iterator: this is on
 * every request that carries a body, and the iterator costs several ticks more.
 */
const readJsonObject = (req: IncomingMessage, maxBodyBytes: number): Promise<JsonObject> => {
  // HTTP/1.1: no length and no chunked encoding means no body.
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) return Promise.resolve({});
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= maxBodyBytes) chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (size > maxBodyBytes) return reject(new RequestBodyTooLarge({ limitBytes: maxBodyBytes }));
      try {
        resolve(parseJsonObject(chunks));
      } catch (error) {
        reject(error);
      }
    });
  });
};

const pathOf = (req: IncomingMessage) => {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
};

export interface HttpRouterOptions {
  /** The answer to a method and path no route takes. */
  readonly notFound: Answer;
  readonly log?: (line: string) => void;
}

/** Matches each request to a mounted route; a request listener for node:http's createServer. */
export class HttpRouter {
  readonly #router = FindMyWay({
    // find-my-way's default (100 characters) would answer a longer id in a path with not-found; the
    // routes that take ids check their length themselves.
    maxParamLength: 512,
    defaultRoute: (_req, res) => this.#write(res, this.#notFound, undefined),
  });
  readonly #notFound: Answer;
  readonly #log: (line: string) => void;

  constructor(options: HttpRouterOptions) {
    this.#notFound = options.notFound;
    this.#log = options.log ?? (() => {});
  }

  mount(routes: HttpRoutes): this {
    for (const route of routes.routes) {
      const methods = route.method === "ALL" ? ANY_METHOD : route.method;
      this.#router.on(methods, route.path, (req, res, params) => this.#run(routes.options, route.handler, req, res, params as Record<string, string>));
    }
    return this;
  }

  /** The request listener: every request goes through here. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.#router.lookup(req, res);
  };

  #run(options: HttpRoutesOptions, handler: RouteHandler, req: IncomingMessage, res: ServerResponse, params: Record<string, string>): void {
    let bodyRead: Promise<JsonObject> | undefined;
    const request: RouteRequest = { req, res, params, body: () => (bodyRead ??= readJsonObject(req, options.maxBodyBytes)) };
    const fail = (error: unknown) => {
      if (res.headersSent) return;
      this.#write(res, options.failure(error, { method: req.method ?? "GET", path: pathOf(req), log: this.#log }), options.headers);
    };
    try {
      const answer = handler(request);
      if (answer instanceof Promise) answer.then((a) => a !== undefined && this.#write(res, a, options.headers), fail);
      else if (answer !== undefined) this.#write(res, answer, options.headers);
    } catch (error) {
      fail(error);
    }
  }

  #write(res: ServerResponse, answer: Answer, headers: Headers | undefined): void {
    res.writeHead(answer.status, { "content-type": answer.contentType, ...headers, ...answer.headers });
    res.end(answer.body);
  }
}
