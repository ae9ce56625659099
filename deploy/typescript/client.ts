/**
 * Front-end proof: a tiny typed client for the four S&OP services, written only against the
 * types that openapi-typescript generates from the committed OpenAPI documents
 * (deploy/contracts/<service>.openapi.json -> generated/<service>.ts).
 *
 * If a contract changes shape (a path, a parameter, a response field), `tsc --noEmit -p .`
 * fails here; tests/contracts/test_typescript.py runs it. No runtime dependencies: the
 * standard `fetch` API only (browsers, Node >= 18, Deno, Bun).
 */
import type {
  components as CapacityComponents,
  paths as CapacityPaths,
} from "./generated/capacity";
import type { components as CycleComponents, paths as CyclePaths } from "./generated/cycle";
import type { components as DemandComponents, paths as DemandPaths } from "./generated/demand";
import type {
  components as SupplyComponents,
  paths as SupplyPaths,
} from "./generated/supply";

// ---------------------------------------------------------------------------------------------
// Types read straight off the generated `paths` (the contract a front end codes against)
// ---------------------------------------------------------------------------------------------

/** `GET /api/v1/products` on demand: one page of the product master. */
export type DemandProductPage =
  DemandPaths["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"];
export type DemandProduct = DemandProductPage["items"][number];
export type DemandProductQuery = NonNullable<
  DemandPaths["/api/v1/products"]["get"]["parameters"]["query"]
>;

/** `GET /api/v1/products` on supply and capacity: their read model of demand's products. */
export type SupplyProductPage =
  SupplyPaths["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"];
export type CapacityProductPage =
  CapacityPaths["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"];

/** `GET /api/v1/cycles` on cycle: one page of S&OP cycles. */
export type CyclePage =
  CyclePaths["/api/v1/cycles"]["get"]["responses"]["200"]["content"]["application/json"];
export type Cycle = CycleComponents["schemas"]["CycleRead"];

/** `GET /api/v1/jobs/{job_id}`: every service runs long work as a job. */
export type Job =
  DemandPaths["/api/v1/jobs/{job_id}"]["get"]["responses"]["200"]["content"]["application/json"];
export type JobPathParams = DemandPaths["/api/v1/jobs/{job_id}"]["get"]["parameters"]["path"];

/** The one error body of the platform (RFC 9457), e.g. the 401 of `GET /api/v1/products`. */
export type ProblemDetails =
  DemandPaths["/api/v1/products"]["get"]["responses"]["401"]["content"]["application/problem+json"];
export type FieldError = DemandComponents["schemas"]["FieldError"];

// The platform promises one error body and one job resource: the four documents must agree.
// Each line fails on its own ("Type 'false' does not satisfy the constraint 'true'") when the
// two types differ; `any` never counts as the same type, so a generator that gave up fails too.
type IsAny<T> = 0 extends 1 & T ? true : false;
type Same<A, B> = true extends IsAny<A> | IsAny<B>
  ? false
  : [A] extends [B]
    ? [B] extends [A]
      ? true
      : false
    : false;
type Assert<T extends true> = T;
export type SharedShapes = [
  Assert<Same<ProblemDetails, SupplyComponents["schemas"]["ProblemDetails"]>>,
  Assert<Same<ProblemDetails, CapacityComponents["schemas"]["ProblemDetails"]>>,
  Assert<Same<ProblemDetails, CycleComponents["schemas"]["ProblemDetails"]>>,
  Assert<Same<Job, SupplyComponents["schemas"]["JobRead"]>>,
  Assert<Same<Job, CapacityComponents["schemas"]["JobRead"]>>,
  Assert<Same<Job, CycleComponents["schemas"]["JobRead"]>>,
  Assert<Same<SupplyProductPage, CapacityProductPage>>,
];

// ---------------------------------------------------------------------------------------------
// Generic plumbing: derive a GET operation's parameters and 200 body from any `paths`
// ---------------------------------------------------------------------------------------------

type GetOperation<Paths, P extends keyof Paths> = Paths[P] extends { get: infer Op } ? Op : never;
type JsonOk<Op> = Op extends { responses: { 200: { content: { "application/json": infer B } } } }
  ? B
  : never;
type QueryOf<Op> = Op extends { parameters: { query?: infer Q } } ? Q : never;
type PathOf<Op> = Op extends { parameters: { path: infer P } } ? P : never;
/** Paths that have a GET answering 200 with JSON. */
type GettablePath<Paths> = {
  [P in keyof Paths & string]: JsonOk<GetOperation<Paths, P>> extends never ? never : P;
}[keyof Paths & string];

// The plumbing must resolve to the real types, never to `never` or `any` (either would let
// every call below compile whatever the contract says).
export type PlumbingResolves = [
  Assert<Same<JsonOk<GetOperation<DemandPaths, "/api/v1/products">>, DemandProductPage>>,
  Assert<Same<QueryOf<GetOperation<DemandPaths, "/api/v1/products">>, DemandProductQuery>>,
  Assert<Same<PathOf<GetOperation<DemandPaths, "/api/v1/jobs/{job_id}">>, { job_id: string }>>,
  Assert<Same<JsonOk<GetOperation<CyclePaths, "/api/v1/jobs/{job_id}">>, Job>>,
  Assert<Same<JsonOk<GetOperation<CyclePaths, "/api/v1/cycles">>, CyclePage>>,
];

type Scalar = string | number | boolean | null | undefined;

export interface ClientOptions {
  /** e.g. `http://127.0.0.1:8101` (demand), `http://127.0.0.1:8104` (cycle) */
  baseUrl: string;
  /** bearer token (`make token ROLE=viewer`) */
  token: string;
  /** inject a fetch (tests, SSR); defaults to the global one */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** A non-2xx answer; `problem` is the RFC 9457 body when the service sent one. */
export class SopApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails | null;

  constructor(status: number, problem: ProblemDetails | null) {
    super(problem ? describeProblem(problem) : `HTTP ${status}`);
    this.name = "SopApiError";
    this.status = status;
    this.problem = problem;
  }
}

function isFieldError(value: unknown): value is FieldError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v["field"] === "string" &&
    typeof v["message"] === "string" &&
    (v["row"] === undefined || v["row"] === null || typeof v["row"] === "number")
  );
}

/** Narrows an unknown JSON body to ProblemDetails (the required members and `errors[]`). */
export function isProblemDetails(value: unknown): value is ProblemDetails {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  const errors = v["errors"];
  return (
    typeof v["type"] === "string" &&
    typeof v["title"] === "string" &&
    typeof v["status"] === "number" &&
    typeof v["code"] === "string" &&
    (errors === undefined ||
      errors === null ||
      (Array.isArray(errors) && errors.every(isFieldError)))
  );
}

/** Reads the problem document of an error response (`application/problem+json`), or null. */
export async function readProblem(response: Response): Promise<ProblemDetails | null> {
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) return null;
  try {
    const body: unknown = await response.json();
    return isProblemDetails(body) ? body : null;
  } catch {
    return null;
  }
}

/** One line for a toast or a log: code, detail, then each offending field (and bulk row). */
export function describeProblem(problem: ProblemDetails): string {
  const head = `${problem.status} ${problem.code}: ${problem.detail ?? problem.title}`;
  const fields = (problem.errors ?? []).map((e: FieldError) =>
    e.row == null ? `${e.field}: ${e.message}` : `row ${e.row} ${e.field}: ${e.message}`,
  );
  const trace = problem.trace_id ? ` (trace ${problem.trace_id})` : "";
  return [head, ...fields].join("; ") + trace;
}

function fillPath(template: string, params: Record<string, Scalar> | undefined): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

/** A GET bound to one service's `paths`: the path literal picks the parameter and body types. */
function getter<Paths>(options: ClientOptions) {
  const doFetch = options.fetch ?? fetch;
  return async function get<P extends GettablePath<Paths>>(
    path: P,
    params: {
      path?: PathOf<GetOperation<Paths, P>>;
      query?: QueryOf<GetOperation<Paths, P>>;
    } = {},
  ): Promise<JsonOk<GetOperation<Paths, P>>> {
    const url = new URL(
      fillPath(path, params.path as Record<string, Scalar> | undefined),
      options.baseUrl,
    );
    const query = (params.query ?? {}) as Record<string, Scalar>;
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const init: RequestInit = {
      method: "GET",
      headers: { Accept: "application/json", Authorization: `Bearer ${options.token}` },
    };
    if (options.signal) init.signal = options.signal;
    const response = await doFetch(url, init);
    if (!response.ok) throw new SopApiError(response.status, await readProblem(response));
    // The trust boundary: the body is the documented 200 schema.
    return (await response.json()) as JsonOk<GetOperation<Paths, P>>;
  };
}

// ---------------------------------------------------------------------------------------------
// One small client per service
// ---------------------------------------------------------------------------------------------

export function demandClient(options: ClientOptions) {
  const get = getter<DemandPaths>(options);
  return {
    listProducts: (query: DemandProductQuery = {}): Promise<DemandProductPage> =>
      get("/api/v1/products", { query }),
    getJob: (jobId: string): Promise<Job> => get("/api/v1/jobs/{job_id}", { path: { job_id: jobId } }),
  };
}

export function supplyClient(options: ClientOptions) {
  const get = getter<SupplyPaths>(options);
  return {
    listProducts: (family?: string): Promise<SupplyProductPage> =>
      get("/api/v1/products", { query: family === undefined ? {} : { family } }),
    getJob: (jobId: string): Promise<Job> => get("/api/v1/jobs/{job_id}", { path: { job_id: jobId } }),
  };
}

export function capacityClient(options: ClientOptions) {
  const get = getter<CapacityPaths>(options);
  return {
    listProducts: (limit = 100, offset = 0): Promise<CapacityProductPage> =>
      get("/api/v1/products", { query: { limit, offset } }),
    getJob: (jobId: string): Promise<Job> => get("/api/v1/jobs/{job_id}", { path: { job_id: jobId } }),
  };
}

export function cycleClient(options: ClientOptions) {
  const get = getter<CyclePaths>(options);
  return {
    listCycles: (limit = 12): Promise<CyclePage> => get("/api/v1/cycles", { query: { limit } }),
    getJob: (jobId: string): Promise<Job> => get("/api/v1/jobs/{job_id}", { path: { job_id: jobId } }),
  };
}

// ---------------------------------------------------------------------------------------------
// Small uses of the typed results
// ---------------------------------------------------------------------------------------------

/** Every product of demand, page by page (uses `total`, `limit`, `offset` of the page). */
export async function allDemandProducts(
  client: ReturnType<typeof demandClient>,
  query: Omit<DemandProductQuery, "limit" | "offset"> = {},
): Promise<DemandProduct[]> {
  const products: DemandProduct[] = [];
  for (let offset = 0; ; ) {
    const page = await client.listProducts({ ...query, limit: 1000, offset });
    products.push(...page.items);
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) return products;
  }
}

/** Product codes by family, e.g. for a family filter in a planning grid. */
export function codesByFamily(
  page: DemandProductPage | SupplyProductPage,
): Map<string, string[]> {
  const byFamily = new Map<string, string[]>();
  for (const product of page.items) {
    const codes = byFamily.get(product.family) ?? [];
    codes.push(product.code);
    byFamily.set(product.family, codes);
  }
  return byFamily;
}

/** The months of the cycles still open (anything not approved), newest first. */
export function openCycleMonths(page: CyclePage): string[] {
  return page.items
    .filter((cycle: Cycle) => cycle.status !== "approved")
    .map((cycle) => cycle.month)
    .sort()
    .reverse();
}

const TERMINAL_JOB_STATES: ReadonlySet<string> = new Set(["succeeded", "failed"]);

/** Polls a `202 Accepted` job until it succeeds (answers its `result`) or fails (throws). */
export async function waitForJob(
  client: { getJob: (jobId: string) => Promise<Job> },
  jobId: JobPathParams["job_id"],
  onProgress: (progress: number, message: string | null) => void = () => {},
  intervalMs = 1000,
): Promise<Job["result"]> {
  for (;;) {
    const job = await client.getJob(jobId);
    onProgress(job.progress, job.message ?? null);
    if (TERMINAL_JOB_STATES.has(job.state)) {
      if (job.state === "failed") throw new Error(`job ${job.id} (${job.kind}) failed: ${job.error ?? "?"}`);
      return job.result;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
